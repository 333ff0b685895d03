// Tasks as threads: the threads list, task stacks with `awaited by` labels, variables in
// suspended tasks, and the custom request tasklens/taskTable (docs/async-semantics.md T1-T3
// and S1-S3).
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { assertAt, eachPythonAndLoop, evaluate, launchAsync, lineOf, setBreakpoints, TASK_ID_BASE, threadNamed, threads } from './async_support';

const threadsProgram = fixture('async_threads.py');
const stacksProgram = fixture('async_stacks.py');
const T = (marker: string) => lineOf(threadsProgram, marker);
const S = (marker: string) => lineOf(stacksProgram, marker);

function taskThreads(list: DebugProtocol.Thread[]): DebugProtocol.Thread[] {
  return list.filter((t) => t.id >= TASK_ID_BASE);
}

async function stack(h: Harness, threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await h.dc.stackTraceRequest({ threadId })).body.stackFrames;
}

function describeFrames(frames: DebugProtocol.StackFrame[]): string {
  return frames.map((f) => `${f.name}@${f.line}${f.presentationHint ? `(${f.presentationHint})` : ''}`).join(' | ');
}

interface TaskRow {
  threadId: number;
  name: string;
  coroutine: string;
  state: string;
  stack: Array<{ name: string; line: number }>;
  awaitedBy: number[];
}

const LEAVES: Array<[string, string, string, number[]]> = [
  ['`await task`', 'leaf-await', 'Task: via_await (via-await)', [S('VIA_AWAIT')]],
  ['`gather`', 'leaf-gather', 'Task: via_gather (via-gather)', [S('VIA_GATHER')]],
  ['`TaskGroup`', 'leaf-tg', 'Task: via_taskgroup (via-tg)', [S('VIA_TG'), S('VIA_TG_BODY')]],
];

