// Errors the user caused are shown where they were caused, once: an evaluation typed in the
// debug console fails there without a pop-up, and stopping the program on request is not news.
import * as assert from 'node:assert/strict';
import { withAdapter, sleep } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { rawRequest } from './support/responses';

eachPython('editor messages', (py) => {
  it('an evaluation error in the console or a watch is not popped up (showUser false)', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('basic_add.py'), [12]);
      const frameId = (await h.topFrame(stop.body.threadId)).id;
      for (const context of ['repl', 'watch', 'hover']) {
        const response = await rawRequest(h, 'evaluate', { expression: 'undefined_name + 1', frameId, context });
        assert.equal(response.success, false, context);
        assert.match(response.message ?? '', /NameError: name 'undefined_name' is not defined/, context);
        const error = (response.body as { error?: { showUser?: boolean } } | undefined)?.error;
        assert.equal(error?.showUser, false, `${context}: ${JSON.stringify(response.body)}`);
      }
    });
  });

  it('evaluating while the program runs is refused in the console without a pop-up', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('long_sleep.py') });
      const response = await rawRequest(h, 'evaluate', { expression: '1 + 1', context: 'repl' });
      assert.equal(response.success, false);
      assert.match(response.message ?? '', /running/);
      assert.equal((response.body as { error?: { showUser?: boolean } }).error?.showUser, false);
    });
  });

  it('terminate ends the program without an important output (the user asked for it)', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('long_sleep.py') });
      await sleep(300);
      const since = h.mark();
      await h.dc.terminateRequest({});
      assert.equal(await h.exitCode(since), 143);
      assert.equal(h.output('important'), '', 'no important output (a pop-up in VS Code)');
      assert.match(h.output('console', since), /SIGTERM/, 'the console still says how it ended');
    });
  });

  it('a signal nobody asked for is still important', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('wait_to_be_killed.py') });
      const pid = Number(/pid (\d+)/.exec(await h.waitForOutput('stdout', /pid \d+\n/))?.[1]);
      process.kill(pid, 'SIGTERM');
      assert.equal(await h.exitCode(0), 143);
      assert.match(h.output('important'), /SIGTERM/);
    });
  });
});
