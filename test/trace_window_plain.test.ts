// `tasklens trace PID --for S` on a program started by plain python, on every interpreter of
// the matrix and uvloop on 3.14: the agent is loaded for the window and removed after, and a second
// window records anew. The rest of `trace PID --for` (under `tasklens run`, Ctrl-C, refusals) is
// in trace_window.test.ts; the two are apart so that neither nears node's per-file time limit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach } from 'node:test';
import { eachPythonAndLoop } from './async_support';
import { killAllTargets, startTarget } from './attach_pid_support';
import { privateRuntime, run, waitUntil } from './run_support';
import { it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import { load, sliceAt, validate, EPS, type Trace } from './trace_support';

const APP = fixture('top_app.py');
const rt = privateRuntime();
const dir = fs.mkdtempSync(path.join(rt.env.XDG_RUNTIME_DIR!, 'windows-'));
after(rt.remove);
afterEach(killAllTargets);

function trace(pid: number, args: string[]) {
  return run(process.execPath, [MAIN_JS, 'trace', String(pid), ...args], { env: rt.env });
}

/**
 * The wake edges of a trace, as "waker -> woken" (the slice at each flow's two ends). A window of
 * a second holds a few hundred thousand events: each end is found by binary search, not a scan.
 */
function edges(t: Trace): Set<string> {
  const tracks = validate(t);
  const steps = t.traceEvents.filter((e) => e.cat === 'step');
  const onLoop = tracks.get(`${steps[0].pid}/${steps[0].tid}`)!.filter((x) => x.cat !== undefined).sort((a, b) => a.ts! - b.ts!);
  const ends = new Map(t.traceEvents.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
  /** Index of the last slice that starts at or before ts. */
  const before = (ts: number): number => {
    let lo = 0;
    let hi = onLoop.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (onLoop[mid].ts! <= ts) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  /** The outermost slice that holds ts (as sliceAt), among the few that start just before it. */
  const holding = (ts: number): Trace['traceEvents'][number] | undefined => {
    let found;
    for (let i = before(ts + EPS); i >= 0 && i > before(ts + EPS) - 64; i--) {
      if (sliceAt([onLoop[i]], ts)) found = onLoop[i];
    }
    return found;
  };
  const startingAt = (ts: number) => {
    for (let i = before(ts + EPS); i >= 0 && onLoop[i].ts! >= ts - EPS; i--) {
      if (onLoop[i].cat === 'step') return onLoop[i];
    }
    return undefined;
  };
  return new Set(t.traceEvents.filter((e) => e.ph === 's').map((s) => {
    const f = ends.get(s.id)!;
    return `${holding(s.ts!)?.name} -> ${startingAt(f.ts!)?.name}`;
  }));
}

function stepNames(t: Trace): Set<string> {
  return new Set(t.traceEvents.filter((e) => e.cat === 'step').map((e) => String(e.name)));
}

eachPythonAndLoop('tasklens trace PID --for', true, (py, loop) => {
  it('a program started by plain python: one window of its steps, wake edges and blocked loop; the agent gone after; a second window anew', async () => {
    const target = await startTarget(py.path, APP, loop.args);
    const file = path.join(dir, `plain-${py.version}-${loop.args.length}.json.gz`);
    const r = await trace(target.pid, ['--for', '1', '--out', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`process ${target.pid} ran without tasklens: its agent is loaded for the recording and removed when it ends`));
    const said = JSON.parse(r.stdout) as { path: string; events: number; bytes: number };
    assert.equal(said.path, file);
    assert.equal(fs.statSync(file).size, said.bytes);
    const t = load(file);
    assert.equal(t.traceEvents.length, said.events);
    const wakes = edges(t);
    const names = stepNames(t);
    for (const n of ['hog', 'spinner', 'ticker']) assert.ok(names.has(n), [...names].join());
    assert.ok(wakes.has('spinner -> spinner'), `a self-wake: ${[...wakes].join('; ')}`);
    assert.ok([...wakes].some((w) => /^timer .* -> ticker$/.test(w)), `a timer: ${[...wakes].join('; ')}`);
    assert.ok(t.traceEvents.some((e) => e.cat === 'blocked' && e.name === 'blocked by hog'), 'the hog\'s 150 ms steps block the loop');
    const steps = t.traceEvents.filter((e) => e.cat === 'step');
    const span = Math.max(...steps.map((e) => e.ts! + e.dur!)) - Math.min(...steps.map((e) => e.ts!));
    assert.ok(span > 700_000 && span < 1_500_000, `the steps span the 1 s window: ${span} µs`);
    // the window over, the agent leaves with its threads (the program has one)
    await waitUntil(() => fs.readdirSync(`/proc/${target.pid}/task`).length === 1, 10_000, 'the agent\'s threads end with the window');
    const again = path.join(dir, `plain-again-${py.version}-${loop.args.length}.json`);
    const second = await trace(target.pid, ['--for', '0.5', '--out', again]);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(stepNames(load(again)).has('ticker'), 'the second window has steps of its own');
    assert.equal(target.child.exitCode, null, 'the program runs on');
  });
});
