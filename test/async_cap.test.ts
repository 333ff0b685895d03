// The threads list with 1,501 tasks: capped at maxTaskThreads (stopped task included), one
// output event that says how many were left out, and the full table through tasklens/taskTable.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { eachPythonAndLoop, launchAsync, lineOf, TASK_ID_BASE, threads } from './async_support';

const program = fixture('async_many.py');
const TOTAL_TASKS = 1501;
const NOTICE = /(\d+) asyncio tasks are not in the threads list/;

function notices(h: Harness, since: number): number[] {
  return [...h.output('console', since).matchAll(new RegExp(NOTICE.source, 'g'))].map((m) => Number(m[1]));
}

function taskCount(list: DebugProtocol.Thread[]): number {
  return list.filter((t) => t.id >= TASK_ID_BASE).length;
}

eachPythonAndLoop('async threads cap', false, (py) => {
  it('caps the list at 1,000 tasks, keeps the stopped one, and says once how many were left out', async () => {
    await withAdapter(async (h) => {
      const since = h.mark();
      const stop = await launchAsync(h, py, program, [{ line: lineOf(program, 'WAITER_BP') }]);
      const list = await threads(h);
      assert.equal(taskCount(list), 1000);
      assert.equal(list.find((t) => t.id === stop.body.threadId)?.name, 'Task: waiter (waiter-1499)');
      await h.waitForOutput('console', NOTICE);
      assert.deepEqual(notices(h, since), [TOTAL_TASKS - 1000]);
      assert.match(h.output('console', since), /maxTaskThreads/);
      assert.match(h.output('console', since), /tasklens\/taskTable/);
      await threads(h);
      assert.deepEqual(notices(h, since), [TOTAL_TASKS - 1000], 'the same count is not announced twice');
      const table = await h.dc.customRequest('tasklens/taskTable');
      assert.equal((table.body as { tasks: unknown[] }).tasks.length, TOTAL_TASKS);
    });
  });

  it('maxTaskThreads raises the cap: every task is listed and nothing is announced', async () => {
    await withAdapter(async (h) => {
      const since = h.mark();
      const stop = await launchAsync(h, py, program, [{ line: lineOf(program, 'WAITER_BP') }], { extra: { maxTaskThreads: 2000 } });
      const list = await threads(h);
      assert.equal(taskCount(list), TOTAL_TASKS);
      assert.ok(list.some((t) => t.id === stop.body.threadId));
      assert.deepEqual(notices(h, since), []);
    });
  });
});
