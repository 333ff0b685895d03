// Diagnostics in a debug session: every report as an `important` output event (launch argument
// `diagnose`, default true; false turns them off), and the three exception filters, which stop
// where the report points: blockedLoop inside the blocking frame, neverAwaited at the dropping
// line, deadlock on a waiting task with every task's frames alive; exceptionInfo has the report.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listDiscoveryRecords } from '../src/agent/discovery';
import { eachPythonAndLoop, launchAsync, lineOf, threads } from './async_support';
import { LAUNCH } from './diagnose_support';
import { sleep, withAdapter, type Harness } from './support/harness';
import { it } from './support/matrix';
import { fixture } from './support/paths';

const blocked = fixture('diag_blocked.py');
const unawaited = fixture('diag_unawaited.py');
const deadlock = fixture('diag_deadlock.py');
const lost = fixture('diag_lost.py');

async function info(h: Harness, threadId: number): Promise<string> {
  const body = (await h.dc.exceptionInfoRequest({ threadId })).body;
  return `${body.exceptionId}: ${body.description ?? ''}`;
}

eachPythonAndLoop('diagnose in a debug session', true, (py, loop) => {
  it('reports arrive as important output events by default, and not with diagnose: false', async () => {
    await withAdapter(async (h) => {
      const since = h.mark();
      await h.launch(py, { program: lost, args: loop.args });
      assert.equal(await h.exitCode(since), 0);
      const text = h.output('important');
      assert.match(text, /tasklens: exception never retrieved: task kept \(worker\) failed with ValueError/);
      assert.ok(text.includes(`raised at ${lost}:${lineOf(lost, 'RAISE_LINE')} in parse`), text);
      assert.match(text, /tasklens: exception retrieved later/);
      assert.doesNotMatch(h.output('stderr'), /tasklens:/);
    });
    await withAdapter(async (h) => {
      const since = h.mark();
      await h.launch(py, { program: lost, args: loop.args, diagnose: false });
      assert.equal(await h.exitCode(since), 0);
      assert.doesNotMatch(h.output('important') + h.output('stderr'), /tasklens:/);
    });
  });

  it('the launch arguments slowMs and stuckS set the thresholds', async () => {
    const stuck = fixture('diag_stuck.py');
    await withAdapter(async (h) => {
      // The consumer is stuck from its first second on; the default threshold is 10 s, the program lives 4 s.
      const since = h.mark();
      await h.launch(py, { program: stuck, args: [...loop.args, '4'], stuckS: 1 });
      assert.match(await h.waitForOutput('important', /tasklens: stuck task/, 15_000), /consumer/);
      assert.equal(await h.exitCode(since), 0);
    });
    await withAdapter(async (h) => {
      // A 0.4 s sleep in a step is no blocked loop when the threshold is 5 s.
      const since = h.mark();
      await h.launch(py, { program: blocked, args: ['sleep', ...loop.args], slowMs: 5000 });
      assert.equal(await h.exitCode(since), 0);
      assert.doesNotMatch(h.output('important'), /blocked loop/);
    });
  });

  it('a step held at a breakpoint is not a blocked loop', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, lost, [{ line: lineOf(lost, 'CREATE_LATE') }], { loop, filters: ['blockedLoop'] });
      assert.equal(stop.body.reason, 'breakpoint');
      await new Promise((resolve) => setTimeout(resolve, 600));
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
      assert.doesNotMatch(h.output('important'), /blocked loop/);
      assert.match(h.output('important'), /exception never retrieved: task kept/);
      assert.deepEqual(h.history.slice(resumed).filter((e) => e.event === 'stopped'), []);
    });
  });

  it('blockedLoop stops inside the blocking frame as soon as Python runs there again', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, blocked, [], { loop: { label: loop.label, args: ['sleep', ...loop.args] }, filters: ['blockedLoop'] });
      assert.equal(stop.body.reason, 'exception');
      const trace = await h.dc.stackTraceRequest({ threadId: stop.body.threadId });
      const top = trace.body.stackFrames[0];
      assert.equal(top.name, 'handler');
      assert.equal(top.source?.path, blocked);
      assert.equal(top.line, lineOf(blocked, 'SLEEP_LINE') + 1, 'the line after the blocking call');
      assert.match(await info(h, stop.body.threadId), /^tasklens\.BlockedLoop: tasklens: blocked loop: task slow-handler \(handler\) has blocked/);
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
    });
  });

  it('neverAwaited stops in the dropping frame at the dropping line', async () => {
    await withAdapter(async (h) => {
      const stop = await launchAsync(h, py, unawaited, [], { loop, filters: ['neverAwaited'] });
      assert.equal(stop.body.reason, 'exception');
      const top = (await h.dc.stackTraceRequest({ threadId: stop.body.threadId })).body.stackFrames[0];
      assert.deepEqual([top.name, top.source?.path, top.line], ['fire_and_forget', unawaited, lineOf(unawaited, 'DROP_PLAIN')]);
      assert.match(await info(h, stop.body.threadId), /^tasklens\.NeverAwaited: tasklens: coroutine never awaited: fetch\(\)/);
      const second = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      const next = await h.waitStopped(second);
      const frame = (await h.dc.stackTraceRequest({ threadId: next.body.threadId })).body.stackFrames[0];
      assert.deepEqual([frame.name, frame.line], ['keep_then_drop', lineOf(unawaited, 'DROP_KEPT')]);
      await h.dc.setExceptionBreakpointsRequest({ filters: [] });
      const resumed = h.mark();
      await h.dc.continueRequest({ threadId: next.body.threadId });
      assert.equal(await h.exitCode(resumed), 0);
    });
  });

  if (loop.label !== 'uvloop') {
    it('deadlock stops everything on a waiting task, the wait-for graph in exceptionInfo', async () => {
      await withAdapter(async (h) => {
        const stop = await launchAsync(h, py, deadlock, [], { loop: { label: loop.label, args: ['locks', ...loop.args] }, filters: ['deadlock'] });
        assert.equal(stop.body.reason, 'exception');
        const text = await info(h, stop.body.threadId);
        assert.match(text, /^tasklens\.Deadlock: tasklens: deadlock: all 3 tasks of the event loop/);
        assert.match(text, /cycle: /);
        const names = (await threads(h)).map((t) => t.name);
        assert.ok(names.includes('Task: first (Task-2)') && names.includes('Task: second (Task-3)'), JSON.stringify(names));
        const first = (await threads(h)).find((t) => t.name === 'Task: first (Task-2)');
        const frames = (await h.dc.stackTraceRequest({ threadId: first?.id ?? 0 })).body.stackFrames;
        assert.deepEqual([frames[0].name, frames[0].line], ['first', lineOf(deadlock, 'FIRST_WAITS')]);
        const scopes = await h.locals(frames[0].id);
        assert.ok(scopes.has('a') && scopes.has('b'), 'the waiting frame is alive');
        // Continued, the same deadlock is not told again (the stop woke the loop once; the
        // watchdog looks again each second): no second stop, one report.
        const resumed = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        await sleep(3000);
        assert.deepEqual(h.history.slice(resumed).filter((e) => e.event === 'stopped'), [], 'stopped again on the same deadlock');
        assert.equal(h.output('important').match(/tasklens: deadlock/g)?.length, 1, h.output('important'));
      });
    });
  }
});

