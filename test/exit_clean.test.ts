// A program that ends normally leaves nothing of the debugger on stderr, whatever exception
// filters are on: the interpreter's finalization (loop and object `__del__`s) runs after the
// agent's modules are torn down, where a trace callback used to print "Exception ignored in".
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { eachPythonAndLoop } from './async_support';

const program = fixture('exit_clean.py');
const FILTERS = ['raised', 'uncaught', 'taskUnhandled'];

function combinations(): string[][] {
  return Array.from({ length: 1 << FILTERS.length }, (_, mask) => FILTERS.filter((_, i) => mask & (1 << i)));
}

/** Continues every stop until the program ends; returns its exit code. */
async function runThrough(h: Harness, since: number): Promise<number> {
  let seen = since;
  for (;;) {
    const next = await Promise.race([h.waitStopped(seen), h.waitFor<DebugProtocol.ExitedEvent>('exited', since)]);
    if (next.event === 'exited') return h.exitCode(since);
    seen = h.history.indexOf(next) + 1;
    await h.dc.continueRequest({ threadId: (next as DebugProtocol.StoppedEvent).body.threadId! });
  }
}

eachPythonAndLoop('clean exit', true, (py, loop) => {
  // The settrace backend, forced on 3.12+, must be as clean as the one 3.11 uses by default.
  const forced = !py.version.startsWith('3.11.') && loop.args.length === 0;
  const variants = [
    ...combinations().map((filters) => ({ filters, env: {} })),
    ...(forced ? [['taskUnhandled'], FILTERS].map((filters) => ({ filters, env: { TASKLENS_BACKEND: 'settrace' } })) : []),
  ];
  for (const { filters, env } of variants) {
    const backend = 'TASKLENS_BACKEND' in env ? ' (settrace backend)' : '';
    it(`no debugger traceback on stderr with filters [${filters.join(', ')}]${backend}`, async () => {
      await withAdapter(async (h) => {
        const since = h.mark();
        await h.launch(py, { program, args: loop.args, env }, async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters });
        });
        assert.equal(await runThrough(h, since), 0);
        assert.match(h.output('stdout'), /^orphan: ValueError$/m);
        const stderr = h.output('stderr');
        assert.doesNotMatch(stderr, /Traceback|Exception ignored|tasklens_agent|Error/, `stderr:\n${stderr}`);
      });
    });
  }
});
