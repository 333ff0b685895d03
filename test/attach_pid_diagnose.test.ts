// Diagnostics in a session attached by process id to a plain-python program that hung before
// any debugger came (an asyncio deadlock on two Locks taken with `async with`, the loop idle in
// epoll_wait): the deadlock is reported as an output event with both tasks, their lines and the
// cycle; with the `deadlock` filter the session stops with the graph in exceptionInfo; after
// each detach the program's thread count is back and the program itself sees none of the
// hooks (it prints what it sees on SIGUSR1); a second attach reports again.
import * as assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sleep, withAdapter, type Harness } from './support/harness';
import { eachPython, it, TEST_TIMEOUT_MS } from './support/matrix';
import { needsGdbToReach, skippable } from './support/gdb';
import { fixture } from './support/paths';
import { attachTo, fixtureLine, hasUvloop, threadCount, killAllTargets, settledThreadCount, startTarget, type Target } from './attach_pid_support';

after(killAllTargets);

const PROGRAM = fixture('attach_diag_deadlock.py');
const WAITS = fixtureLine(PROGRAM, '# WAITS_FOR_THE_OTHER');
const SERVICE = fixture('attach_diag_service.py');
const CONSUMER_WAIT = fixtureLine(SERVICE, '# CONSUMER_WAIT');
const FRAGILE_RAISE = fixtureLine(SERVICE, '# FRAGILE_RAISE');
const BLOCKS = fixtureLine(SERVICE, '# BLOCKS');
const EARLY_RAISE = fixtureLine(SERVICE, '# EARLY_RAISE');
const DROPS = fixtureLine(SERVICE, '# DROPS');

/** What the program sees of the hooks, from its SIGUSR1 handler (one JSON line). */
async function leftovers(target: Target): Promise<Record<string, unknown>> {
  const seen = target.stdout().split('\n').filter((l) => l.startsWith('leftovers ')).length;
  process.kill(target.pid, 'SIGUSR1');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = target.stdout().split('\n').filter((l) => l.startsWith('leftovers '));
    if (lines.length > seen) return JSON.parse(lines[seen].slice('leftovers '.length)) as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`no leftovers line: ${target.stdout()}`);
    await sleep(20);
  }
}

function assertGraph(text: string): void {
  assert.match(text, /deadlock: all 3 tasks of the event loop in thread MainThread are waiting and nothing can wake them/, text);
  for (const task of ['Task-2', 'Task-3']) assert.ok(text.includes(`task ${task} (worker) waits at ${PROGRAM}:${WAITS} in worker on Lock theirs.acquire()`), text);
  // Both locks were taken before the attach: their holders are the tasks inside `async with`.
  assert.match(text, /cycle: Task-\d \(worker\) → Lock theirs \(held by Task-\d \(worker\) since .*, before tasklens attached\) → Task-\d \(worker\) → Lock theirs/, text);
}

