// `tasklens run --trace FILE`: the file is checked against the Chrome trace event format as
// Perfetto UI reads it (every slice closed, slices on one track nested, both ends of each flow,
// times growing on each track) and against a program with a known timeline (its steps, the wake
// edges from a timer, a queue put and a lock release, the blocked period). Also `.json.gz`,
// the ring buffer's bound, `tasklens trace PID` and SIGUSR2 on a running program.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, test } from 'node:test';
import { eachPythonAndLoop } from './async_support';
import { BIN, killAll, privateRuntime, ready, run, start, waitUntil } from './run_support';
import { killAllTargets, startProgram } from './attach_pid_support';
import { withTree } from './support/children';
import { withAdapter } from './support/harness';
import { load, sliceAt, validate, EPS } from './trace_support';
import { it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';

const rt = privateRuntime();
const dir = fs.mkdtempSync(path.join(rt.env.XDG_RUNTIME_DIR!, 'traces-'));
after(rt.remove);
afterEach(killAll);
afterEach(killAllTargets);

eachPythonAndLoop('tasklens run --trace', true, (py, loop) => {
  it('a known program: its steps, wake edges and blocked period, in a valid file', async () => {
    const file = path.join(dir, `known-${py.version}-${loop.args.length}.json.gz`);
    const r = await run(BIN, ['run', '--python', py.path, '--trace', file, fixture('trace_app.py'), ...loop.args], { env: rt.env });
    assert.equal(r.code, 0, r.stderr);
    const said = /tasklens: trace written to (.+): (\d+) events, /.exec(r.stderr);
    assert.ok(said, r.stderr);
    assert.equal(said[1], file);
    const t = load(file);
    assert.equal(t.traceEvents.length, Number(said[2]));
    const tracks = validate(t);
    const threadNames = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => String(e.args!.name));
    assert.ok(threadNames.includes('MainThread (event loop)'), threadNames.join());
    assert.ok(threadNames.includes('task consumer'), threadNames.join());
    const steps = t.traceEvents.filter((e) => e.cat === 'step');
    const loopTrack = `${steps[0].pid}/${steps[0].tid}`;
    const onLoop = tracks.get(loopTrack)!;
    const named = (n: string) => steps.filter((s) => s.name === n);
    assert.equal(named('consumer').length, 4, 'its first step and one per item');
    assert.equal(named('producer').length, 4);
    // the coroutine is on the task's own track, its life as one slice (not on each step)
    const life = t.traceEvents.find((e) => e.cat === 'task' && e.ph === 'X' && e.name === 'consumer');
    assert.match(String(life?.args?.coro), /^consumer \S*trace_app\.py:\d+$/);
    // wake edges: the step or callback holding each flow's start, and the step its end starts
    const flows = t.traceEvents.filter((e) => e.ph === 's').map((s) => {
      const f = t.traceEvents.find((e) => e.ph === 'f' && e.id === s.id)!;
      return { from: sliceAt(onLoop, s.ts!)?.name, to: onLoop.find((x) => Math.abs(x.ts! - f.ts!) <= EPS && x.cat === 'step')?.name };
    });
    const edges = new Set(flows.map((f) => `${f.from} -> ${f.to}`));
    assert.ok(edges.has('producer -> consumer'), `a queue put: ${[...edges].join('; ')}`);
    assert.ok(edges.has('timer _set_result_unless_cancelled -> producer'), `a timer: ${[...edges].join('; ')}`);
    assert.ok(edges.has('holder -> waiter'), `a lock release: ${[...edges].join('; ')}`);
    const blocked = t.traceEvents.filter((e) => e.cat === 'blocked');
    assert.equal(blocked.length, 1, JSON.stringify(blocked));
    assert.equal(blocked[0].name, 'blocked by blocker');
    assert.ok(blocked[0].dur! >= 200_000, `the 200 ms step: ${blocked[0].dur} µs`);
    const instants = t.traceEvents.filter((e) => e.ph === 'i').map((e) => e.name);
    assert.ok(instants.includes('created') && instants.includes('ok'), instants.join());
  });
});

