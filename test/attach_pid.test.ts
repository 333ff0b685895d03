// Attach by process id to programs started with plain python: a busy one (breakpoint, evaluate),
// detach leaving nothing behind, and attaching again.
import * as assert from 'node:assert/strict';
import { after } from 'node:test';
import { isAlive, sleep, withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { attachTo, fixtureLine, killAllTargets, startTarget, threadCount } from './attach_pid_support';

after(killAllTargets);

const BUSY = fixture('attach_busy.py');
const WORK = fixtureLine(BUSY, '# WORK');

async function settledThreadCount(pid: number, expected: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let n = threadCount(pid);
  while (n !== expected && Date.now() < deadline) {
    await sleep(50);
    n = threadCount(pid);
  }
  return n;
}

eachPython('attach by pid', (py) => {
  it('attaches to a busy program, stops at a breakpoint, evaluates, detaches and attaches again', async () => {
    const target = await startTarget(py.path, BUSY);
    try {
      const before = threadCount(target.pid);
      for (const round of [1, 2]) {
        await withAdapter(async (h) => {
          await attachTo(h, target.pid, async () => {
            const set = await h.dc.setBreakpointsRequest({ source: { path: BUSY }, breakpoints: [{ line: WORK }] });
            assert.equal(set.body.breakpoints[0].verified, true, `round ${round}`);
          });
          const stop = await h.waitStopped(0).catch((err: Error) => {
            throw new Error(`round ${round}: ${err.message}`);
          });
          const top = await h.topFrame(stop.body.threadId);
          assert.equal(top.name, 'work');
          assert.equal(top.line, WORK);
          const value = await h.dc.evaluateRequest({ expression: 'n + 1000', frameId: top.id, context: 'repl' });
          assert.match(value.body.result, /^\d+$/);
          const threads = await h.dc.threadsRequest();
          assert.ok(threads.body.threads.some((t) => t.name === 'MainThread'), JSON.stringify(threads.body.threads));
        });
        assert.equal(isAlive(target.pid), true, 'the program runs on after the detach');
        assert.equal(await settledThreadCount(target.pid, before), before, `round ${round}: the agent's threads are gone`);
      }
    } finally {
      target.kill();
    }
  });
});