eachPythonAndLoop('async tasks as threads', true, (py, loop) => {
  it('lists real threads, then one "Task: coroutine (name)" per task; the stopped event names the task', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, threadsProgram, [{ line: T('WORKER_BP'), condition: 'n == 2' }], { loop });
      const list = await threads(h);
      assert.equal(list[0]?.name, 'MainThread', `real threads first: ${JSON.stringify(list)}`);
      const firstTask = list.findIndex((t) => t.id >= TASK_ID_BASE);
      assert.ok(list.slice(firstTask).every((t) => t.id >= TASK_ID_BASE), 'no real thread after the tasks');
      assert.deepEqual(taskThreads(list).map((t) => t.name).sort(), [
        'Task: main (Task-1)', 'Task: worker (worker-1)', 'Task: worker (worker-2)', 'Task: worker (worker-3)',
      ]);
      const worker2 = list.find((t) => t.name === 'Task: worker (worker-2)');
      assert.equal(stop.body.threadId, worker2?.id, 'the stopped thread is worker-2');
      await assertAt(h, stop.body.threadId, threadsProgram, { name: 'worker', lines: [T('WORKER_BP')], n: '2' }, 'breakpoint');
    });
  });

  it('keeps task ids across stops; finished tasks disappear and new ones appear with new ids', async () => {
    await withAdapter(async (h) => {
      let stop = await launchAsync(h, py, threadsProgram, [{ line: T('WORKER_BP') }, { line: T('MAIN_BP') }], { loop });
      const ids = new Map<string, number>();
      const stoppedNames = new Set<string>();
      for (let k = 0; k < 3; k++) {
        const list = await threads(h);
        for (const t of taskThreads(list)) {
          if (ids.has(t.name)) assert.equal(t.id, ids.get(t.name), `id of ${t.name} changed between stops`);
          ids.set(t.name, t.id);
        }
        const name = list.find((t) => t.id === stop.body.threadId)?.name ?? `<no thread ${stop.body.threadId}>`;
        const n = /^Task: worker \(worker-(\d)\)$/.exec(name)?.[1];
        assert.ok(n, `stopped thread ${name} is a worker task`);
        await assertAt(h, stop.body.threadId, threadsProgram, { name: 'worker', lines: [T('WORKER_BP')], n }, `stop ${k + 1}`);
        stoppedNames.add(name);
        const since = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        stop = await h.waitStopped(since);
      }
      assert.equal(stoppedNames.size, 3, 'each worker stopped once, each as its own thread');
      const list = await threads(h);
      const names = taskThreads(list).map((t) => t.name).sort();
      assert.deepEqual(names, ['Task: late (late-1)', 'Task: late (late-2)', 'Task: main (Task-1)']);
      const main = list.find((t) => t.name === 'Task: main (Task-1)');
      assert.equal(main?.id, ids.get('Task: main (Task-1)'), 'main keeps its id');
      assert.equal(stop.body.threadId, main?.id, 'the stop at MAIN_BP is in main');
      const old = new Set(ids.values());
      for (const t of taskThreads(list)) {
        if (t.name.startsWith('Task: late')) assert.ok(!old.has(t.id), `${t.name} reuses id ${t.id}`);
      }
    });
  });

  for (const [how, leaf, awaiter, awaiterLines] of LEAVES) {
    it(`stack of a suspended task awaited through ${how}: its chain, a label, then the awaiter's chain`, async () => {
      await withAdapter(async (h) => {
        await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop });
        const thread = await threadNamed(h, `Task: leaf (${leaf})`);
        const frames = await stack(h, thread.id);
        const awaiterCoro = /^Task: (\w+)/.exec(awaiter)![1];
        assert.deepEqual(frames.map((f) => f.name), ['helper', 'leaf', `awaited by ${awaiter}`, awaiterCoro], describeFrames(frames));
        const [helper, leafFrame, label, outer] = frames;
        assert.equal(label.presentationHint, 'label');
        assert.equal(label.source, undefined, 'a label frame has no source');
        for (const f of [helper, leafFrame, outer]) {
          assert.notEqual(f.presentationHint, 'label');
          assert.equal(f.source?.path, stacksProgram);
        }
        assert.equal(helper.line, S('HELPER_WAIT'));
        assert.equal(leafFrame.line, S('LEAF_AWAIT'));
        assert.ok(awaiterLines.includes(outer.line), `${awaiterCoro} at line ${outer.line}`);
      });
    });
  }

  it('with justMyCode off, the library frame a suspended task waits in is shown as subtle', async () => {
    await withAdapter(async (h) => {
      await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop, extra: { justMyCode: false } });
      const frames = await stack(h, (await threadNamed(h, 'Task: leaf (leaf-await)')).id);
      const firstUser = frames.findIndex((f) => f.name === 'helper');
      assert.ok(firstUser > 0, `a library frame above helper: ${describeFrames(frames)}`);
      for (const f of frames.slice(0, firstUser)) {
        assert.equal(f.presentationHint, 'subtle', `${f.name} is subtle`);
        assert.match(f.source?.path ?? f.source?.name ?? '', /asyncio/);
      }
    });
  });

  it('the running task\'s stack stops at the task boundary, then shows who awaits it', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, stacksProgram, [{ line: S('RUNNING_BP') }], { loop, extra: { justMyCode: false } });
      const runner = await threadNamed(h, 'Task: running (runner)');
      assert.equal(stop.body.threadId, runner.id);
      const frames = await stack(h, runner.id);
      const loopFrames = frames.filter((f) => /^(_run_once|run_forever|_run|run_until_complete|run|<module>)$/.test(f.name));
      assert.deepEqual(loopFrames.map((f) => f.name), [], `event loop frames shown as callers: ${describeFrames(frames)}`);
      const names = frames.filter((f) => f.presentationHint !== 'subtle').map((f) => f.name);
      assert.deepEqual(names, ['running', 'awaited by Task: main (Task-1)', 'main'], describeFrames(frames));
    });
  });

  it('the stopped top-level task shows only its own coroutine, not the event loop under it', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop });
      const main = await threadNamed(h, 'Task: main (Task-1)');
      assert.equal(stop.body.threadId, main.id);
      const frames = await stack(h, main.id);
      assert.deepEqual(frames.map((f) => f.name), ['main'], describeFrames(frames));
    });
  });

  it('scopes, variables and evaluate work in the frames of a suspended task', async () => {
    await withAdapter(async (h) => {
      await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop });
      for (const [leaf, tag] of [['leaf-await', 'await'], ['leaf-gather', 'gather']]) {
        const frames = await stack(h, (await threadNamed(h, `Task: leaf (${leaf})`)).id);
        const locals = await h.locals(frames[0].id);
        assert.equal(locals.get('tag')?.value, `'${tag}'`);
        assert.equal(locals.get('depth')?.value, String(tag.length));
        assert.equal(await evaluate(h, frames[0].id, 'tag.upper() + "!"'), `'${tag.toUpperCase()}!'`);
        assert.equal(await evaluate(h, frames[1].id, 'tag'), `'${tag}'`);
      }
    });
  });

  it('setVariable in a suspended task\'s frame changes what the task sees when it resumes', async () => {
    await withAdapter(async (h) => {
      await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop });
      const frames = await stack(h, (await threadNamed(h, 'Task: leaf (leaf-gather)')).id);
      const scopes = await h.dc.scopesRequest({ frameId: frames[1].id });
      const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
      assert.ok(locals);
      const set = await h.dc.setVariableRequest({ variablesReference: locals.variablesReference, name: 'tag', value: '"patched"' }).then(
        (response) => response,
        (err: Error) => err,
      );
      // The issue allows 3.11 (no write-through f_locals) to refuse, with a message that says why.
      const refused = set instanceof Error;
      if (refused) assert.ok(py.version.startsWith('3.11.') && /3\.11|suspended/i.test(set.message), `setVariable failed: ${set.message}`);
      else assert.equal(set.body.value, "'patched'");
      await setBreakpoints(h, stacksProgram, []);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: (await threads(h))[0].id });
      assert.equal(await h.exitCode(since), 0);
      assert.match(h.output('stdout'), refused ? /^leaf gather$/m : /^leaf patched$/m);
    });
  });

  it('tasklens/taskTable returns every task with its stack, state and awaiters', async () => {
    await withAdapter(async (h) => {
      await launchAsync(h, py, stacksProgram, [{ line: S('MAIN_BP') }], { loop });
      const response = await h.dc.customRequest('tasklens/taskTable');
      const tasks = (response.body as { tasks: TaskRow[] }).tasks;
      const byName = new Map(tasks.map((t) => [t.name, t]));
      assert.deepEqual([...byName.keys()].sort(), ['Task-1', 'leaf-await', 'leaf-gather', 'leaf-tg', 'via-await', 'via-gather', 'via-tg']);
      const list = await threads(h);
      for (const t of tasks) {
        assert.equal(list.find((th) => th.id === t.threadId)?.name, `Task: ${t.coroutine} (${t.name})`);
      }
      assert.equal(byName.get('Task-1')?.state, 'running');
      const leaf = byName.get('leaf-await')!;
      assert.equal(leaf.state, 'pending');
      assert.equal(leaf.coroutine, 'leaf');
      assert.deepEqual(leaf.awaitedBy, [byName.get('via-await')!.threadId]);
      const stackNames = leaf.stack.map((f) => f.name);
      assert.ok(stackNames.includes('helper') && stackNames.includes('leaf'), `stack ${JSON.stringify(leaf.stack)}`);
      assert.deepEqual(byName.get('leaf-gather')!.awaitedBy, [byName.get('via-gather')!.threadId]);
      assert.deepEqual(byName.get('leaf-tg')!.awaitedBy, [byName.get('via-tg')!.threadId]);
    });
  });
});
