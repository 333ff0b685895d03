// Attach by process id to programs that will never run Python code again by themselves: an
// asyncio deadlock (loop idle in epoll_wait; uvloop too where installed), threads deadlocked on
// threading.Lock, a main thread in time.sleep. The attach completes, threads and tasks are
// listed, and a pause stops the program and says which threads are blocked in native code.
import * as assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it, TEST_TIMEOUT_MS } from './support/matrix';
import { needsGdbToReach, skippable } from './support/gdb';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { attachTo, fixtureLine, hasUvloop, killAllTargets, startTarget } from './attach_pid_support';

after(killAllTargets);

const BLOCKED = fixtureLine(fixture('pause_lock_deadlock.py'), '# BLOCKED_HERE');

async function pauseAll(h: Harness): Promise<DebugProtocol.StoppedEvent> {
  const since = h.mark();
  await h.dc.pauseRequest({ threadId: 0 });
  return h.waitStopped(since);
}

async function frameNames(h: Harness, threadId: number): Promise<string[]> {
  const trace = await h.dc.stackTraceRequest({ threadId });
  return trace.body.stackFrames.map((f) => f.name);
}

async function asyncDeadlock(py: Python, args: string[]): Promise<void> {
  if (args.includes('--loop=uvloop')) needsGdbToReach('idle in uvloop');
  const target = await startTarget(py.path, fixture('pause_async_deadlock.py'), args);
  try {
    await withAdapter(async (h) => {
      await attachTo(h, target.pid);
      const threads = (await h.dc.threadsRequest()).body.threads;
      const workers = threads.filter((t) => /^Task: worker/.test(t.name));
      assert.equal(workers.length, 2, JSON.stringify(threads));
      // A task's stack is read while the program runs (from the agent's own thread).
      assert.ok((await frameNames(h, workers[0].id)).includes('worker'));
      const stop = await pauseAll(h);
      assert.equal(stop.body.reason, 'pause');
      const main = threads.find((t) => t.name === 'MainThread')!;
      assert.ok((await frameNames(h, main.id)).length > 0);
    });
    assert.equal(target.child.exitCode, null, 'the program still runs after the detach');
  } finally {
    target.kill();
  }
}

eachPython('attach by pid, hung programs', (py) => {
  it('an asyncio deadlock idle in epoll_wait: tasks, their stacks, pause', () => asyncDeadlock(py, []));

  const uvloop = hasUvloop(py);
  test('an asyncio deadlock on uvloop', { timeout: TEST_TIMEOUT_MS, skip: uvloop ? false : `uvloop is not installed for ${py.label}` }, skippable(() =>
    asyncDeadlock(py, ['--loop=uvloop'])));

  it('threads deadlocked on threading.Lock: listed, paused, labelled blocked in native code', async () => {
    needsGdbToReach('waiting on a threading.Lock');
    const target = await startTarget(py.path, fixture('pause_lock_deadlock.py'));
    try {
      await withAdapter(async (h) => {
        await attachTo(h, target.pid);
        const names = (await h.dc.threadsRequest()).body.threads.map((t) => t.name);
        for (const name of ['MainThread', 'one', 'two']) assert.ok(names.includes(name), JSON.stringify(names));
        await pauseAll(h);
        const threads = (await h.dc.threadsRequest()).body.threads;
        const one = threads.find((t) => t.name.startsWith('one'))!;
        assert.match(one.name, /blocked in native code/);
        const top = (await h.dc.stackTraceRequest({ threadId: one.id })).body.stackFrames[0];
        assert.match(top.name, new RegExp(`^blocked in native code: .* at pause_lock_deadlock\\.py:${BLOCKED}`));
      });
    } finally {
      target.kill();
    }
  });

  it('a main thread in time.sleep: paused, its stack says where it sleeps', async () => {
    needsGdbToReach('in time.sleep');
    const target = await startTarget(py.path, fixture('pause_sleep.py'), [], [], /tick 1/);
    try {
      await withAdapter(async (h) => {
        await attachTo(h, target.pid);
        const stop = await pauseAll(h);
        const main = (await h.dc.threadsRequest()).body.threads.find((t) => t.name.startsWith('MainThread'))!;
        const frames = await frameNames(h, main.id);
        assert.match(frames[0], /^blocked in native code: time\.sleep\(\)/, `${JSON.stringify(frames)} ${JSON.stringify(stop.body)}`);
      });
    } finally {
      target.kill();
    }
  });
});
