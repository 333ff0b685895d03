// Task stacks name who awaits a task through `shield`, `wait_for`, `wait` and `as_completed`
// (docs/async-semantics.md S1-S2), whether the task is the one stopped at a breakpoint or
// a suspended one; a task that has not started yet shows its coroutine at its first line.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { eachPythonAndLoop, evaluate, launchAsync, lineOf, setBreakpoints, threadNamed, threads } from './async_support';

const program = fixture('async_awaiters.py');
const A = (marker: string) => lineOf(program, marker);

/** [how the holder awaits, the leaf's tag, the holder's coroutine, the line it awaits at]. */
const WAYS: Array<[string, string, string, number]> = [
  ['`shield`', 'shield', 'via_shield', A('VIA_SHIELD')],
  ['`wait_for`', 'wait_for', 'via_wait_for', A('VIA_WAIT_FOR')],
  ['`wait`', 'wait', 'via_wait', A('VIA_WAIT')],
  ['`as_completed`', 'as_completed', 'via_as_completed', A('VIA_AS_COMPLETED')],
];

async function stack(h: Harness, threadId: number): Promise<DebugProtocol.StackFrame[]> {
  return (await h.dc.stackTraceRequest({ threadId })).body.stackFrames;
}

function describeFrames(frames: DebugProtocol.StackFrame[]): string {
  return frames.map((f) => `${f.name}@${f.line}${f.presentationHint ? `(${f.presentationHint})` : ''}`).join(' | ');
}

/**
 * helper, leaf, a label naming the holder task, then the holder's own frame; once main gathers
 * the holders (`mainAwaits`), a label naming main and main's frame follow.
 */
function assertAwaitedBy(frames: DebugProtocol.StackFrame[], tag: string, holder: string, holderLine: number, helperLine: number, mainAwaits: boolean): void {
  const shown = describeFrames(frames);
  const names = ['helper', 'leaf', `awaited by Task: ${holder} (via-${tag})`, holder];
  if (mainAwaits) names.push('awaited by Task: main (Task-1)', 'main');
  assert.deepEqual(frames.map((f) => f.name), names, shown);
  const lines = [helperLine, A('LEAF_AWAIT'), undefined, holderLine, undefined, A('MAIN_GATHER')];
  frames.forEach((f, i) => {
    if (lines[i] === undefined) {
      assert.equal(f.presentationHint, 'label', shown);
      assert.equal(f.source, undefined, `a label frame has no source: ${shown}`);
      return;
    }
    assert.notEqual(f.presentationHint, 'label', shown);
    assert.equal(f.source?.path, program, shown);
    assert.equal(f.line, lines[i], `${f.name} at line ${f.line}, expected ${lines[i]}: ${shown}`);
  });
}

async function runToEnd(h: Harness, stop: Stopped): Promise<void> {
  await setBreakpoints(h, program, []);
  const since = h.mark();
  await h.dc.continueRequest({ threadId: stop.body.threadId });
  assert.equal(await h.exitCode(since), 0, h.output('stderr'));
  assert.match(h.output('stdout'), /^results \['shield:6', 'wait_for:8', 'wait:4', 'as_completed:12'\] 42 4$/m);
}

eachPythonAndLoop('async awaiters', true, (py, loop) => {
  for (const [how, tag, holder, holderLine] of WAYS) {
    it(`a breakpoint in a task awaited through ${how}: the stop names the task; its stack names the awaiting task, whose frame follows`, async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, program, [{ line: A('HELPER_BP'), condition: `tag == "${tag}"` }], { loop });
        assert.equal(stop.body.reason, 'breakpoint');
        const leaf = await threadNamed(h, `Task: leaf (leaf-${tag})`);
        assert.equal(stop.body.threadId, leaf.id, 'the stopped thread is the leaf task');
        const frames = await stack(h, leaf.id);
        assertAwaitedBy(frames, tag, holder, holderLine, A('HELPER_BP'), true);
        assert.equal(await evaluate(h, frames[0].id, 'depth'), String(tag.length));
        assert.equal(await evaluate(h, frames[3].id, 'task.get_name()'), `'leaf-${tag}'`, 'the holder frame is the holder\'s');
        await runToEnd(h, stop);
      });
    });
  }

  it('suspended tasks awaited through shield, wait_for, wait and as_completed: each stack names its awaiter', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: A('MAIN_BP') }], { loop });
      assert.equal(stop.body.threadId, (await threadNamed(h, 'Task: main (Task-1)')).id);
      for (const [, tag, holder, holderLine] of WAYS) {
        const frames = await stack(h, (await threadNamed(h, `Task: leaf (leaf-${tag})`)).id);
        assertAwaitedBy(frames, tag, holder, holderLine, A('HELPER_WAIT'), false);
        assert.equal((await h.locals(frames[0].id)).get('tag')?.value, `'${tag}'`);
      }
      await runToEnd(h, stop);
    });
  });

  it('a pending task that has not started shows its coroutine at its first line, arguments bound', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, program, [{ line: A('MAIN_BP') }], { loop });
      const fresh = await threadNamed(h, 'Task: not_started (fresh)');
      const frames = await stack(h, fresh.id);
      assert.deepEqual(frames.map((f) => f.name), ['not_started'], describeFrames(frames));
      const [top] = frames;
      assert.equal(top.source?.path, program);
      // The coroutine has run nothing: its frame is at the `async def` line (co_firstlineno);
      // the first line of the body is as good a "first line" for a user.
      assert.ok([A('NOT_STARTED_DEF'), A('NOT_STARTED_FIRST')].includes(top.line), `not_started at line ${top.line}`);
      const locals = await h.locals(top.id);
      assert.equal(locals.get('count')?.value, '21');
      assert.equal(locals.get('total'), undefined, 'total is not assigned yet');
      assert.equal(await evaluate(h, top.id, 'count * 2'), '42');
      assert.ok((await threads(h)).some((t) => t.id === stop.body.threadId && t.name === 'Task: main (Task-1)'));
      await runToEnd(h, stop);
    });
  });
});
