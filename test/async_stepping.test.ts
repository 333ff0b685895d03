// docs/async-semantics.md rules 1, 2 and 5 (`async with`): a step over or into an await belongs
// to the task that stopped. Three workers run the same coroutine; worker-2 (conditional
// breakpoints `n == 2`) is always the slowest to resume, so a step that ends in another task
// shows up as another thread id and another `n`. Rules 3, 4, 7 and executor code:
// async_stepping_ends.test.ts.
import * as assert from 'node:assert/strict';
import { withAdapter } from './support/harness';
import { it } from './support/matrix';
import { topOf, eachPythonAndLoop, evaluate, stepTo } from './async_support';
import { L, program, stopWorker2 } from './async_steps_support';

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
});
