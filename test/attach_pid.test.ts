// Attach by process id to programs started with plain python: a busy one (breakpoint, evaluate),
// detach leaving nothing behind, and attaching again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after } from 'node:test';
import { Harness, isAlive, sleep, withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { attachTo, fixtureLine, threadCount, killAllTargets, settledThreadCount, startTarget } from './attach_pid_support';

after(killAllTargets);

const BUSY = fixture('attach_busy.py');
const WORK = fixtureLine(BUSY, '# WORK');

/** The process's open sockets (ctypes may keep libffi open for its trampolines: modules stay). */
function openFiles(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return fd;
    }
  }).filter((f) => /socket:/.test(f)).sort();
}

async function settledFiles(pid: number, expected: string[]): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  let now = openFiles(pid);
  while (JSON.stringify(now) !== JSON.stringify(expected) && Date.now() < deadline) {
    await sleep(50);
    now = openFiles(pid);
  }
  return now;
}

eachPython('attach by pid', (py) => {
  const minor = Number(py.version.split('.')[1]);
  it('attaches to a busy program, stops at a breakpoint, evaluates, detaches and attaches again', async () => {
    const target = await startTarget(py.path, BUSY);
    try {
      const before = threadCount(target.pid);
      const files = openFiles(target.pid);
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
          // Round 2 finds one tool id of ours: round 1 gave its own back (3.12+; 3.11 has none).
          const tools = "sum(getattr(__import__('sys'), 'monitoring', None) is not None and __import__('sys').monitoring.get_tool(i) == 'tasklens' for i in range(6))";
          const claimed = await h.dc.evaluateRequest({ expression: tools, frameId: top.id, context: 'repl' });
          assert.equal(claimed.body.result, minor >= 12 ? '1' : '0');
          const threads = await h.dc.threadsRequest();
          assert.ok(threads.body.threads.some((t) => t.name === 'MainThread'), JSON.stringify(threads.body.threads));
        });
        assert.equal(isAlive(target.pid), true, 'the program runs on after the detach');
        assert.equal(await settledThreadCount(target.pid, before), before, `round ${round}: the agent's threads are gone`);
        assert.deepEqual(await settledFiles(target.pid, files), files, `round ${round}: the agent's socket is closed`);
      }
    } finally {
      target.kill();
    }
  });

  it('an adapter killed while attached: the program runs on, the agent unloads', async () => {
    const target = await startTarget(py.path, BUSY);
    try {
      const before = threadCount(target.pid);
      const h = await Harness.start();
      try {
        await attachTo(h, target.pid);
        assert.ok(threadCount(target.pid) > before, 'the agent runs threads while attached');
        h.adapter.kill('SIGKILL');
      } finally {
        await h.close();
      }
      assert.equal(await settledThreadCount(target.pid, before), before);
      assert.equal(isAlive(target.pid), true);
    } finally {
      target.kill();
    }
  });
});
