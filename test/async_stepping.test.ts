// docs/async-semantics.md rules 1-5 and 7: a step belongs to the task that stopped. Three
// workers run the same coroutine; worker-2 (conditional breakpoints `n == 2`) is always the
// slowest to resume, so a step that ends in another task shows up as another thread id and
// another `n`.
import * as assert from 'node:assert/strict';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { assertAt, topOf, eachPythonAndLoop, evaluate, launchAsync, lineOf, setBreakpoints, stepTo, threads, type Loop, TASK_ID_BASE } from './async_support';

const program = fixture('async_steps.py');
const L = (marker: string) => lineOf(program, marker);
const W2 = 'n == 2';

/** Stops worker-2 at `marker` and checks that the program runs on the loop under test. */
async function stopWorker2(h: Harness, py: Python, loop: Loop, marker: string): Promise<Stopped> {
  const stop = await launchAsync(h, py, program, [{ line: L(marker), condition: W2 }], { loop });
  assert.equal(stop.body.reason, 'breakpoint');
  const top = await assertAt(h, stop.body.threadId, program, { name: 'scenario', lines: [L(marker)], n: '2' }, 'breakpoint');
  const loopModule = await evaluate(h, top.id, 'type(asyncio.get_running_loop()).__module__');
  assert.match(loopModule, loop.args.length > 0 ? /^'uvloop/ : /^'asyncio/);
  return stop;
}

const stepsOver: Array<[string, string, string]> = [
  ['`await coro()`', 'AWAIT_CORO', 'AFTER_CORO'],
  ['`await asyncio.sleep()`', 'AWAIT_SLEEP', 'AFTER_SLEEP'],
  ['`await fut`', 'AWAIT_FUT', 'AFTER_FUT'],
  ['`await queue.get()`', 'AWAIT_QUEUE', 'AFTER_QUEUE'],
  ['`async with` (without entering the user-defined __aenter__)', 'ASYNC_WITH', 'IN_WITH'],
  ['`async for`', 'ASYNC_FOR', 'IN_FOR'],
  ['`await asyncio.gather()`', 'AWAIT_GATHER', 'AFTER_GATHER'],
  ['`await task`', 'AWAIT_TASK', 'AFTER_TASK'],
  ['`await loop.run_in_executor()`', 'AWAIT_EXEC', 'AFTER_EXEC'],
];

const stepsInLikeOver: Array<[string, string, string]> = [
  ['`await asyncio.sleep()`', 'AWAIT_SLEEP', 'AFTER_SLEEP'],
  ['`await queue.get()`', 'AWAIT_QUEUE', 'AFTER_QUEUE'],
  ['`await fut`', 'AWAIT_FUT', 'AFTER_FUT'],
];

eachPythonAndLoop('async stepping', true, (py, loop) => {
  for (const [what, from, to] of stepsOver) {
    it(`rule 1: step over ${what} stops at the next line of the same task`, async () => {
      await withAdapter(async (h) => {
        const stop = await stopWorker2(h, py, loop, from);
        await stepTo(h, 'next', stop.body.threadId, program, { name: 'scenario', lines: [L(to)], n: '2' });
      });
    });
  }

  it('rule 1: step over a TaskGroup block stops after the block, in the same task', async () => {
    await withAdapter(async (h) => {
      const stop = await stopWorker2(h, py, loop, 'TG_BODY');
      let line = L('TG_BODY');
      // The block's exit is reported on the `async with` line on some versions: one step more.
      for (let i = 0; i < 3 && line !== L('TG_AFTER'); i++) {
        const step = await stepTo(h, 'next', stop.body.threadId, program, { name: 'scenario', lines: [L('TG_ENTER'), L('TG_AFTER')], n: '2' });
        line = (await topOf(h, step.body.threadId)).line;
      }
      assert.equal(line, L('TG_AFTER'));
    });
  });

  it('rule 2: step in on `await coro()` stops at the first line of the coroutine', async () => {
    await withAdapter(async (h) => {
      const stop = await stopWorker2(h, py, loop, 'AWAIT_CORO');
      await stepTo(h, 'stepIn', stop.body.threadId, program, { name: 'child', lines: [L('CHILD_FIRST')], n: '2' });
    });
  });

  for (const [what, from, to] of stepsInLikeOver) {
    it(`rule 2: step in on a library await (${what}) behaves like step over`, async () => {
      await withAdapter(async (h) => {
        const stop = await stopWorker2(h, py, loop, from);
        await stepTo(h, 'stepIn', stop.body.threadId, program, { name: 'scenario', lines: [L(to)], n: '2' });
      });
    });
  }

  it('rule 5: step in on `async with` enters the user-defined __aenter__', async () => {
    await withAdapter(async (h) => {
      const stop = await stopWorker2(h, py, loop, 'ASYNC_WITH');
      const step = await stepTo(h, 'stepIn', stop.body.threadId, program, { name: ['__aenter__', 'Resource.__aenter__'], lines: [L('AENTER_FIRST')] });
      const self = await evaluate(h, (await topOf(h, step.body.threadId)).id, 'self.n');
      assert.equal(self, '2', 'inside the __aenter__ of worker-2');
    });
  });

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
