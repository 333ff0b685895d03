// What a VS Code user sees while clicking around the CALL STACK: the "awaited by" separator
// can be selected, every resume clears every thread's "paused" label, a step cut short by a
// breakpoint in another task says so, and tasks are listed in the same order every session.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { rawRequest } from './support/responses';
import { assertAt, eachPythonAndLoop, launchAsync, lineOf, setBreakpoints, threads, topOf, type Loop } from './async_support';

const steps = fixture('async_steps.py');
const S = (marker: string) => lineOf(steps, marker);
const W2 = 'n == 2';

/** The first `continued` event after `since`, which must come before the next `stopped`. */
async function continuedBeforeStop(h: Harness, since: number, threadId: number, context: string): Promise<void> {
  const continued = await h.waitFor<DebugProtocol.ContinuedEvent>('continued', since);
  assert.equal(continued.body.threadId, threadId, `${context}: continued names the thread that was resumed`);
  assert.equal(continued.body.allThreadsContinued, true, `${context}: every thread runs again`);
  const at = h.history.indexOf(continued);
  const stoppedAt = h.history.findIndex((e, i) => i >= since && e.event === 'stopped');
  assert.ok(stoppedAt < 0 || at < stoppedAt, `${context}: continued came after the next stopped event`);
}

/** Thread names of the task pseudo-threads of one session stopped at ALL_CREATED. */
async function taskOrder(py: Python, loop: Loop): Promise<string[]> {
  const program = fixture('task_order.py');
  let names: string[] = [];
  await withAdapter(async (h) => {
    await launchAsync(h, py, program, [{ line: lineOf(program, 'ALL_CREATED') }], { loop });
    names = (await threads(h)).map((t) => t.name);
  });
  return names;
}

eachPython('call stack view', (py) => {
  it('the "awaited by" separator has no scopes: an empty list, not an error', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, steps, [{ line: S('AWAIT_SLEEP'), condition: W2 }]);
      const trace = await h.dc.stackTraceRequest({ threadId: stop.body.threadId });
      const label = trace.body.stackFrames.find((f) => f.presentationHint === 'label');
      assert.ok(label, `a separator in ${JSON.stringify(trace.body.stackFrames.map((f) => f.name))}`);
      assert.equal(label.name, 'awaited by Task: main (Task-1)');
      const scopes = await rawRequest(h, 'scopes', { frameId: label.id });
      assert.equal(scopes.success, true, `scopes of the separator: ${scopes.message}`);
      assert.deepEqual(scopes.body.scopes, []);
      const completions = await rawRequest(h, 'completions', { frameId: label.id, text: 'le', column: 3 });
      assert.equal(completions.success, true, `completions while the separator is selected: ${completions.message}`);
      const evaluated = await rawRequest(h, 'evaluate', { frameId: label.id, expression: 'n', context: 'repl' });
      assert.equal(evaluated.success, false);
      assert.match(evaluated.message ?? '', /awaited by Task: main \(Task-1\).*not a frame/);
      // The frames on both sides of it still show their variables.
      const frames = trace.body.stackFrames.filter((f) => f.presentationHint !== 'label');
      assert.equal((await h.locals(frames[0].id)).get('n')?.value, '2');
      assert.ok((await h.locals(frames[frames.length - 1].id)).has('workers'), 'main\'s frame below the separator');
    });
  });

  it('every resume sends continued for all threads: next, stepIn, stepOut and continue', async () => {
    await withAdapter(async (h) => {
      const program = fixture('basic_add.py');
      const stop = await h.launchToStop(py, program, [12]);
      const tid = stop.body.threadId;
      for (const command of ['stepIn', 'stepOut', 'next'] as const) {
        const since = h.mark();
        await h.dc[`${command}Request`]({ threadId: tid });
        await continuedBeforeStop(h, since, tid, command);
        await h.waitStopped(since);
      }
      const since = h.mark();
      await h.dc.continueRequest({ threadId: tid });
      await continuedBeforeStop(h, since, tid, 'continue');
      assert.equal(await h.exitCode(since), 7);
    });
  });

  it('a step over in a task sends continued for all threads (the other tasks run too)', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, steps, [{ line: S('AWAIT_SLEEP'), condition: W2 }]);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      await continuedBeforeStop(h, since, stop.body.threadId, 'next in worker-2');
      assert.equal((await h.waitStopped(since)).body.reason, 'step');
    });
  });

  it('a breakpoint in another task that cuts a step short says so; the step ends there', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, steps, [{ line: S('AWAIT_SLEEP'), condition: W2 }]);
      const worker2 = stop.body.threadId;
      await setBreakpoints(h, steps, [{ line: S('AFTER_SLEEP'), condition: 'n == 3' }]);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: worker2 });
      const hit = await h.waitStopped(since);
      assert.equal(hit.body.reason, 'breakpoint');
      assert.equal(hit.body.description, 'Breakpoint in Task: scenario (worker-3) (your step in worker-2 was interrupted)');
      // Selected, the interrupted task shows where it waits: still on the awaited line.
      await assertAt(h, worker2, steps, { name: 'scenario', lines: [S('AWAIT_SLEEP')], n: '2' }, 'the interrupted worker-2');
      await setBreakpoints(h, steps, []);
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: hit.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
      assert.deepEqual(h.history.slice(resumed).filter((e) => e.event === 'stopped'), [], 'the interrupted step never completes later');
    });
  });

  // uvloop is the matrix's on 3.14 only (async_support.ts).
  if (py.version.startsWith('3.14.')) it('a step cut short by main\'s breakpoint under uvloop.run names the task after main, not uvloop\'s wrapper', async () => {
    const program = fixture('uvloop_run_step.py');
    await withAdapter(async (h) => {
      let stop = await launchAsync(h, py, program, [{ line: lineOf(program, 'WORKER'), condition: 'item == 4' }, { line: lineOf(program, 'JOINED') }]);
      for (let i = 0; i === 0 || (i < 6 && stop.body.reason === 'step'); i++) {
        const since = h.mark();
        await h.dc.nextRequest({ threadId: stop.body.threadId });
        stop = await h.waitStopped(since);
      }
      assert.equal(stop.body.reason, 'breakpoint');
      assert.match(stop.body.description ?? '', /^Breakpoint in Task: main \(Task-1\) \(your step in w\d was interrupted\)$/);
    });
  });

  it('a function breakpoint or an exception in another task that cuts a step short says so too', async () => {
    const program = fixture('step_interrupted.py');
    const cases: Array<[string, (h: Harness) => Promise<unknown>, string]> = [
      ['function breakpoint', (h) => h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'target' }] }),
        'Function breakpoint in Task: worker_b (worker-b) (your step in worker-a was interrupted)'],
      ['exception', (h) => h.dc.setExceptionBreakpointsRequest({ filters: ['raised'] }),
        'ValueError: boom (your step in worker-a was interrupted)'],
    ];
    for (const [reason, arm, description] of cases) {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, program, [{ line: lineOf(program, 'A_SLEEP') }]);
        await arm(h);
        const since = h.mark();
        await h.dc.nextRequest({ threadId: stop.body.threadId });
        const hit = await h.waitStopped(since);
        assert.equal(hit.body.reason, reason);
        assert.equal(hit.body.description, description);
      });
    }
  });

  it('a breakpoint inside what the step runs, in the same task, is a plain breakpoint', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, steps, [{ line: S('AWAIT_CORO'), condition: W2 }]);
      await setBreakpoints(h, steps, [{ line: S('CHILD_FIRST'), condition: W2 }]);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const hit = await h.waitStopped(since);
      assert.equal(hit.body.reason, 'breakpoint');
      assert.equal(hit.body.threadId, stop.body.threadId);
      assert.equal(hit.body.description, undefined);
    });
  });

  it('stepping over asyncio.run() into a task\'s breakpoint is a plain breakpoint', async () => {
    await withAdapter(async (h) => {
      const runLine = fs.readFileSync(steps, 'utf8').split('\n').indexOf('run(main)') + 1;
      assert.ok(runLine > 0, 'the fixture ends with run(main)');
      const stop = await launchAsync(h, py, steps, [{ line: runLine }]);
      await setBreakpoints(h, steps, [{ line: S('MAIN_AFTER_GATHER') }]);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const hit = await h.waitStopped(since);
      assert.equal(hit.body.reason, 'breakpoint');
      assert.equal(hit.body.description, undefined);
      assert.equal((await topOf(h, hit.body.threadId)).line, S('MAIN_AFTER_GATHER'));
    });
  });
});

