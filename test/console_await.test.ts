// `await` in the debug console (docs/console.md): a coroutine runs to its value, a statement
// with `await` assigns in the frame, the paused loop is turned for its own future, queue and
// lock (the result says which tasks ran; thread events follow), a wait past awaitTimeout is
// cancelled without cancelling the program's future, a syntax error is one line, a suspended
// task's frame awaits too, completions offer `await`; and the program runs on as before.
// On the default loop, on uvloop (3.14: its loop cannot be turned from inside, so its pending
// futures are refused with why) and with eager tasks (3.12+: the stop is inside an eager task's
// first step).
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

/** Launches as a client that refreshes its views on `invalidated`, to the stop at STOP. */
async function stopped(h: Harness, py: Python, variant: Variant): Promise<{ threadId: number; frameId: number }> {
  const since = h.mark();
  await h.dc.initializeRequest({ adapterID: 'tasklens', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsInvalidatedEvent: true });
  await h.dc.launchRequest({ python: py.path, program: PROGRAM, args: variant.args, awaitTimeout: 1 } as DebugProtocol.LaunchRequestArguments);
  await h.waitFor('initialized', since);
  await h.dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: STOP }] });
  await h.dc.configurationDoneRequest();
  const stop = await h.waitStopped(since);
  const top = await h.topFrame(stop.body.threadId);
  assert.equal(top.line, STOP);
  return { threadId: stop.body.threadId, frameId: top.id };
}

const NOTE = /^(.*?)\s*\(the paused event loop ran [\d.]+ s for this; meanwhile (.*)\)$/s;

/** The console's result, without the note on what the paused loop ran meanwhile. */
async function repl(h: Harness, frameId: number, expression: string): Promise<string> {
  return (await noted(h, frameId, expression)).value;
}

async function noted(h: Harness, frameId: number, expression: string): Promise<{ value: string; note?: string }> {
  const result = (await h.dc.evaluateRequest({ expression, frameId, context: 'repl' })).body.result;
  const match = NOTE.exec(result);
  return match ? { value: match[1], note: match[2] } : { value: result };
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

      it('runs coroutines to their value and statements with await in the frame, in a suspended task\'s frame too; completes `await`', async () => {
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

          const parked = (await h.dc.threadsRequest()).body.threads.find((t) => /\(parked\)$/.test(t.name));
          assert.ok(parked, 'the parked task is a thread');
          const suspended = await h.topFrame(parked.id);
          assert.equal(suspended.line, SUSPENDED);
          assert.equal(await repl(h, suspended.id, 'seen = await fetch(3)'), '');
          assert.equal(await repl(h, suspended.id, 'seen + 1'), '43');

          const keyword = await h.dc.completionsRequest({ text: 'aw', column: 3, frameId });
          assert.deepEqual(keyword.body.targets.find((t) => t.label === 'await'), { label: 'await', type: 'keyword', start: 0, length: 2 });
          const names = await h.dc.completionsRequest({ text: 'await fe', column: 9, frameId });
          assert.deepEqual(names.body.targets.map((t: DebugProtocol.CompletionItem) => [t.label, t.type]), [['fetch', 'function']]);
          const attrs = await h.dc.completionsRequest({ text: 'await finished.res', column: 19, frameId });
          assert.deepEqual(attrs.body.targets.map((t) => t.label), ['result']);

          const out = await finish(h, threadId);
          assert.match(out, /stop 45\n/, 'the program goes on with the value the console gave it');
          // The parked task returns what `pending` brought (45) plus its `seen` (42).
          assert.match(out, /total 87 ready ready left in queue 1\n/);
        });
      });

      it('turns the paused loop for its own future, queue and lock; cancels at awaitTimeout; reports syntax errors', async () => {
        await withAdapter(async (h) => {
          const { threadId, frameId } = await stopped(h, py, variant);
          const since = h.mark();
          if (variant.label === 'uvloop') {
            assert.match(await refused(h, frameId, 'await ready'), /cannot wait for <Future pending.*belongs to a paused event loop that cannot run from this thread/);
            assert.match(await refused(h, frameId, 'await queue.get()'), /`await queue.get\(\)` was still waiting after 1 s: cancelled/);
            assert.match(await refused(h, frameId, 'await parked'), /cannot wait for <Task pending name='parked'/);
            assert.equal(await repl(h, frameId, 'counter = 100'), '');
            assert.ok(!h.history.slice(since).some((e) => e.event === 'invalidated'), 'nothing of the program ran');
          } else {
            const ready = await noted(h, frameId, 'await ready');
            assert.equal(ready.value, "'ready'");
            assert.match(ready.note ?? '', /^\d other tasks? ran: .*producer/);
            const invalidated = await h.waitFor<DebugProtocol.InvalidatedEvent>('invalidated', since);
            assert.deepEqual(invalidated.body.areas, ['threads', 'stacks', 'variables']);
            assert.equal(await repl(h, frameId, 'await queue.get()'), '7');
            assert.equal(await repl(h, frameId, 'async with lock: counter = 100'), '');
            assert.equal(await repl(h, frameId, 'lock.locked()'), 'False');
            const exited = h.history.slice(since).filter((e) => e.event === 'thread' && (e as DebugProtocol.ThreadEvent).body.reason === 'exited');
            assert.equal(exited.length, 2, 'producer and holder ended while the loop ran: two thread events');
          }
          // Only the stopped task completes `pending`: turning the loop cannot, refusing is at once.
          assert.match(await refused(h, frameId, 'await pending'), variant.label === 'uvloop' ? /cannot wait for <Future pending/ : /`await pending` was still waiting after 1 s: cancelled/);
          assert.match(await refused(h, frameId, 'await ('), /SyntaxError/);
          assert.match(await refused(h, frameId, 'await fetch(1)', 'watch'), /SyntaxError: 'await' outside function/);
          assert.equal(await repl(h, frameId, 'pending.cancelled(), parked.done(), counter'), '(False, False, 100)');
          const top = await h.topFrame(threadId);
          assert.equal(top.line, STOP, 'the stopped task is where it was');
          const out = await finish(h, threadId);
          const left = variant.label === 'uvloop' ? 1 : 0;
          assert.match(out, new RegExp(`stop 100\ntotal 100 ready ready left in queue ${left}\n`), 'the program runs on: nothing the console did broke its loop');
        });
      });
    });
  }
}
