// Every kind of task is a pseudo-thread: tasks of a custom asyncio.Task subclass (made by a task
// factory), eager tasks (3.12+), tasks of a loop in a second OS thread, on the default loop and
// on uvloop. A breakpoint inside one names its pseudo-thread, its stack shows its coroutine
// chain, frames of a suspended task in the other thread's loop can be inspected, and
// `taskUnhandled` stops in each kind of task.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { eachPythonAndLoop, evaluate, launchAsync, lineOf, setBreakpoints, TASK_ID_BASE, threadNamed, threads, type Loop } from './async_support';

const kindsProgram = fixture('async_kinds.py');
const threadProgram = fixture('async_kinds_thread.py');
const K = (marker: string) => lineOf(kindsProgram, marker);
const T = (marker: string) => lineOf(threadProgram, marker);

type Kind = 'subclass' | 'eager';

async function stack(h: Harness, threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await h.dc.stackTraceRequest({ threadId })).body.stackFrames;
}

function describeFrames(frames: DebugProtocol.StackFrame[]): string {
  return frames.map((f) => `${f.name}@${f.line}${f.presentationHint ? `(${f.presentationHint})` : ''}`).join(' | ');
}

/** Checks a stack frame by frame: [name, line] for code frames, a string for a label frame. */
function assertStack(frames: DebugProtocol.StackFrame[], program: string, expected: Array<[string, number] | string>): void {
  const shown = describeFrames(frames);
  assert.deepEqual(frames.map((f) => f.name), expected.map((e) => (typeof e === 'string' ? e : e[0])), shown);
  expected.forEach((e, i) => {
    const frame = frames[i];
    if (typeof e === 'string') {
      assert.equal(frame.presentationHint, 'label', `${e} is a label: ${shown}`);
      assert.equal(frame.source, undefined, `a label frame has no source: ${shown}`);
      return;
    }
    assert.notEqual(frame.presentationHint, 'label', shown);
    assert.equal(frame.source?.path, program, `${frame.name} is in the program: ${shown}`);
    assert.equal(frame.line, e[1], `${frame.name} at line ${frame.line}, expected ${e[1]}: ${shown}`);
  });
}

function taskNames(list: DebugProtocol.Thread[]): string[] {
  return list.filter((t) => t.id >= TASK_ID_BASE).map((t) => t.name).sort();
}

async function nameOf(h: Harness, threadId: number): Promise<string> {
  const list = await threads(h);
  return list.find((t) => t.id === threadId)?.name ?? `<thread ${threadId} not listed in ${JSON.stringify(list.map((t) => t.name))}>`;
}

/** Clears the breakpoints, continues, and checks the program ends well with `output` printed. */
async function runToEnd(h: Harness, program: string, stop: Stopped, output: RegExp[]): Promise<void> {
  await setBreakpoints(h, program, []);
  const since = h.mark();
  await h.dc.continueRequest({ threadId: stop.body.threadId });
  assert.equal(await h.exitCode(since), 0, h.output('stderr'));
  for (const pattern of output) assert.match(h.output('stdout'), pattern);
}

/** Eager tasks exist from 3.12 on; on 3.11 the eager run makes plain tasks. */
function eagerActive(kind: Kind, py: Python): boolean {
  return kind === 'eager' && !py.version.startsWith('3.11.');
}

function kindLabel(kind: Kind, py: Python): string {
  if (kind === 'subclass') return 'tasks of an asyncio.Task subclass made by a task factory';
  return eagerActive(kind, py) ? 'eager tasks (eager_task_factory)' : 'eager run on 3.11: plain tasks only (no eager_task_factory before 3.12)';
}

function loopOutput(loop: Loop): RegExp {
  return loop.args.length > 0 ? /^task types .* uvloop$/m : /^task types .* asyncio\./m;
}