eachPythonAndLoop('task order', true, (py, loop) => {
  it('tasks are listed by loop in creation order, the same in every session', async () => {
    const creation = [
      /^Task: main \(Task-\d+\)$/, 'zeta', 'alpha', /^Task-\d+$/, 'mu', 'beta', 'omega', /^Task-\d+$/, 'delta', 'kappa', 'gamma',
      /^Task: side_main \(Task-\d+\)$/, 'side-y', 'side-b', 'side-x', 'side-a',
    ];
    const first = await taskOrder(py, loop);
    assert.deepEqual(first.slice(0, 2), ['MainThread', 'side-loop'], 'real threads first');
    const tasks = first.slice(2);
    assert.equal(tasks.length, creation.length, `tasks: ${JSON.stringify(tasks)}`);
    creation.forEach((expected, i) => {
      const shown = tasks[i].replace(/^Task: idle \((.*)\)$/, '$1');
      if (typeof expected === 'string') assert.equal(shown, expected, `place ${i} of ${JSON.stringify(tasks)}`);
      else assert.match(shown, expected, `place ${i} of ${JSON.stringify(tasks)}`);
    });
    const unnamed = tasks.filter((t) => /^Task: idle \(Task-\d+\)$/.test(t)).map((t) => Number(/Task-(\d+)/.exec(t)?.[1]));
    assert.ok(unnamed[0] < unnamed[1], `unnamed tasks in creation order: ${JSON.stringify(unnamed)}`);
    assert.deepEqual(await taskOrder(py, loop), first, 'a second session lists the same order');
  });

  it('a task that stops before any listing is listed in its place of creation, not first (with diagnostics too, which date tasks instead)', async () => {
    const program = fixture('task_order.py');
    for (const extra of [{}, { diagnose: true }]) await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: lineOf(program, 'IDLE'), condition: 'asyncio.current_task().get_name() == "gamma"' }], { loop, extra });
      const listed = await threads(h);
      assert.equal(listed.find((t) => t.id === stop.body.threadId)?.name, 'Task: idle (gamma)');
      const mainLoop = listed.slice(1).map((t) => t.name.replace(/^Task: idle \((.*)\)$/, '$1')).filter((n) => !/side/.test(n));
      const expected = [/^Task: main \(Task-\d+\)$/, 'zeta', 'alpha', /^Task-\d+$/, 'mu', 'beta', 'omega', /^Task-\d+$/, 'delta', 'kappa', 'gamma'];
      assert.equal(mainLoop.length, expected.length, `tasks: ${JSON.stringify(listed.map((t) => t.name))}`);
      expected.forEach((want, i) => {
        if (typeof want === 'string') assert.equal(mainLoop[i], want, `place ${i} of ${JSON.stringify(mainLoop)}`);
        else assert.match(mainLoop[i], want, `place ${i} of ${JSON.stringify(mainLoop)}`);
      });
    });
  });
});
