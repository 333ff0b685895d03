// Pause stops a program whatever its threads do (issue 17): an event loop idle in select is
// woken and stops at the loop; a thread blocked in C (a lock, a sleep) is shown stopped as it is,
// labelled; a busy thread stops at its line. After each pause every thread's and task's stack
// and variables are readable, evaluate works in a task frame, and continue lets the program run.
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness, type Stopped } from './support/harness';
import { it } from './support/matrix';
import { FIXTURES, fixture } from './support/paths';
import { TASK_ID_BASE, eachPythonAndLoop, evaluate, lineOf, threads, type Loop } from './async_support';
import type { Python } from './support/pythons';

const asyncDeadlock = fixture('pause_async_deadlock.py');
const idleServer = fixture('pause_idle_server.py');
const lockDeadlock = fixture('pause_lock_deadlock.py');
const sleeper = fixture('pause_sleep.py');
const busy = fixture('tight_loop.py');

async function start(h: Harness, py: Python, program: string, loop: Loop | undefined, ready: RegExp): Promise<void> {
  await h.launch(py, { program, args: loop?.args ?? [] });
  await h.waitForOutput('stdout', ready);
}

async function pause(h: Harness): Promise<Stopped> {
  const first = (await threads(h))[0];
  const since = h.mark();
  await h.dc.pauseRequest({ threadId: first.id });
  const stop = await h.waitStopped(since);
  assert.equal(stop.body.reason, 'pause');
  assert.equal(stop.body.allThreadsStopped, true);
  return stop;
}

interface Seen {
  thread: DebugProtocol.Thread;
  frames: DebugProtocol.StackFrame[];
  locals: Map<string, DebugProtocol.Variable>;
}

/** Every thread's and task's stack, and the locals of its innermost frame with a source. */
async function readEverything(h: Harness): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  for (const thread of await threads(h)) {
    const frames = (await h.dc.stackTraceRequest({ threadId: thread.id })).body.stackFrames;
    const top = frames.find((f) => f.presentationHint !== 'label');
    assert.ok(top, `${thread.name}: no frame in ${JSON.stringify(frames.map((f) => f.name))}`);
    seen.set(thread.name, { thread, frames, locals: await h.locals(top.id) });
  }
  return seen;
}

function named(seen: Map<string, Seen>, pattern: RegExp): Seen[] {
  const found = [...seen.entries()].filter(([name]) => pattern.test(name)).map(([, s]) => s);
  assert.ok(found.length > 0, `no thread matching ${pattern} in ${JSON.stringify([...seen.keys()])}`);
  return found;
}

async function resume(h: Harness, stop: Stopped): Promise<void> {
  await h.dc.continueRequest({ threadId: stop.body.threadId });
}

