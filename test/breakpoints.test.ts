// Breakpoints: moved lines, verification, late imports, conditions, hit counts, logpoints,
// function breakpoints, exception breakpoints.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

eachPython('breakpoints', (py) => {
  it('moves a breakpoint to the next executable line and explains one that cannot be set', async () => {
    await withAdapter(async (h) => {
      const program = fixture('breakpoint_lines.py');
      let answer: DebugProtocol.Breakpoint[] = [];
      await h.launch(py, { program }, async () => {
        const res = await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 3 }, { line: 999 }] });
        answer = res.body.breakpoints;
      });
      assert.equal(answer.length, 2);
      assert.equal(answer[0].verified, true);
      assert.equal(answer[0].line, 5);
      assert.equal(answer[1].verified, false);
      assert.ok(answer[1].message && answer[1].message.length > 0, 'an unverified breakpoint says why');
      const stop = await h.waitStopped(0);
      assert.equal((await h.topFrame(stop.body.threadId)).line, 5);
      assert.deepEqual(stop.body.hitBreakpointIds, [answer[0].id]);
    });
  });

  it('forwards breakpoints set before launch and reports their verification as events', async () => {
    await withAdapter(async (h) => {
      const program = fixture('basic_add.py');
      await h.dc.initializeRequest();
      const early = (await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 5 }] })).body.breakpoints[0];
      assert.equal(early.verified, false);
      assert.match(early.message ?? '', /Pending/);
      await h.dc.launchRequest({ program, python: py.path } as never);
      await h.waitFor('initialized', 0);
      await h.dc.configurationDoneRequest();
      const stop = await h.waitStopped(0);
      const change = h.history.find((e): e is DebugProtocol.BreakpointEvent => e.event === 'breakpoint');
      assert.equal(change?.body.breakpoint.id, early.id);
      assert.equal(change?.body.breakpoint.verified, true);
      assert.deepEqual(stop.body.hitBreakpointIds, [early.id]);
    });
  });

  it('verifies a breakpoint in a module imported after the program started', async () => {
    await withAdapter(async (h) => {
      const module = fixture('late_pkg/imported_later.py');
      let answer: DebugProtocol.Breakpoint | undefined;
      await h.launch(py, { program: fixture('import_after_start.py') }, async () => {
        answer = (await h.dc.setBreakpointsRequest({ source: { path: module }, breakpoints: [{ line: 2 }] })).body.breakpoints[0];
      });
      const stop = await h.waitStopped(0);
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.source?.path, module);
      assert.equal(top.line, 2);
      if (answer?.verified !== true) {
        const change = h.history.find(
          (e): e is DebugProtocol.BreakpointEvent => e.event === 'breakpoint' && (e as DebugProtocol.BreakpointEvent).body.breakpoint.id === answer?.id,
        );
        assert.equal(change?.body.breakpoint.verified, true, 'a breakpoint event verified it before the stop');
        assert.ok(h.history.indexOf(change!) < h.history.indexOf(stop));
      }
    });
  });

  it('honours condition and logMessage with {expression} interpolation', async () => {
    await withAdapter(async (h) => {
      const program = fixture('loop_conditions.py');
      await h.launch(py, { program }, async () => {
        await h.dc.setBreakpointsRequest({
          source: { path: program },
          breakpoints: [{ line: 4, condition: 'i == 7' }, { line: 5, logMessage: 'i={i} doubled={i * 2}' }],
        });
      });
      const stop = await h.waitStopped(0);
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.line, 4);
      assert.equal((await h.dc.evaluateRequest({ expression: 'i', frameId: top.id, context: 'watch' })).body.result, '7');
      const logged = Array.from({ length: 7 }, (_, i) => `i=${i} doubled=${i * 2}\n`).join('');
      assert.equal(h.output('console'), logged);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 0);
      assert.equal(h.output('console'), logged + 'i=7 doubled=14\ni=8 doubled=16\ni=9 doubled=18\n');
      assert.equal(h.output('stdout'), 'total 63\n');
    });
  });

  it('honours hitCondition', async () => {
    await withAdapter(async (h) => {
      const program = fixture('loop_conditions.py');
      await h.launch(py, { program }, async () => {
        await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 4, hitCondition: '3' }] });
      });
      const stop = await h.waitStopped(0);
      const top = await h.topFrame(stop.body.threadId);
      assert.equal((await h.dc.evaluateRequest({ expression: 'i', frameId: top.id, context: 'watch' })).body.result, '2');
    });
  });

  it('stops at a function breakpoint', async () => {
    await withAdapter(async (h) => {
      const program = fixture('function_target.py');
      let answer: DebugProtocol.Breakpoint[] = [];
      await h.launch(py, { program }, async () => {
        answer = (await h.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'compute' }] })).body.breakpoints;
      });
      assert.equal(answer.length, 1);
      const stop = await h.waitStopped(0);
      assert.equal(stop.body.reason, 'function breakpoint');
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.name, 'compute');
      // The first line of the body, as pdb's `break compute` (not the `def` line).
      assert.equal(top.line, 2, `stopped at the first line of compute's body, line ${top.line}`);
      const locals = await h.locals(top.id);
      assert.equal(locals.get('n')?.value, '6');
    });
  });

  it('stops on raised exceptions with exceptionInfo', async () => {
    await withAdapter(async (h) => {
      const program = fixture('exceptions_raised_and_uncaught.py');
      await h.launch(py, { program }, async () => {
        await h.dc.setExceptionBreakpointsRequest({ filters: ['raised'] });
      });
      const stop = await h.waitStopped(0);
      assert.equal(stop.body.reason, 'exception');
      assert.equal((await h.topFrame(stop.body.threadId)).line, 3);
      const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId });
      assert.match(info.body.exceptionId, /ValueError/);
      assert.match(`${info.body.description} ${info.body.details?.message}`, /caught one/);
      assert.equal(info.body.breakMode, 'always');
      const next = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      const second = await h.waitStopped(next);
      assert.equal((await h.topFrame(second.body.threadId)).line, 9);
      const info2 = await h.dc.exceptionInfoRequest({ threadId: second.body.threadId });
      assert.match(info2.body.exceptionId, /KeyError/);
    });
  });

  it('stops only on the uncaught exception by default, with its traceback', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('exceptions_raised_and_uncaught.py') });
      const stop = await h.waitStopped(0);
      assert.equal(stop.body.reason, 'exception');
      const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId });
      assert.match(info.body.exceptionId, /KeyError/);
      assert.equal(info.body.breakMode, 'unhandled');
      assert.match(info.body.details?.stackTrace ?? '', /fatal/);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 1);
      assert.match(h.output('stderr'), /KeyError: 'boom'/);
    });
  });
});