eachPythonAndLoop('async task kinds', true, (py, loop) => {
  for (const kind of ['subclass', 'eager'] as const) {
    const label = kindLabel(kind, py);
    const args = { loop: { label: loop.label, args: [kind, ...loop.args] } };

    it(`${label}: listed as threads; a breakpoint inside one names its pseudo-thread; its stack shows its chain`, async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, kindsProgram, [{ line: K('INNER_BP'), condition: 'tag == "b"' }], args);
        assert.equal(stop.body.reason, 'breakpoint');
        const list = await threads(h);
        assert.deepEqual(taskNames(list), ['Task: job (' + kind + '-a)', 'Task: job (' + kind + '-b)', 'Task: main (Task-1)']);
        assert.equal(await nameOf(h, stop.body.threadId), `Task: job (${kind}-b)`, 'the stopped thread is the task');
        assertStack(await stack(h, stop.body.threadId), kindsProgram, [
          ['inner', K('INNER_BP')], ['job', K('JOB_AWAIT')], 'awaited by Task: main (Task-1)', ['main', K('MAIN_AWAIT_B')],
        ]);
        const a = await threadNamed(h, `Task: job (${kind}-a)`);
        assertStack(await stack(h, a.id), kindsProgram, [['inner', K('INNER_WAIT')], ['job', K('JOB_AWAIT')]]);
        const taskTypes = kind === 'subclass' ? /^task types \['TracedTask'\]/m : /^task types \['Task'\]/m;
        await runToEnd(h, kindsProgram, stop, [/^b gave b10$/m, /^a gave a10$/m, taskTypes, loopOutput(loop)]);
      });
    });

    it(`${label}: a breakpoint before the first await stops in the task${eagerActive(kind, py) ? ', run inside create_task' : ''}`, async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, kindsProgram, [{ line: K('JOB_FIRST'), condition: 'tag == "b"' }], args);
        assert.ok(stop.body.threadId >= TASK_ID_BASE, `stopped in thread ${stop.body.threadId}, not a task`);
        const frames = await stack(h, stop.body.threadId);
        // The task's name as the program sees it: 3.13 names an eager task only after its eager step.
        const taskName = await evaluate(h, frames[0].id, 'asyncio.current_task().get_name()');
        assert.match(taskName, eagerActive(kind, py) ? /^'(eager-b|Task-\d+)'$/ : new RegExp(`^'${kind}-b'$`));
        assert.equal(await nameOf(h, stop.body.threadId), `Task: job (${taskName.slice(1, -1)})`);
        assert.equal(await evaluate(h, frames[0].id, 'tag'), "'b'");
        // An eager task runs under main's create_task call: main's frames are not its callers.
        const expected: Array<[string, number] | string> = eagerActive(kind, py)
          ? [['job', K('JOB_FIRST')]]
          : [['job', K('JOB_FIRST')], 'awaited by Task: main (Task-1)', ['main', K('MAIN_AWAIT_B')]];
        assertStack(frames, kindsProgram, expected);
        assert.ok((await threads(h)).some((t) => t.name === 'Task: main (Task-1)'), 'main is listed');
        const firstLines = eagerActive(kind, py) ? "\\['a', 'b'\\]" : '\\[\\]';
        await runToEnd(h, kindsProgram, stop, [new RegExp(`^after create_task b: first lines run ${firstLines}$`, 'm'), loopOutput(loop)]);
      });
    });

    it(`${label}: taskUnhandled stops at the raise in the task nothing awaits`, async () => {
      await withAdapter(async (h) => {
        const unhandled = { loop: { label: loop.label, args: [kind, 'unhandled', ...loop.args] }, filters: ['taskUnhandled'] };
        const stop = await launchAsync(h, py, kindsProgram, [], unhandled);
        assert.equal(stop.body.reason, 'exception');
        assert.equal(await nameOf(h, stop.body.threadId), `Task: job (${kind}-b)`);
        const frames = await stack(h, stop.body.threadId);
        assertStack(frames, kindsProgram, [['inner', K('INNER_RAISE')], ['job', K('JOB_AWAIT')]]);
        assert.equal(await evaluate(h, frames[0].id, 'depth'), '10', 'the raising frame is alive');
        const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId });
        assert.match(`${info.body.exceptionId} ${info.body.details?.typeName ?? ''}`, /RuntimeError/);
        assert.match(`${info.body.description ?? ''} ${info.body.details?.message ?? ''}`, new RegExp(`kind ${kind} failed`));
        const since = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(since), 0);
        assert.deepEqual(h.history.slice(since).filter((e) => e.event === 'stopped'), [], 'one stop only');
        assert.match(h.output('stdout'), /^b failed: RuntimeError$/m);
      });
    });
  }

  const sideChain = (line: number): Array<[string, number] | string> => [
    ['side_inner', line], ['side_job', T('SIDE_AWAIT')], 'awaited by Task: side_main (side-main)', ['side_main', T('SIDE_GATHER')],
  ];
  const sideDone = [/^side got \['side a\/41', 'side b\/41'\]$/m, /^two loops True$/m];

  it('tasks of a loop in a second OS thread: listed with the main loop\'s; a breakpoint in one names it', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, threadProgram, [{ line: T('SIDE_BP'), condition: 'tag == "b"' }], { loop });
      assert.equal(stop.body.reason, 'breakpoint');
      const list = await threads(h);
      const real = list.filter((t) => t.id < TASK_ID_BASE).map((t) => t.name);
      assert.ok(real.includes('MainThread') && real.includes('side-loop'), `real threads ${JSON.stringify(real)}`);
      assert.deepEqual(taskNames(list), [
        'Task: main (Task-1)', 'Task: side_job (side-a)', 'Task: side_job (side-b)', 'Task: side_main (side-main)',
      ]);
      assert.equal(await nameOf(h, stop.body.threadId), 'Task: side_job (side-b)');
      const frames = await stack(h, stop.body.threadId);
      assertStack(frames, threadProgram, sideChain(T('SIDE_BP')));
      assert.equal(await evaluate(h, frames[0].id, 'type(asyncio.get_running_loop()).__module__.split(".")[0]'), loop.args.length > 0 ? "'uvloop'" : "'asyncio'");
      await runToEnd(h, threadProgram, stop, sideDone);
    });
  });

  it('variables and evaluate in the frames of a suspended task of the second thread\'s loop', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, threadProgram, [{ line: T('MAIN_BP') }], { loop });
      assert.equal(await nameOf(h, stop.body.threadId), 'Task: main (Task-1)');
      const sideA = await threadNamed(h, 'Task: side_job (side-a)');
      const frames = await stack(h, sideA.id);
      assertStack(frames, threadProgram, sideChain(T('SIDE_WAIT')));
      const [inner, job, , sideMain] = frames;
      const locals = await h.locals(inner.id);
      assert.equal(locals.get('tag')?.value, "'a'");
      assert.equal(locals.get('label')?.value, "'side a'");
      assert.equal((await h.locals(job.id)).get('count')?.value, '41');
      assert.equal(await evaluate(h, inner.id, 'label.upper() + "/" + tag'), "'SIDE A/a'");
      assert.equal(await evaluate(h, job.id, 'count * 2'), '82');
      assert.equal(await evaluate(h, sideMain.id, 'a.get_name()'), "'side-a'");
      assert.equal(await evaluate(h, sideMain.id, 'release.is_set()'), 'False');
      await runToEnd(h, threadProgram, stop, sideDone);
    });
  });

  it('taskUnhandled stops in a task of the second thread\'s loop', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, threadProgram, [], { loop: { label: loop.label, args: ['unhandled', ...loop.args] }, filters: ['taskUnhandled'] });
      assert.equal(stop.body.reason, 'exception');
      assert.equal(await nameOf(h, stop.body.threadId), 'Task: side_job (side-b)');
      const frames = await stack(h, stop.body.threadId);
      assertStack(frames, threadProgram, [['side_inner', T('SIDE_RAISE')], ['side_job', T('SIDE_AWAIT')]]);
      assert.equal(await evaluate(h, frames[0].id, 'label'), "'side b'");
      const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId });
      assert.match(`${info.body.exceptionId} ${info.body.details?.typeName ?? ''}`, /LookupError/);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 0);
      assert.deepEqual(h.history.slice(since).filter((e) => e.event === 'stopped'), [], 'one stop only');
      assert.match(h.output('stdout'), /^side-b failed: LookupError$/m);
    });
  });
});
