// docs/async-semantics.md rules 3, 4, 5 (executor code) and 7: steps that leave a coroutine (its
// last line, the end of a task) go to the task that awaits it, a breakpoint of another task met
// during a step ends the step, and executor code keeps its steps in its thread. The program and
// worker-2's stop are async_stepping.test.ts's (async_steps_support.ts).
import * as assert from 'node:assert/strict';
import { withAdapter } from './support/harness';
import { it } from './support/matrix';
import { assertAt, topOf, eachPythonAndLoop, launchAsync, setBreakpoints, stepTo, threads, TASK_ID_BASE } from './async_support';
import { L, program, stopWorker2, W2 } from './async_steps_support';

eachPythonAndLoop('async stepping: leaving a coroutine', true, (py, loop) => {
  for (const command of ['next', 'stepIn', 'stepOut'] as const) {
    it(`rule 3: ${command} at the last line of an awaited coroutine stops at the awaiting line`, async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, program, [{ line: L('CHILD_LAST'), condition: W2 }], { loop });
        await assertAt(h, stop.body.threadId, program, { name: 'child', lines: [L('CHILD_LAST')], n: '2' }, 'breakpoint');
        await stepTo(h, command, stop.body.threadId, program, { name: 'scenario', lines: [L('AWAIT_CORO')], n: '2' });
      });
    });
  }

  it('rule 3: step out of an awaited coroutine from its first line', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: L('CHILD_FIRST'), condition: W2 }], { loop });
      await stepTo(h, 'stepOut', stop.body.threadId, program, { name: 'scenario', lines: [L('AWAIT_CORO')], n: '2' });
    });
  });

  for (const command of ['next', 'stepIn', 'stepOut'] as const) {
    it(`rule 4: ${command} at the end of a task's top coroutine stops in the task that awaits it`, async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, program, [{ line: L('TASK_LAST'), condition: W2 }], { loop });
        await assertAt(h, stop.body.threadId, program, { name: 'scenario', lines: [L('TASK_LAST')], n: '2' }, 'breakpoint');
        const main = (await threads(h)).find((t) => t.name === 'Task: main (Task-1)');
        const since = h.mark();
        await h.dc[`${command}Request`]({ threadId: stop.body.threadId });
        const next = await h.waitStopped(since);
        assert.equal(next.body.reason, 'step');
        await assertAt(h, next.body.threadId, program, { name: 'main', lines: [L('MAIN_GATHER'), L('MAIN_AFTER_GATHER')] }, command);
        assert.ok(main, 'the awaiting task is listed as a thread');
        assert.equal(next.body.threadId, main.id, 'the step ends in the thread of the awaiting task');
      });
    });
  }

  it('rule 4: stepping over the end of a task that nothing awaits is a continue', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: L('LONELY_LAST') }, { line: L('MAIN_AFTER_ORPHAN') }], { loop });
      await assertAt(h, stop.body.threadId, program, { name: 'lonely', lines: [L('LONELY_LAST')] }, 'breakpoint');
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const next = await h.waitStopped(since);
      assert.equal(next.body.reason, 'breakpoint', 'the next stop is the breakpoint, not a step');
      await assertAt(h, next.body.threadId, program, { name: 'main', lines: [L('MAIN_AFTER_ORPHAN')] }, 'after the lonely task');
    });
  });

  it('rule 7: a breakpoint in another task hit during a step stops there and ends the step', async () => {
    await withAdapter(async (h) => {
      const stop = await stopWorker2(h, py, loop, 'AWAIT_SLEEP');
      await setBreakpoints(h, program, [{ line: L('AWAIT_SLEEP'), condition: W2 }, { line: L('AFTER_SLEEP'), condition: 'n == 3' }]);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const hit = await h.waitStopped(since);
      assert.equal(hit.body.reason, 'breakpoint');
      assert.notEqual(hit.body.threadId, stop.body.threadId, 'worker-3 is another thread');
      await assertAt(h, hit.body.threadId, program, { name: 'scenario', lines: [L('AFTER_SLEEP')], n: '3' }, 'breakpoint in worker-3');
      await setBreakpoints(h, program, []);
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: hit.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
      const stray = h.history.slice(resumed).filter((e) => e.event === 'stopped');
      assert.deepEqual(stray, [], 'the abandoned step of worker-2 never stops');
    });
  });

  it('rule 5: steps in `run_in_executor` code stay in its thread and never enter executor frames', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: L('BLOCK_FIRST'), condition: W2 }], { loop });
      assert.ok(stop.body.threadId < TASK_ID_BASE, 'executor code runs in a real thread, not a task');
      const body = [L('BLOCK_FIRST') + 1, L('BLOCK_FIRST') + 2, L('BLOCK_ADD'), L('BLOCK_LAST')];
      for (let i = 0; i < 4; i++) {
        await stepTo(h, 'next', stop.body.threadId, program, { name: 'blocking', lines: body, n: '2' });
      }
    });
  });

  it('rule 5: stepping over the end of executor code does not stop in executor or loop frames', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: L('BLOCK_LAST'), condition: W2 }, { line: L('MAIN_AFTER_GATHER') }], { loop });
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const next = await h.waitStopped(since);
      const top = await topOf(h, next.body.threadId);
      assert.equal(top.source?.path, program, `stopped in ${top.name} ${top.source?.path}:${top.line}`);
    });
  });
});
