// `await` in the debug console (docs/console.md): a coroutine runs to its value, a statement
// with `await` assigns in the frame, the paused loop's pending futures are refused with why, a
// wait past awaitTimeout is cancelled, a syntax error is one line, a suspended task's frame
// awaits too, completions offer `await`; and the program's own loop runs on as before.
// On the default loop, on uvloop (3.14) and with eager tasks (3.12+: the stop is inside an
// eager task's first step).
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { pythons, type Python } from './support/pythons';
import { lineOf } from './async_support';

const PROGRAM = fixture('console_await.py');
const STOP = lineOf(PROGRAM, 'STOP');
const SUSPENDED = lineOf(PROGRAM, 'SUSPENDED');

interface Variant {
  label: string;
  args: string[];
}

function variants(py: Python): Variant[] {
  const out: Variant[] = [{ label: 'asyncio loop', args: [] }];
  if (py.version.startsWith('3.14.')) out.push({ label: 'uvloop', args: ['--loop=uvloop'] });
  if (!py.version.startsWith('3.11.')) out.push({ label: 'eager tasks', args: ['--eager'] });
  return out;
}

async function stopped(h: Harness, py: Python, variant: Variant): Promise<{ threadId: number; frameId: number }> {
  const stop = await h.launchToStop(py, PROGRAM, [STOP], { args: variant.args, awaitTimeout: 1 });
  const top = await h.topFrame(stop.body.threadId);
  assert.equal(top.line, STOP);
  return { threadId: stop.body.threadId, frameId: top.id };
}

async function repl(h: Harness, frameId: number, expression: string): Promise<string> {
  return (await h.dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;
}

/** The error text the console shows for `expression`. */
async function refused(h: Harness, frameId: number, expression: string, context = 'repl'): Promise<string> {
  const response = await h.dc.evaluateRequest({ expression, frameId, context }).then(
    (r) => assert.fail(`"${expression}" gave ${JSON.stringify(r.body)}`),
    (err: Error) => err.message,
  );
  return response;
}

/** Continues and returns what the program printed; it must end with status 0. */
async function finish(h: Harness, threadId: number): Promise<string> {
  const since = h.mark();
  await h.dc.continueRequest({ threadId });
  assert.equal(await h.exitCode(since), 0, h.output('stderr'));
  return h.output('stdout');
}

for (const py of pythons()) {
  for (const variant of variants(py)) {
    describe(`console await [${py.label}, ${variant.label}]`, () => {
      if (py.problem !== undefined) {
        test('interpreter is available', () => assert.fail(`cannot run ${py.path}: ${py.problem}`));
        return;
      }

      it('runs coroutines to their value and statements with await in the frame', async () => {
        await withAdapter(async (h) => {
          const { threadId, frameId } = await stopped(h, py, variant);
          assert.equal(await repl(h, frameId, 'await asyncio.sleep(0, result=5)'), '5');
          assert.equal(await repl(h, frameId, 'await fetch(3)'), '42');
          assert.equal(await repl(h, frameId, 'await finished'), '14', 'a finished task of the paused loop needs no loop');
          assert.equal(await repl(h, frameId, '[t async for t in ticks(3)]'), '[0, 1, 2]');
          assert.equal(await repl(h, frameId, 'counter = await fetch(2)'), '');
          assert.equal(await repl(h, frameId, 'async for t in ticks(3): counter += t'), '');
          assert.equal(await repl(h, frameId, 'async with asyncio.timeout(1): counter += await fetch(1)'), '');
          assert.equal(await repl(h, frameId, 'counter'), '45');
          const locals = await h.locals(frameId);
          assert.equal(locals.get('counter')?.value, '45', 'the Variables view sees the assignment');
          const out = await finish(h, threadId);
          assert.match(out, /stop 45\n/, 'the program goes on with the value the console gave it');
          assert.match(out, /total 45\n/);
        });
      });

      it('refuses the paused loop\'s pending futures, cancels at awaitTimeout, reports syntax errors', async () => {
        await withAdapter(async (h) => {
          const { threadId, frameId } = await stopped(h, py, variant);
          assert.match(await refused(h, frameId, 'await pending'), /cannot wait for <Future pending.*belongs to the paused event loop/);
          assert.match(await refused(h, frameId, 'await parked'), /cannot wait for <Task pending name='parked'/);
          assert.match(await refused(h, frameId, 'await asyncio.sleep(30)'), /`await asyncio.sleep\(30\)` was still waiting after 1 s: cancelled/);
          assert.match(await refused(h, frameId, 'await ('), /SyntaxError/);
          assert.match(await refused(h, frameId, 'await fetch(1)', 'watch'), /SyntaxError: 'await' outside function/);
          assert.equal(await repl(h, frameId, 'pending.done(), parked.done()'), '(False, False)');
          const out = await finish(h, threadId);
          assert.match(out, /stop 1\ntotal 1\n/, 'the paused loop runs on: the refused awaits left nothing behind');
        });
      });

      it('awaits in a suspended task\'s frame and completes `await`', async () => {
        await withAdapter(async (h) => {
          const { threadId, frameId } = await stopped(h, py, variant);
          const parked = (await h.dc.threadsRequest()).body.threads.find((t) => /\(parked\)$/.test(t.name));
          assert.ok(parked, 'the parked task is a thread');
          const top = await h.topFrame(parked.id);
          assert.equal(top.line, SUSPENDED);
          assert.equal(await repl(h, top.id, 'seen = await fetch(3)'), '');
          assert.equal(await repl(h, top.id, 'seen + 1'), '43');
          const keyword = await h.dc.completionsRequest({ text: 'aw', column: 3, frameId });
          assert.deepEqual(keyword.body.targets.find((t) => t.label === 'await'), { label: 'await', type: 'keyword', start: 0, length: 2 });
          const names = await h.dc.completionsRequest({ text: 'await fe', column: 9, frameId });
          assert.deepEqual(names.body.targets.map((t: DebugProtocol.CompletionItem) => [t.label, t.type]), [['fetch', 'function']]);
          const attrs = await h.dc.completionsRequest({ text: 'await finished.res', column: 19, frameId });
          assert.deepEqual(attrs.body.targets.map((t) => t.label), ['result']);
          assert.match(await finish(h, threadId), /total 43\n/, 'the suspended task resumes with the value the console gave it');
        });
      });
    });
  }
}
