// Where a child's session is served: by the parent's adapter process, on the port the child's
// configuration names in `debugServer` (VS Code connects there), which attaches to that
// adapter's announced children only; or by a new adapter process, for a client that ignores
// `debugServer`.
import * as assert from 'node:assert/strict';
import { lineOf } from './async_support';
import { SessionTree } from './support/children';
import { Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

const childProgram = fixture('children_child.py');
const popen = fixture('children_popen.py');

eachPython('child sessions: where they are served', (py) => {
  const line = lineOf(childProgram, 'CHILD-BREAK');
  const configure = async (h: Harness) => {
    await h.dc.setBreakpointsRequest({ source: { path: childProgram }, breakpoints: [{ line }] });
  };

  /** Launches the popen fixture in `tree`; its first child stops at the breakpoint. */
  async function withStoppedChild(newAdapters: boolean, body: (h: Harness, tree: SessionTree, since: number) => Promise<void>): Promise<void> {
    const tree = new SessionTree(configure, newAdapters);
    const h = await Harness.start();
    try {
      const since = h.mark();
      await tree.launch(h, py, { program: popen, console: 'internalConsole' });
      await body(h, tree, since);
    } finally {
      await tree.close();
      await h.close();
    }
  }

  it('by the parent\'s adapter: debugServer names it, and it serves nothing but the announced children', async () => {
    await withStoppedChild(false, async (h, tree, since) => {
      const child = await tree.session(/children_child\.py 20 3/);
      const stop = await child.h.waitStopped(0);
      const port = child.configuration.debugServer;
      assert.equal(typeof port, 'number');
      assert.throws(() => child.h.adapter, /served by another adapter/, 'no adapter process of its own');
      const stranger = await Harness.served(port as number);
      try {
        await stranger.dc.initializeRequest();
        await assert.rejects(stranger.dc.launchRequest({ program: childProgram } as never), /child processes only/);
        const connect = child.configuration.connect as { port: number; token: string };
        await assert.rejects(stranger.dc.attachRequest({ connect: { port: connect.port, token: 'not-the-token' } } as never), /child processes only/);
        await assert.rejects(stranger.dc.attachRequest({ connect: { port: connect.port + 1, token: connect.token } } as never), /child processes only/);
      } finally {
        await stranger.close();
      }
      await child.h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since, 30_000), 0);
      assert.equal(await child.h.exitCode(0, 30_000), 3);
      assert.deepEqual(await tree.survivors(), []);
    });
  });

  it('by a new adapter process, for a client that ignores debugServer: the child stops and ends the same', async () => {
    await withStoppedChild(true, async (h, tree, since) => {
      const child = await tree.session(/children_child\.py 20 3/);
      assert.ok(child.h.adapter.pid !== undefined && child.h.adapter.pid !== h.adapter.pid);
      const stop = await child.h.waitStopped(0);
      assert.equal((await child.h.topFrame(stop.body.threadId)).line, line);
      await child.h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since, 30_000), 0);
      assert.equal(await child.h.exitCode(0, 30_000), 3);
      assert.deepEqual(await tree.survivors(), []);
    });
  });
});
