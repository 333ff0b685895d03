// A breakpoint another task meets while the console's `await` turns the paused event loop
// (docs/console.md): the evaluation goes on to its value, the task is held at that line, and
// the stop is reported after the answer as an ordinary `stopped` event, with its real stack
// and locals; on continue the held step ends first and the program finishes as it would
// have. A breakpoint in the console's own code does not stop, as ever.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withAdapter } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { pythons } from './support/pythons';
import { lineOf } from './async_support';

const PROGRAM = fixture('console_await_stops.py');
const STOP = lineOf(PROGRAM, 'STOP');
const WORKER = lineOf(PROGRAM, 'WORKER');
const TWICE = lineOf(PROGRAM, 'TWICE');

for (const py of pythons()) {
  describe(`console await meets a breakpoint [${py.label}]`, () => {
    if (py.problem !== undefined) {
      test('interpreter is available', () => assert.fail(`cannot run ${py.path}: ${py.problem}`));
      return;
    }

    it('answers the evaluation, then reports the other task\'s stop with its stack; the held step ends first on continue', async () => {
      await withAdapter(async (h) => {
        const first = await h.launchToStop(py, PROGRAM, [STOP, WORKER, TWICE]);
        const top = await h.topFrame(first.body.threadId);
        assert.equal(top.line, STOP);

        const quiet = h.mark();
        assert.equal((await h.dc.evaluateRequest({ expression: 'await twice(4)', frameId: top.id, context: 'repl' })).body.result, '8');
        assert.equal((await h.dc.evaluateRequest({ expression: '1 + 1', frameId: top.id, context: 'repl' })).body.result, '2');
        assert.ok(!h.history.slice(quiet).some((e) => e.event === 'stopped'), 'the console\'s own code never stops, as ever');

        const since = h.mark();
        const answer = await h.dc.evaluateRequest({ expression: '(event.set(), await asyncio.sleep(0.2, result=5))[1]', frameId: top.id, context: 'repl' });
        const answeredAt = h.mark();
        assert.match(answer.body.result, /^5\s+\(the paused event loop ran [\d.]+ s for this; meanwhile 1 other task ran: worker; 1 stopped at a breakpoint, shown next\)$/);
        const held = await h.waitStopped(since);
        assert.ok(h.mark() >= answeredAt, 'the stop comes after the answer');
        assert.equal(held.body.reason, 'breakpoint');
        assert.equal(held.body.hitBreakpointIds?.length, 1);
        const threads = (await h.dc.threadsRequest()).body.threads;
        assert.match(threads.find((t) => t.id === held.body.threadId)?.name ?? '', /\(worker\)$/, JSON.stringify(threads));

        const stack = (await h.dc.stackTraceRequest({ threadId: held.body.threadId })).body.stackFrames;
        assert.equal(stack[0].line, WORKER);
        assert.equal(stack[0].name, 'worker');
        assert.equal((await h.locals(stack[0].id)).get('n')?.value, '1', 'the task really is at that line');
        assert.equal((await h.dc.evaluateRequest({ expression: 'n * 10', frameId: stack[0].id, context: 'repl' })).body.result, '10');
        assert.equal((await h.topFrame(first.body.threadId)).line, STOP, 'the first stop stays where it was');

        const end = h.mark();
        await h.dc.continueRequest({ threadId: held.body.threadId });
        assert.equal(await h.exitCode(end), 0, h.output('stderr'));
        const stops = h.history.slice(end).filter((e) => e.event === 'stopped');
        assert.deepEqual(stops, [], 'nothing stops again');
        assert.equal(h.output('stdout'), 'stop\nworker 2\nresults stopper done 2\n');
      });
    });

    it('console code that never yields, on the turned loop, is interrupted at its deadline; the loop and the program go on', async () => {
      await withAdapter(async (h) => {
        const first = await h.launchToStop(py, PROGRAM, [STOP], { awaitTimeout: 1 });
        const top = await h.topFrame(first.body.threadId);
        for (const spin of ['(await asyncio.sleep(0), sum(1 for _ in iter(int, 1)))', '(await asyncio.sleep(0), [0 for _ in range(10**10)])']) {
          const answer = await h.dc.evaluateRequest({ expression: spin, frameId: top.id, context: 'repl' }).then(
            (r) => r.body.result,
            (e: Error) => e.message,
          );
          assert.match(answer, /still running after [\d.]+ s; interrupted/);
          assert.equal((await h.dc.evaluateRequest({ expression: 'await asyncio.sleep(0, result=7)', frameId: top.id, context: 'repl' })).body.result, '7');
        }
        await h.dc.evaluateRequest({ expression: 'event.set()', frameId: top.id, context: 'repl' });
        const end = h.mark();
        await h.dc.continueRequest({ threadId: first.body.threadId });
        assert.equal(await h.exitCode(end), 0, h.output('stderr'));
        assert.equal(h.output('stdout'), 'stop\nworker 2\nresults stopper done 2\n');
      });
    });
  });
}