eachPythonAndLoop('pause', true, (py, loop) => {
  it('an asyncio deadlock: the idle loop is woken and stops at the loop, every task readable', async () => {
    await withAdapter(async (h) => {
      await start(h, py, asyncDeadlock, loop, /^ready$/m);
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pause(h);
      const seen = await readEverything(h);
      const main = named(seen, /^MainThread$/)[0];
      assert.equal(stop.body.threadId, main.thread.id, 'the loop thread stopped (at its loop)');
      const shown = main.frames.map((f) => `${f.name} ${f.source?.path}`);
      assert.ok(main.frames.every((f) => f.source?.path?.startsWith(FIXTURES)), `under justMyCode the loop's own frames are hidden: ${shown}`);
      assert.equal(main.frames.at(-1)?.source?.path, asyncDeadlock);
      const workers = named(seen, /^Task: worker /);
      assert.equal(workers.length, 2);
      for (const worker of workers) {
        assert.equal(worker.frames[0].name, 'worker');
        assert.equal(worker.frames[0].line, lineOf(asyncDeadlock, 'WAITS_FOR_THE_OTHER'));
        assert.ok(worker.thread.id >= TASK_ID_BASE);
      }
      assert.deepEqual(workers.map((w) => w.locals.get('n')?.value).sort(), ['1', '2']);
      assert.equal(await evaluate(h, workers[0].frames[0].id, 'theirs.locked() and mine.locked()'), 'True');
      const gather = named(seen, /^Task: main /)[0];
      assert.equal(gather.frames[0].line, lineOf(asyncDeadlock, 'GATHER'));
      await resume(h, stop);
      await pause(h);     // stops again: the program ran on after continue
    });
  });

  it('an idle server: stops at once, tasks readable, and serves again after continue', async () => {
    await withAdapter(async (h) => {
      await start(h, py, idleServer, loop, /^port \d+$/m);
      const port = Number(/^port (\d+)$/m.exec(h.output('stdout'))![1]);
      const stop = await pause(h);
      const seen = await readEverything(h);
      const main = named(seen, /^Task: main /)[0];
      assert.equal(main.frames[0].line, lineOf(idleServer, 'SERVING'));
      assert.equal(await evaluate(h, main.frames[0].id, 'port'), String(port));
      await resume(h, stop);
      assert.equal(await ask(port, 'hello'), 'echo hello\n');
    });
  });

  it('while running, the task table and the stacks of tasks are read without pausing', async () => {
    await withAdapter(async (h) => {
      await start(h, py, asyncDeadlock, loop, /^ready$/m);
      await new Promise((r) => setTimeout(r, 300));
      const table = (await h.dc.customRequest('tasklens/taskTable')).body as { tasks: Array<{ threadId: number; coroutine: string; stack: Array<{ line: number }> }> };
      const workers = table.tasks.filter((t) => t.coroutine === 'worker');
      assert.equal(workers.length, 2, JSON.stringify(table));
      for (const worker of workers) {
        assert.equal(worker.stack.at(-1)?.line, lineOf(asyncDeadlock, 'WAITS_FOR_THE_OTHER'));
        const frames = (await h.dc.stackTraceRequest({ threadId: worker.threadId })).body.stackFrames;
        assert.deepEqual(frames.map((f) => [f.name, f.line]), [
          ['worker', lineOf(asyncDeadlock, 'WAITS_FOR_THE_OTHER')],
          ['awaited by Task: main (Task-1)', 0],
          ['main', lineOf(asyncDeadlock, 'GATHER')],
        ]);
        await assert.rejects(h.dc.scopesRequest({ frameId: frames[0].id }), /the program is running/);
      }
      const thread = (await threads(h)).find((t) => t.id < TASK_ID_BASE)!;
      await assert.rejects(h.dc.stackTraceRequest({ threadId: thread.id }), /the program is running/);
      assert.deepEqual(h.history.filter((e) => e.event === 'stopped'), [], 'nothing paused the program');
    });
  });

  if (loop.args.length > 0) return;   // the rest has no event loop

  it('a threading.Lock deadlock: every thread is shown blocked in lock.acquire, readable', async () => {
    await withAdapter(async (h) => {
      await start(h, py, lockDeadlock, undefined, /^ready$/m);
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pause(h);
      assert.match(stop.body.description ?? '', /blocked in native code/);
      const seen = await readEverything(h);
      for (const name of ['one', 'two']) {
        const worker = named(seen, new RegExp(`^${name} \\(blocked in native code\\)$`))[0];
        assert.equal(worker.frames[0].presentationHint, 'label');
        assert.match(worker.frames[0].name, /^blocked in native code: .* at pause_lock_deadlock\.py:\d+/);
        assert.equal(worker.frames[1].name, 'take');
        assert.equal(worker.frames[1].line, lineOf(lockDeadlock, 'BLOCKED_HERE'));
        assert.equal(worker.locals.get('name')?.value, `'${name}'`);
        assert.equal(await evaluate(h, worker.frames[1].id, 'a.locked() and b.locked()'), 'True');
      }
      const main = named(seen, /^MainThread \(blocked in native code\)$/)[0];
      // Thread.join waits in lock.acquire() (3.11-3.13) or in its thread handle's join() (3.14+).
      assert.match(main.frames[0].name, /^blocked in native code: \S+\(\) at threading\.py:\d+, from pause_lock_deadlock\.py:\d+$/);
      assert.equal(main.frames[1].line, lineOf(lockDeadlock, 'JOINING'));
      await resume(h, stop);
      await pause(h);
    });
  });

  it('a time.sleep(3600): stopped with its frame and variables, and runs on after continue', async () => {
    await withAdapter(async (h) => {
      await start(h, py, sleeper, undefined, /^tick 2$/m);
      const stop = await pause(h);
      const seen = await readEverything(h);
      const main = named(seen, /^MainThread/)[0];
      assert.match(main.frames[0].name, /^blocked in native code: time\.sleep\(\) at pause_sleep\.py:\d+$/);
      assert.equal(main.frames[1].line, lineOf(sleeper, 'SLEEPING'));
      assert.equal(main.locals.get('hours')?.value, '1');
      assert.equal(await evaluate(h, main.frames[1].id, 'hours * 60'), '60');
      named(seen, /^ticker/);
      const ticks = h.output('stdout').split('\n').length;
      await resume(h, stop);
      await h.waitForOutput('stdout', new RegExp(`(?:.*\\n){${ticks + 1}}`));
    });
  });

  it('stepping a thread blocked in native code waits until it runs Python again', async () => {
    await withAdapter(async (h) => {
      const program = fixture('long_sleep.py');     // naps 1.5 s at a time
      await h.launch(py, { program });
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pause(h);
      assert.match(stop.body.description ?? '', /blocked in native code: time\.sleep\(\)/);
      const since = h.mark();
      await h.dc.nextRequest({ threadId: stop.body.threadId });
      const stepped = await h.waitStopped(since);
      assert.equal(stepped.body.reason, 'step');
      assert.equal(stepped.body.threadId, stop.body.threadId);
      const frames = (await h.dc.stackTraceRequest({ threadId: stepped.body.threadId })).body.stackFrames;
      assert.equal(frames[0].name, 'nap', 'stopped in its own frame, no longer labelled');
      assert.equal(frames[0].source?.path, program);
    });
  });

  it('a busy loop: stops at its line, and counts on after continue', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: busy });
      await new Promise((r) => setTimeout(r, 300));
      const stop = await pause(h);
      const top = (await h.dc.stackTraceRequest({ threadId: stop.body.threadId })).body.stackFrames[0];
      assert.equal(top.source?.path, busy);
      const before = Number(await evaluate(h, top.id, 'counter'));
      assert.ok(before > 0);
      await resume(h, stop);
      await new Promise((r) => setTimeout(r, 200));
      const again = await pause(h);
      const later = (await h.dc.stackTraceRequest({ threadId: again.body.threadId })).body.stackFrames[0];
      assert.ok(Number(await evaluate(h, later.id, 'counter')) > before);
    });
  });
});

/** Sends one line to the server on `port` and returns its answer. */
function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (answer += text));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
}