eachPythonAndLoop('tasklens run --trace with a forked child', false, (py) => {
  it('the child records its own timeline into FILE.PID.json; the parent\'s file stays its own though the child ends last', async () => {
    const file = path.join(dir, `fork-${py.version}.json`);
    const r = await run(BIN, ['run', '--python', py.path, '--trace', file, fixture('trace_fork.py')], { env: rt.env });
    assert.equal(r.code, 0, r.stderr);
    const [, child, quick] = /child (\d+) quick (\d+)/.exec(r.stdout)!;
    const childFile = path.join(dir, `fork-${py.version}.${child}.json`);
    await waitUntil(() => fs.existsSync(childFile), 10_000, `the child wrote ${childFile}`);
    const names = (f: string): Set<string> => {
      const t = load(f);
      validate(t);
      return new Set(t.traceEvents.filter((e) => e.cat === 'step').map((e) => String(e.name)));
    };
    const parent = names(file);
    const own = names(childFile);
    for (const n of ['parent-before-0', 'parent-after-0']) assert.ok(parent.has(n), [...parent].join());
    assert.ok(!parent.has('child-0'), 'the child did not overwrite the parent\'s file');
    assert.ok(own.has('child-0'), [...own].join());
    assert.ok(!own.has('parent-before-0') && !own.has('parent-after-0'), 'the child\'s timeline starts at the fork');
    const quickFile = path.join(dir, `fork-${py.version}.${quick}.json`);
    assert.ok(fs.existsSync(quickFile), `the child that ended with os._exit wrote ${quickFile}: ${r.stderr}`);
    const ownQuick = names(quickFile);
    assert.ok(ownQuick.has('quick-0') && !ownQuick.has('child-0'), [...ownQuick].join());
  });
});

// fork: a multiprocessing worker, which ends with os._exit, past atexit; the others are started anew
for (const mode of ['subprocess', 'fork', 'spawn', 'forkserver']) {
  eachPythonAndLoop(`tasklens run --trace with a child (${mode})`, false, (py) => {
    it('the child records its own timeline into FILE.PID.json, written once; a child that runs no event loop writes none', async () => {
      const file = path.join(dir, `${mode}-${py.version}.json`);
      const r = await run(BIN, ['run', '--python', py.path, '--trace', file, fixture('trace_children.py'), mode], { env: rt.env });
      assert.equal(r.code, 0, r.stderr);
      const child = /child (\d+)/.exec(r.stdout)![1];
      const helper = /helper (\d+)/.exec(r.stdout)![1];
      const childFile = path.join(dir, `${mode}-${py.version}.${child}.json`);
      await waitUntil(() => fs.existsSync(childFile), 10_000, `the child wrote ${childFile}: ${r.stderr}`);
      const t = load(childFile);
      validate(t);
      const steps = new Set(t.traceEvents.filter((e) => e.cat === 'step').map((e) => String(e.name)));
      for (const n of ['child-0', 'child-1', 'child-2']) assert.ok(steps.has(n), [...steps].join());
      const parent = load(file);
      validate(parent);
      assert.ok(!parent.traceEvents.some((e) => e.name === 'child-0'), 'the parent\'s file is its own');
      assert.ok(!fs.existsSync(path.join(dir, `${mode}-${py.version}.${helper}.json`)), 'the helper ran no loop: no file');
      const written = [...r.stderr.matchAll(/trace written to (\S+):/g)].map((m) => path.basename(m[1])).sort();
      assert.deepEqual(written, [path.basename(childFile), path.basename(file)].sort(), r.stderr);
    });
  });
}

eachPythonAndLoop('launch argument trace with a child started anew', false, (py) => {
  it('the child, debugged in its own session, records into FILE.PID.json too', async () => {
    const name = `launched-child-${py.version}.json`;
    await withTree(async () => undefined, async (h, tree) => {
      const since = h.mark();
      await tree.launch(h, py, { program: fixture('trace_children.py'), args: ['subprocess'], cwd: dir, trace: name, console: 'internalConsole' });
      await tree.session(/trace_children\.py child/);
      assert.equal(await tree.exitCode(h, since, 30_000), 0);
      const out = h.output('stdout');
      const childFile = path.join(dir, `launched-child-${py.version}.${/child (\d+)/.exec(out)![1]}.json`);
      const helper = /helper (\d+)/.exec(out)![1];
      await waitUntil(() => fs.existsSync(childFile), 10_000, `the child wrote ${childFile}`);
      const t = load(childFile);
      validate(t);
      const steps = new Set(t.traceEvents.filter((e) => e.cat === 'step').map((e) => String(e.name)));
      assert.ok(steps.has('child-0'), [...steps].join());
      assert.ok(!fs.existsSync(path.join(dir, `launched-child-${py.version}.${helper}.json`)), 'the helper ran no loop: no file');
      assert.deepEqual(await tree.survivors(), []);
    });
  });
});

