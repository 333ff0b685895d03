// Stepping, pausing and the threads list.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

async function step(h: Harness, command: 'next' | 'stepIn' | 'stepOut', threadId: number): Promise<DebugProtocol.StackFrame> {
  const since = h.mark();
  await h.dc[`${command}Request`]({ threadId });
  const stop = await h.waitStopped(since);
  assert.equal(stop.body.reason, 'step');
  return h.topFrame(stop.body.threadId);
}

async function pauseAndCheck(h: Harness, threadName: string): Promise<Stopped> {
  const threads = await h.dc.threadsRequest();
  const main = threads.body.threads.find((t) => t.name === threadName);
  assert.ok(main, `thread ${threadName} in ${JSON.stringify(threads.body.threads)}`);
  const since = h.mark();
  const asked = Date.now();
  await h.dc.pauseRequest({ threadId: main.id });
  const stop = await h.waitStopped(since, 3000);
  assert.equal(stop.body.reason, 'pause');
  assert.ok(Date.now() - asked < 2000, `paused within 2 s (took ${Date.now() - asked} ms)`);
  return stop;
}

eachPython('stepping', (py) => {
  it('next steps over a call', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('stepping_calls.py'), [8]);
      const frame = await step(h, 'next', stop.body.threadId);
      assert.equal(frame.name, 'outer');
      assert.equal(frame.line, 9);
    });
  });

  it('stepIn enters the call and stepOut returns to the caller', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('stepping_calls.py'), [8]);
      const inside = await step(h, 'stepIn', stop.body.threadId);
      assert.equal(inside.name, 'inner');
      assert.equal(inside.line, 2);
      const back = await step(h, 'stepOut', stop.body.threadId);
      assert.equal(back.name, 'outer');
      assert.equal(back.line, 8, 'back in outer at the line of the call');
      assert.equal((await step(h, 'next', stop.body.threadId)).line, 9);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 0);
      assert.equal(h.output('stdout'), '3\n');
    });
  });

  it('pauses a thread spinning in a tight loop', async () => {
    await withAdapter(async (h) => {
      const program = fixture('tight_loop.py');
      await h.launch(py, { program });
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pauseAndCheck(h, 'MainThread');
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.source?.path, program);
      assert.ok(top.line === 4 || top.line === 5, `in the loop, got line ${top.line}`);
      const counter = await h.dc.evaluateRequest({ expression: 'counter', frameId: top.id, context: 'watch' });
      assert.ok(Number(counter.body.result) > 0);
    });
  });

  it('pauses a thread waiting in time.sleep', async () => {
    await withAdapter(async (h) => {
      const program = fixture('sleeping_loop.py');
      await h.launch(py, { program });
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pauseAndCheck(h, 'MainThread');
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.name, 'wait_forever');
    });
  });

  it('shows a thread blocked in native code stopped at once, labelled with where it waits', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('long_sleep.py') });
      await new Promise((r) => setTimeout(r, 300));
      const since = h.mark();
      const threads = (await h.dc.threadsRequest()).body.threads;
      await h.dc.pauseRequest({ threadId: threads[0].id });
      const stop = await h.waitStopped(since, 4000);
      assert.match(stop.body.description ?? '', /MainThread is blocked in native code: time\.sleep\(\) at long_sleep\.py:6/);
      const frames = (await h.dc.stackTraceRequest({ threadId: stop.body.threadId })).body.stackFrames;
      assert.deepEqual(frames.slice(0, 2).map((f) => [f.name, f.presentationHint]), [
        ['blocked in native code: time.sleep() at long_sleep.py:6', 'label'],
        ['nap', 'normal'],
      ]);
    });
  });

  it('lists threads with their live names, all stopped together', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('named_threads.py'), [16]);
      assert.equal(stop.body.allThreadsStopped, true);
      const threads = (await h.dc.threadsRequest()).body.threads;
      const names = threads.map((t) => t.name).sort();
      assert.deepEqual(names, ['MainThread', 'worker-a', 'worker-b']);
      assert.equal(new Set(threads.map((t) => t.id)).size, 3);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 0);
      assert.equal(h.output('stdout'), 'joined\n');
    });
  });
});
