// `await` in the console where the loop's thread runs no task (docs/console.md): stopped in a
// loop callback, and paused while the loop waits in select (how one looks at a hung server).
// Python 3.12 refused both with a KeyError: taking the current task from a loop that has none
// raises there (agent/tasklens_agent/paused_loop.py `swap_current`). And a task that went round
// its `while True` while the loop turned is named as having run, though back at the same line.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { lineOf } from './async_support';

const PROGRAM = fixture('console_await_outside_task.py');
const CALLBACK = lineOf(PROGRAM, 'CALLBACK');

eachPython('console await outside a task', (py) => {
  it('in a loop callback, and in a pause of the idle loop: a coroutine runs to its value', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, PROGRAM, [CALLBACK]);
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.name, 'fire');
      // The paused loop turns for it; the ticker, back at the same line after each round,
      // is named among the tasks that ran meanwhile.
      const inCallback = await h.dc.evaluateRequest({ expression: 'await asyncio.sleep(0.05, result=value + 2)', frameId: top.id, context: 'repl' });
      assert.match(inCallback.body.result, /^7 +\(the paused event loop ran [\d.]+ s for this; meanwhile 1 other task ran: ticker\)$/);

      await h.dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [] });
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      await h.waitForOutput('stdout', /idle\n/);
      const since = h.mark();
      await h.dc.pauseRequest({ threadId: stop.body.threadId });
      const paused = await h.waitStopped(since);
      const frames = (await h.dc.stackTraceRequest({ threadId: paused.body.threadId })).body.stackFrames;
      const module = frames.find((f: DebugProtocol.StackFrame) => f.name === '<module>');
      assert.ok(module, `a <module> frame in ${frames.map((f) => f.name).join(', ')}`);
      const inPause = await h.dc.evaluateRequest({ expression: 'await asyncio.sleep(0.01, result=41 + 1)', frameId: module.id, context: 'repl' });
      assert.match(inPause.body.result, /^42\b/);
    });
  });
});
