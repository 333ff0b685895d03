// `tasklens trace PID --for S`: a window of the asyncio timeline of a program that records
// none, written when the window ends. A program under `tasklens run` without --trace records
// through its agent and counts as before after; Ctrl-C ends a window early; the refusals. A
// program started by plain python, on every interpreter, is in trace_window_plain.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, test } from 'node:test';
import { killAllTargets, startProgram, startTarget } from './attach_pid_support';
import { BIN, killAll, privateRuntime, ready, run, start, waitUntil } from './run_support';
import { skippable } from './support/gdb';
import { fixture, MAIN_JS } from './support/paths';
import { load, type Trace } from './trace_support';
import type { TopView } from '../src/top/model';

const APP = fixture('top_app.py');
const rt = privateRuntime();
const dir = fs.mkdtempSync(path.join(rt.env.XDG_RUNTIME_DIR!, 'windows-'));
after(rt.remove);
afterEach(killAll);
afterEach(killAllTargets);

function trace(pid: number, args: string[]) {
  return run(process.execPath, [MAIN_JS, 'trace', String(pid), ...args], { env: rt.env });
}

/** `tasklens run` refusing its own words (the program is never started). */
function runUsage(args: string[]) {
  return run(process.execPath, [MAIN_JS, 'run', ...args, APP], { env: rt.env });
}

function stepNames(t: Trace): Set<string> {
  return new Set(t.traceEvents.filter((e) => e.cat === 'step').map((e) => String(e.name)));
}