eachPythonAndLoop('launch argument trace', false, (py) => {
  it('a debug session records the timeline to the file named, relative to cwd', async () => {
    const name = `launched-${py.version}.json`;
    await withAdapter(async (h) => {
      const since = h.mark();
      await h.launch(py, { program: fixture('trace_app.py'), cwd: dir, trace: name, console: 'internalConsole' });
      assert.equal(await h.exitCode(since), 0);
      await h.waitForOutput('stderr', /tasklens: trace written to .*: \d+ events/);
    });
    const t = load(path.join(dir, name));
    validate(t);
    assert.equal(t.traceEvents.filter((e) => e.cat === 'step' && e.name === 'consumer').length, 4);
  });
});

eachPythonAndLoop('tasklens trace PID', false, (py) => {
  it('writes the trace of a running program on request and on SIGUSR2; the ring buffer keeps the last N steps', async () => {
    const file = path.join(dir, `live-${py.version}.json`);
    const prog = start(BIN, ['run', '--python', py.path, '--trace', file, '--trace-max-steps', '500', fixture('top_app.py')], { env: rt.env });
    const pid = await ready(prog);
    await new Promise((r) => setTimeout(r, 300));
    const asked = await run(process.execPath, [MAIN_JS, 'trace', String(pid), '--json'], { env: rt.env });
    assert.equal(asked.code, 0, asked.stderr);
    const said = JSON.parse(asked.stdout) as { path: string; events: number; bytes: number };
    assert.equal(said.path, file);
    assert.equal(fs.statSync(file).size, said.bytes);
    const t = load(file);
    assert.equal(t.traceEvents.length, said.events);
    validate(t);
    assert.ok(t.otherData.steps <= 500 && t.otherData.steps > 0 && t.otherData.droppedSteps > 0, JSON.stringify(t.otherData));
    fs.rmSync(file);
    process.kill(pid, 'SIGUSR2');
    await waitUntil(() => fs.existsSync(file) && /trace written to/.test(prog.stderr()), 20_000, 'the trace is written on SIGUSR2');
    validate(load(file));
    assert.equal(prog.child.exitCode, null, 'the program runs on');
  });
});

test('tasklens trace PID of a program that records nothing, and --trace usage errors', async () => {
  const prog = start(BIN, ['run', '--python', 'python3', fixture('top_app.py')], { env: rt.env });
  const pid = await ready(prog);
  const r = await run(process.execPath, [MAIN_JS, 'trace', String(pid)], { env: rt.env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not recording a trace \(record a window with `tasklens trace PID --for SECONDS`, or run it with `tasklens run --trace FILE.json`\)/);
  // a program started by plain python: no agent is loaded for a trace that would have to
  // have recorded from its start
  const plain = await startProgram('python3', fixture('top_app.py'));
  const none = await run(process.execPath, [MAIN_JS, 'trace', String(plain.pid)], { env: rt.env });
  assert.equal(none.code, 8, none.stderr);
  assert.match(none.stderr, new RegExp(`process ${plain.pid} has no tasklens agent, so it records no trace: record a window with \`tasklens trace ${plain.pid} --for SECONDS\``));
  assert.equal(fs.readdirSync(`/proc/${plain.pid}/task`).length, 1, 'nothing was loaded into it');
  const noDir = await run(BIN, ['run', '--trace', '/nonexistent/x.json', fixture('trace_app.py')], { env: rt.env });
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /--trace \/nonexistent\/x.json: no such folder/);
  const alone = await run(BIN, ['run', '--trace-max-steps', '5', fixture('trace_app.py')], { env: rt.env });
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--trace-max-steps needs --trace FILE/);
});