eachPythonAndLoop('diagnose when attaching', false, (py) => {
  it('attaching to a program that already hangs reports its deadlock', async () => {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-diagattach-'));
    fs.chmodSync(xdg, 0o700);
    const env = { ...process.env, XDG_RUNTIME_DIR: xdg };
    const child = spawn(py.path, [LAUNCH, '--listen', '127.0.0.1:0', '--no-wait', '--', deadlock, 'events'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not started: ${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('started events')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const saved = process.env.XDG_RUNTIME_DIR;
      process.env.XDG_RUNTIME_DIR = xdg;
      const record = (await listDiscoveryRecords()).find((r) => r.pid === child.pid);
      process.env.XDG_RUNTIME_DIR = saved;
      assert.ok(record, 'the discovery file of the program');
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        await h.dc.attachRequest({ connect: { host: '127.0.0.1', port: record.port, token: record.token } } as never);
        await h.waitFor('initialized', 0);
        await h.dc.configurationDoneRequest();
        const text = await h.waitForOutput('important', /tasklens: deadlock/);
        assert.match(text, /all 3 tasks of the event loop in thread MainThread are waiting and nothing can wake them/);
        assert.ok(text.includes(`${deadlock}:${lineOf(deadlock, 'EVENT_WAIT')}`), text);
      });
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });
});