eachPython('attach by pid with diagnostics', (py) => {
  const minor = Number(py.version.split('.')[1]);
  it('a hung asyncio deadlock: reported, stopped on with the deadlock filter, nothing left after each detach', async () => {
    const target = await startTarget(py.path, PROGRAM);
    try {
      const before = threadCount(target.pid);
      const clean = await leftovers(target);
      assert.deepEqual(
        Object.entries(clean).filter(([k, v]) => v !== true && !['tools', 'lockDicts', 'callbacks'].includes(k)),
        [],
        'the fixture sees its own originals',
      );

      await withAdapter(async (h: Harness) => {
        await attachTo(h, target.pid);
        const text = await h.waitForOutput('important', /tasklens: deadlock/);
        if (process.env.TASKLENS_SHOW) console.log(text);
        assertGraph(text);
        // The check below is the one that sees these hooks while attached.
        const during = await leftovers(target);
        assert.deepEqual([during.select, during.lock, during.unawaited, during.create_task], [false, false, false, false], JSON.stringify(during));
        if (minor >= 12) assert.equal((during.tools as number[]).length, 2, JSON.stringify(during));
        // 3.11 learns a task's end from a done callback, given to the tasks older than the attach too.
        if (minor === 11) assert.notDeepEqual(during.callbacks, clean.callbacks, JSON.stringify(during));
      });
      assert.equal(await settledThreadCount(target.pid, before), before, "round 1: the agent's threads are gone");
      assert.deepEqual(await leftovers(target), clean, 'round 1: the hooks are gone');

      await withAdapter(async (h: Harness) => {
        await attachTo(h, target.pid, async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters: ['deadlock'] });
        });
        const stop = await h.waitStopped(0);
        assert.equal(stop.body.reason, 'exception');
        const info = (await h.dc.exceptionInfoRequest({ threadId: stop.body.threadId })).body;
        assert.equal(info.exceptionId, 'tasklens.Deadlock');
        assertGraph(info.description ?? '');
        const names = (await h.dc.threadsRequest()).body.threads.map((t) => t.name);
        assert.ok(names.includes('Task: worker (Task-2)') && names.includes('Task: worker (Task-3)'), JSON.stringify(names));
      });
      assert.equal(await settledThreadCount(target.pid, before), before, "round 2: the agent's threads are gone");
      assert.deepEqual(await leftovers(target), clean, 'round 2: the hooks are gone');
    } finally {
      target.kill();
    }
  });

  it('a running service: a task stuck since before the attach (≥), lost exceptions of a task failed before the attach and of one older than it, a blocked loop, a coroutine never awaited', async () => {
    const target = await startTarget(py.path, SERVICE);
    try {
      const before = threadCount(target.pid);
      await withAdapter(async (h: Harness) => {
        await attachTo(h, target.pid, undefined, { stuckS: 1 });
        const stuck = await h.waitForOutput('important', /tasklens: stuck task: task consumer/);
        assert.match(stuck, /stuck task: task consumer \(consumer\) has waited ≥ \d+\.\d s at .* and nothing will wake it/, stuck);
        assert.ok(stuck.includes(`${SERVICE}:${CONSUMER_WAIT} in consumer`), stuck);
        const early = await h.waitForOutput('important', /exception never retrieved: task early/);
        assert.match(early, /task early \(early\) failed with KeyError: 'early'\n {2}raised at .*\n {2}it failed before tasklens attached/, early);
        assert.ok(early.includes(`raised at ${SERVICE}:${EARLY_RAISE} in early`), early);
        process.kill(target.pid, 'SIGUSR2');
        const lost = await h.waitForOutput('important', /exception never retrieved: task fragile/);
        assert.match(lost, /tasklens: exception never retrieved: task fragile \(fragile\) failed with ValueError: fragile broke/, lost);
        assert.ok(lost.includes(`raised at ${SERVICE}:${FRAGILE_RAISE} in fragile`), lost);
        process.kill(target.pid, 'SIGUSR1');
        const blocked = await h.waitForOutput('important', /tasklens: blocked loop ended/);
        assert.match(blocked, /tasklens: blocked loop: callback .*misbehave.* has blocked the event loop of thread MainThread/, blocked);
        assert.ok(blocked.includes(`${SERVICE}:${BLOCKS} in misbehave`), blocked);
        const dropped = await h.waitForOutput('important', /coroutine never awaited/);
        assert.ok(dropped.includes(`tasklens: coroutine never awaited: fetch()\n  dropped at ${SERVICE}:${DROPS} in misbehave`), dropped);
      });
      assert.equal(await settledThreadCount(target.pid, before), before);
    } finally {
      target.kill();
    }
  });

  it('the blockedLoop and neverAwaited filters stop in a program attached to', async () => {
    const target = await startTarget(py.path, SERVICE);
    try {
      await withAdapter(async (h: Harness) => {
        await attachTo(h, target.pid, async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters: ['blockedLoop', 'neverAwaited'] });
        });
        const since = h.mark();
        process.kill(target.pid, 'SIGUSR1');
        const blocked = await h.waitStopped(since);
        assert.equal(blocked.body.reason, 'exception');
        const top = await h.topFrame(blocked.body.threadId);
        assert.deepEqual([top.name, top.line], ['misbehave', DROPS], 'the line after the blocking call');
        const info = (await h.dc.exceptionInfoRequest({ threadId: blocked.body.threadId })).body;
        assert.equal(info.exceptionId, 'tasklens.BlockedLoop');
        const next = h.mark();
        await h.dc.continueRequest({ threadId: blocked.body.threadId });
        const dropped = await h.waitStopped(next);
        const frame = await h.topFrame(dropped.body.threadId);
        assert.deepEqual([frame.name, frame.line], ['misbehave', DROPS]);
        assert.equal((await h.dc.exceptionInfoRequest({ threadId: dropped.body.threadId })).body.exceptionId, 'tasklens.NeverAwaited');
      });
    } finally {
      target.kill();
    }
  });

  const uvloop = hasUvloop(py);
  test('a hung deadlock on uvloop: reported with its cycle, nothing left after the detach', { timeout: TEST_TIMEOUT_MS, skip: uvloop ? false : `uvloop is not installed for ${py.label}` }, skippable(async () => {
    needsGdbToReach('idle in uvloop');
    const target = await startTarget(py.path, PROGRAM, ['--loop=uvloop']);
    try {
      const before = threadCount(target.pid);
      const clean = await leftovers(target);
      await withAdapter(async (h: Harness) => {
        await attachTo(h, target.pid, undefined, { stuckS: 1 });
        const text = await h.waitForOutput('important', /tasklens: (likely )?deadlock/);
        if (process.env.TASKLENS_SHOW) console.log(text);
        assert.ok(text.includes(`${PROGRAM}:${WAITS} in worker on Lock theirs.acquire()`), text);
        assert.match(text, /of the event loop in thread MainThread/, text);
        assert.match(text, /cycle: .* before tasklens attached/, text);
      });
      assert.equal(await settledThreadCount(target.pid, before), before);
      assert.deepEqual(await leftovers(target), clean);
    } finally {
      target.kill();
    }
  }));
});