test('tasklens trace PID --for: a program under tasklens run without --trace records a window, then top counts as before; the refusals', skippable(async () => {
  const plain = start(BIN, ['run', '--python', 'python3', APP], { env: rt.env });
  const pid = await ready(plain);
  const file = path.join(dir, 'under-run.json');
  const r = await trace(pid, ['--for', '0.5', '--out', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /its agent is loaded/);
  assert.match(r.stdout, new RegExp(`^${file}: \\d+ events, \\d+ bytes\\n$`));
  assert.ok(stepNames(load(file)).has('ticker'));
  assert.match(r.stderr, new RegExp(`^tasklens: recording process ${pid} for 0.5 s into ${file}$`, 'm'));
  const top = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--sample', '1', '--interval', '0.5'], { env: rt.env });
  assert.equal(top.code, 0, top.stderr);
  assert.ok((JSON.parse(top.stdout) as TopView).tasks.some((x) => x.name === 'ticker' && x.polls > 5), top.stdout);

  // while a top counts, its counters have no trace's records in them
  const counting = run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--interval', '4'], { env: rt.env });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const crowded = await trace(pid, ['--for', '0.2']);
  assert.equal(crowded.code, 1);
  assert.match(crowded.stderr, /a `tasklens top` counts this program's steps: record once it has ended/);
  assert.doesNotMatch(crowded.stderr, /recording process/, 'a refused window never says it records');
  assert.equal((await counting).code, 0);

  const recording = start(BIN, ['run', '--python', 'python3', '--trace', path.join(dir, 'whole.json'), APP], { env: rt.env });
  const busy = await trace(await ready(recording), ['--for', '0.5']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /records a trace already \(--trace \S+whole\.json\): `tasklens trace PID` without --for writes it now/);
  assert.equal(busy.stderr.trim().split('\n').length, 1, `the refusal alone: ${busy.stderr}`);

  const usage = await trace(pid, ['--out', file]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--out goes with --for/);
  const long = await trace(pid, ['--for', '4000']);
  assert.equal(long.code, 2);
  assert.match(long.stderr, /at most 3600 seconds/);
  assert.equal(plain.child.exitCode, null, 'the program runs on');
}));

test('tasklens trace PID --for 60, Ctrl-C after a moment: the window ends there, its file written, the program runs on', skippable(async () => {
  const program = start(BIN, ['run', '--python', 'python3', APP], { env: rt.env });
  const pid = await ready(program);
  const file = path.join(dir, 'stopped.json');
  const recording = start(process.execPath, [MAIN_JS, 'trace', String(pid), '--for', '60', '--out', file], { env: rt.env });
  await waitUntil(() => /recording process/.test(recording.stderr()), 10_000, 'the window began');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const asked = Date.now();
  recording.child.kill('SIGINT');
  const r = await recording.ended;
  assert.ok(Date.now() - asked < 10_000, 'not the whole minute');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stopping the recording now; writing what it holds/);
  const said = new RegExp(`^${file}: (\\d+) events, \\d+ bytes \\(stopped after ([\\d.]+) s\\)\\n$`).exec(r.stdout);
  assert.ok(said, r.stdout);
  assert.ok(Number(said[2]) >= 0.9 && Number(said[2]) < 10, said[2]);
  assert.equal(load(file).traceEvents.length, Number(said[1]));
  assert.ok(stepNames(load(file)).has('ticker'));
  assert.equal(program.child.exitCode, null, 'the program runs on');
}));

test('tasklens trace PID --for with an --out that cannot be written: refused at once, before the window, with status 2 as `run --trace`', async () => {
  const target = await startProgram('python3', APP);
  const threads = fs.readdirSync(`/proc/${target.pid}/task`).length;
  for (const [out, why] of [['/nonexistent/x.json', 'no such folder /nonexistent'], [dir, 'is a folder']]) {
    const began = Date.now();
    const r = await trace(target.pid, ['--for', '30', '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `tasklens: --out ${out}: ${why}\n`);
    assert.ok(Date.now() - began < 10_000, `refused after ${Date.now() - began} ms, not after the 30 s window`);
    const asRun = await runUsage(['--trace', out]);
    assert.equal(asRun.code, r.code, 'the same status as `run --trace` with that file');
    assert.equal(asRun.stderr, `tasklens run: --trace ${out}: ${why}\n`);
  }
  assert.equal(fs.readdirSync(`/proc/${target.pid}/task`).length, threads, 'no agent was loaded into the program');
});

test('tasklens trace PID --for: a program that ends during the window writes what it recorded; one killed leaves no file', skippable(async () => {
  const short = await startTarget('python3', fixture('trace_short.py'));
  const file = path.join(dir, 'ended.json');
  const r = await trace(short.pid, ['--for', '5', '--out', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { path: file, bytes: fs.statSync(file).size, ended: true });
  assert.ok(stepNames(load(file)).has('Task-1'), 'the steps until the end');

  const victim = await startTarget('python3', APP);
  const lost = path.join(dir, 'killed.json');
  const killed = trace(victim.pid, ['--for', '5', '--out', lost]);
  await waitUntil(() => fs.existsSync(lost), 15_000, 'the window began');
  victim.kill();
  const k = await killed;
  assert.equal(k.code, 1);
  assert.match(k.stderr, new RegExp(`process ${victim.pid} ended during the recording without writing it`));
  assert.ok(!fs.existsSync(lost), 'the empty file is gone');
}));

test('a window asked while a top holds the agent it loaded reads that agent beside it, and is refused while the top counts, saying why', skippable(async () => {
  const target = await startTarget('python3', APP);
  const top = run(process.execPath, [MAIN_JS, 'top', String(target.pid), '--once', '--interval', '4'], { env: rt.env });
  await waitUntil(() => fs.readdirSync(`/proc/${target.pid}/task`).length > 1, 15_000, 'the top\'s agent is in');
  const second = await trace(target.pid, ['--for', '0.5']);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`process ${target.pid} has a tasklens agent loaded for another session \\(a debugger attached by PID, a top or a trace --for\\): the recording reads it beside that session`));
  assert.match(second.stderr, /a `tasklens top` counts this program's steps: record once it has ended/);
  assert.equal((await top).code, 0);
}));
