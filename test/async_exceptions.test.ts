// Exception filters on asyncio programs (docs/async-semantics.md rule 6 and E3): `raised` ignores
// asyncio's control-flow exceptions; `taskUnhandled` stops where an exception is about to escape
// a task that nothing awaits, and not for a cancellation or an awaited task's failure.
import * as assert from 'node:assert/strict';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { assertAt, topOf, eachPythonAndLoop, launchAsync, lineOf, threads } from './async_support';

const raisedProgram = fixture('async_raised.py');
const unhandledProgram = fixture('async_unhandled.py');

async function where(h: Harness, stop: Stopped): Promise<string> {
  const top = await topOf(h, stop.body.threadId);
  const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId }).then((r) => r.body.exceptionId, () => '?');
  return `${stop.body.reason} ${info} in ${top.name} ${top.source?.path}:${top.line}`;
}

eachPythonAndLoop('async exception filters', true, (py, loop) => {
  for (const variant of ['async for, generators, wait_for, shield, timeout, TaskGroup, gather', 'cancelling a task in queue.get()']) {
    it(`rule 6: "raised" does not stop on asyncio control flow (${variant})`, async () => {
      await withAdapter(async (h) => {
        const args = [...(variant.startsWith('cancel') ? ['cancel'] : []), ...loop.args];
        const since = h.mark();
        await h.launch(py, { program: raisedProgram, args }, async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters: ['raised'] });
        });
        const stop = await h.waitStopped(since);
        const top = await topOf(h, stop.body.threadId);
        assert.equal(top.line, lineOf(raisedProgram, 'RAISE_LINE'), `first stop: ${await where(h, stop)}`);
        assert.equal(stop.body.reason, 'exception');
        const resumed = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(resumed), 0);
        assert.match(h.output('stdout'), /^total 11$/m);
      });
    });
  }

  it('taskUnhandled stops at the raise in a task nothing awaits, frames alive, not for cancellation', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, unhandledProgram, [], { loop, filters: ['taskUnhandled'] });
      assert.equal(stop.body.reason, 'exception', await where(h, stop));
      const top = await assertAt(h, stop.body.threadId, unhandledProgram, { name: 'doomed', lines: [lineOf(unhandledProgram, 'DOOMED_RAISE')], n: '7' }, await where(h, stop));
      const locals = await h.locals(top.id);
      assert.equal(locals.get('payload')?.value, "{'n': 7}");
      const thread = (await threads(h)).find((t) => t.id === stop.body.threadId);
      assert.equal(thread?.name, 'Task: doomed (doomed-7)');
      const info = await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId });
      assert.match(`${info.body.exceptionId} ${info.body.details?.typeName ?? ''}`, /ValueError/);
      assert.match(`${info.body.description ?? ''} ${info.body.details?.message ?? ''}`, /boom-7/);
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
      assert.deepEqual(h.history.slice(resumed).filter((e) => e.event === 'stopped'), [], 'one stop only');
      assert.match(h.output('stdout'), /orphan failed: ValueError/);
    });
  });

  it('taskUnhandled is off by default: the same program runs through', async () => {
    await withAdapter(async (h) => {
      const since = h.mark();
      await h.launch(py, { program: unhandledProgram, args: loop.args });
      assert.equal(await h.exitCode(since), 0);
      assert.deepEqual(h.history.slice(since).filter((e) => e.event === 'stopped'), []);
    });
  });
});
