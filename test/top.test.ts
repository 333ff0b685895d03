// `tasklens top` against real programs run under `tasklens run`: `--once --json` (counters,
// loop header, each warning), the live screen in a real terminal (tmux: sort, filter, select a
// task, NO_COLOR, 80x24), and the clear refusals (not a terminal, no agent). A program started
// by plain python gets the agent loaded for the top, and loses it after. Every interpreter of
// the matrix, and uvloop on 3.14.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, afterEach, test } from 'node:test';
import { eachPythonAndLoop, lineOf } from './async_support';
import { attachTo, killAllTargets, settledThreadCount, startTarget, threadCount } from './attach_pid_support';
import { BIN, killAll, privateRuntime, ready, run, start, waitUntil } from './run_support';
import { withAdapter } from './support/harness';
import { it } from './support/matrix';
import { needsGdbToReach } from './support/gdb';
import { fixture, MAIN_JS } from './support/paths';
import type { TopView } from '../src/top/model';

const APP = fixture('top_app.py');
const TMUX = '/usr/bin/tmux';

const rt = privateRuntime();
after(rt.remove);
afterEach(killAll);
afterEach(killAllTargets);

async function startApp(python: string, args: string[]): Promise<number> {
  return ready(start(BIN, ['run', '--python', python, APP, ...args], { env: rt.env }));
}

function tmux(sock: string, args: string[], env: NodeJS.ProcessEnv = rt.env): string {
  return execFileSync(TMUX, ['-L', sock, '-f', '/dev/null', ...args], { encoding: 'utf8', env });
}

/** The screen's text once `check` holds (the last screen in the error otherwise). */
async function screenWhen(sock: string, check: (screen: string) => boolean, what: string, escapes = false): Promise<string> {
  let screen = '';
  try {
    await waitUntil(() => check((screen = tmux(sock, ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'top']))), 20_000, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the screen:\n${screen}`);
  }
  return screen;
}

/** Rows of the task list: the lines after the column titles, up to the key line. */
function rows(screen: string): string[] {
  const lines = screen.split('\n');
  const head = lines.findIndex((l) => /^NAME\s/.test(l));
  return lines.slice(head + 1).filter((l) => /^[> ]\S/.test(l)).map((l) => l.slice(1).split(/\s+/)[0]);
}

eachPythonAndLoop('tasklens top', true, (py, loop) => {
  const eager = Number(py.version.split('.')[1]) >= 12;

  it('--once --json --sample 1: exact per-task counters, the loop header and every warning', async () => {
    const pid = await startApp(py.path, loop.args);
    const once = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--sample', '1', '--interval', '1.5', '--stuck-s', '1'], { env: rt.env });
    assert.equal(once.code, 0, once.stderr);
    const view = JSON.parse(once.stdout) as TopView;
    assert.equal(view.schema, 1);
    assert.deepEqual([view.sampled, view.auto], [1, false], 'every step timed, as asked, however much it costs');
    assert.equal(view.pid, pid);
    assert.equal(view.loops.length, 1);
    const head = view.loops[0];
    assert.equal(head.thread, 'MainThread');
    assert.ok(head.stepsPerSecond > 0, JSON.stringify(head));
    assert.ok(head.longestStep >= 0.15, `the hog's 150 ms step is the longest: ${JSON.stringify(head)}`);
    const task = (name: string) => {
      const t = view.tasks.find((x) => x.name === name);
      assert.ok(t, `no task ${name} in ${view.tasks.map((x) => x.name).join(', ')}`);
      return t;
    };
    const hog = task('hog');
    assert.ok(hog.polls >= 1 && hog.busy >= 0.15 * hog.polls - 0.01, JSON.stringify(hog));
    assert.ok(hog.stepTimes.max >= 0.15 && hog.stepTimes.p99 <= hog.stepTimes.max, JSON.stringify(hog.stepTimes));
    assert.match(hog.at?.path ?? '', /top_app\.py$/);
    assert.match(hog.createdAt?.path ?? '', /top_app\.py$/);
    const spinner = task('spinner');
    assert.ok(spinner.polls > 50 && spinner.selfWakes > spinner.wakes / 2, JSON.stringify(spinner));
    assert.equal(task('sleeper').polls, 0);
    assert.equal(task('sleeper').state, 'waiting');
    if (eager) assert.ok(task('eager').polls > 10, 'an eager task is counted from its second step');
    const kinds = new Map(view.warnings.map((w) => [`${w.kind} ${w.task}`, w]));
    for (const k of ['neverYields hog', 'selfWaking spinner', 'stuck sleeper', 'cancelledRunning stubborn', 'exceptionNotRetrieved lost']) {
      assert.ok(kinds.has(k), `warning ${k} missing from ${[...kinds.keys()].join('; ')}`);
    }
    // waiting as long as the sleeper, but on a queue a live task (asleep) will put into
    assert.ok(!kinds.has('stuck patient'), `a false alarm: ${JSON.stringify(kinds.get('stuck patient'))}`);
    assert.equal(task('patient').state, 'waiting');
    assert.match(kinds.get('neverYields hog')!.at?.path ?? '', /top_app\.py$/);
    assert.ok(view.finished.some((f) => f.name === 'lost' && f.outcome === 'exception'));
  });

  it('--sample 8: the counters are estimates, said so; states, the stuck task and its neighbours as exactly', async () => {
    const pid = await startApp(py.path, loop.args);
    const once = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--sample', '8', '--interval', '2', '--stuck-s', '1'], { env: rt.env });
    assert.equal(once.code, 0, once.stderr);
    const view = JSON.parse(once.stdout) as TopView;
    assert.equal(view.sampled, 8);
    const task = (name: string) => {
      const t = view.tasks.find((x) => x.name === name);
      assert.ok(t, `no task ${name} in ${view.tasks.map((x) => x.name).join(', ')}`);
      return t;
    };
    // the spinner steps thousands of times in the 2 s: its estimates come of hundreds of samples
    // (a task of a few dozen steps, as the ticker between the hog's blocking steps, may get none)
    const spinner = task('spinner');
    assert.ok(spinner.polls > 50 && spinner.selfWakes > spinner.wakes / 2, JSON.stringify(spinner));
    assert.equal(spinner.polls % 8, 0, 'each sample stands for 8 steps');
    assert.ok(spinner.busy > 0 && spinner.busy < 2, JSON.stringify(spinner));
    assert.equal(task('sleeper').polls, 0);
    assert.equal(task('sleeper').state, 'waiting');
    assert.equal(task('patient').state, 'waiting');
    const kinds = new Map(view.warnings.map((w) => [`${w.kind} ${w.task}`, w]));
    assert.ok(kinds.has('stuck sleeper'), `no stuck sleeper in ${[...kinds.keys()].join('; ')}`);
    assert.ok(!kinds.has('stuck patient'), `a false alarm: ${JSON.stringify(kinds.get('stuck patient'))}`);
    const head = view.loops[0];
    const states = head.tasks.running + head.tasks.ready + head.tasks.waiting;
    assert.equal(states, view.tasks.length, JSON.stringify(head));
    const text = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--sample', '8', '--interval', '0.5'], { env: rt.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout.split('\n')[0], /sampled 1 in 8/);
  });

  it('by default, a loop making tens of thousands of steps a second gets sampled counting, and says so', async () => {
    const pid = await ready(start(BIN, ['run', '--python', py.path, fixture('top_busy.py'), ...loop.args], { env: rt.env }));
    const once = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--interval', '2'], { env: rt.env });
    assert.equal(once.code, 0, once.stderr);
    const view = JSON.parse(once.stdout) as TopView;
    assert.equal(view.auto, true);
    // exact counting would cost it far past 2 %: one wake in 64 or more is timed (tasktime_auto.py)
    assert.ok(view.sampled >= 64 && view.sampled <= 1000, `sampled 1 in ${view.sampled}`);
    const hoppers = view.tasks.filter((t) => t.name.startsWith('hopper-'));
    assert.equal(hoppers.length, 20);
    assert.ok(hoppers.every((t) => t.polls > 0 && t.selfWakes > 0), JSON.stringify(hoppers.map((t) => [t.polls, t.selfWakes])));
    // a second top starts exact again (the first one's end switched the counting off)
    const text = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--interval', '2'], { env: rt.env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout.split('\n')[0], /sampled 1 in \d+ \(auto\)/);
  });

  it('a loop that never sleeps (200 tasks back to back) is answered: each top\'s first contact and its samples', async () => {
    // Such a loop lets go of the GIL only in select(0) and takes it straight back: without
    // gil_share.py's turns the agent's threads waited seconds per turn, and a top's first
    // contact failed its 10 s (exit 8) or a sample its 15 s.
    const pid = await ready(start(BIN, ['run', '--python', py.path, fixture('top_busy.py'), '--tasks', '200', ...loop.args], { env: rt.env }));
    for (let i = 0; i < 3; i++) {
      const once = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--interval', '0.5'], { env: rt.env });
      assert.equal(once.code, 0, `top ${i + 1}: ${once.stderr}`);
      const view = JSON.parse(once.stdout) as TopView;
      assert.equal(view.tasks.filter((t) => t.name.startsWith('hopper-')).length, 200);
      assert.ok(view.loops[0].stepsPerSecond > 10_000, `${view.loops[0].stepsPerSecond} steps/s: the loop ran on`);
    }
  });

  it('the live screen in a terminal: sort keys, filter, a task\'s details, NO_COLOR, 80x24', async () => {
    const pid = await startApp(py.path, loop.args);
    const sock = `tasklens-top-${process.pid}-${pid}`;
    try {
      tmux(sock, ['new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', `${process.execPath} ${MAIN_JS} top ${pid} --interval 0.5 --sample 1`],
        { ...rt.env, NO_COLOR: '1' });
      let screen = await screenWhen(sock, (s) => rows(s).includes('spinner') && rows(s).includes('hog'), 'the task list shows');
      const lines = screen.split('\n');
      assert.ok(lines.every((l) => [...l].length <= 80), 'fits 80 columns');
      assert.match(screen, /loop MainThread/);
      assert.match(screen, /sort: n name t state b busy s sched i idle p polls w wakes a age/);
      assert.match(screen, /BUSY↓/);
      tmux(sock, ['send-keys', '-t', 'top', 'p']);
      screen = await screenWhen(sock, (s) => /POLLS↓/.test(s) && rows(s)[0] === 'spinner', 'sorted by polls, the spinner first');
      tmux(sock, ['send-keys', '-t', 'top', 'n']);
      screen = await screenWhen(sock, (s) => /NAME↓/.test(s) && rows(s).join() === [...rows(s)].sort((a, b) => a.localeCompare(b)).join(), 'sorted by name');
      tmux(sock, ['send-keys', '-t', 'top', '/', 'h', 'o', 'g', 'Enter']);
      screen = await screenWhen(sock, (s) => rows(s).join() === 'hog', 'only hog after the filter');
      tmux(sock, ['send-keys', '-t', 'top', 'Enter']);
      // its details, once a refresh has counted one of its 150 ms steps (counting starts with top)
      screen = await screenWhen(sock, (s) => /step times: p50 \S+ +p90 \S+ +p99 \S+ +max/.test(s) && /never yields/.test(s), 'the details of hog, with a step counted');
      assert.match(screen, /task hog \(0x[0-9a-f]+\)/);
      assert.match(screen, /stack \(innermost first\):\n(?: +\S+ +\S+\n)?\s+hog\s+\S*top_app\.py:\d+/);
      assert.match(screen, /await tree \(awaited by\):\n\s+└ Task-1 \(main\)/);
      assert.match(screen, /never yields/);
      const colours = await screenWhen(sock, () => true, 'escapes', true);
      assert.ok(!colours.includes('\x1b[31m'), 'NO_COLOR: no red');
      tmux(sock, ['send-keys', '-t', 'top', 'Escape']);
      await screenWhen(sock, (s) => /^NAME/m.test(s), 'back to the list');
      tmux(sock, ['send-keys', '-t', 'top', 'q']);
      await waitUntil(() => spawnSync(TMUX, ['-L', sock, 'has-session', '-t', 'top'], { env: rt.env }).status !== 0, 10_000, 'top quits on q');
    } finally {
      spawnSync(TMUX, ['-L', sock, 'kill-server'], { env: rt.env });
    }
  });
});

eachPythonAndLoop('tasklens top: tasks stuck alike', true, (py, loop) => {
  it('the live screen tells them in one warning each way they are stuck, with how many more', async () => {
    const program = fixture('diag_stuck_alike.py');
    const pid = await ready(start(BIN, ['run', '--python', py.path, program, ...loop.args, '60'], { env: rt.env }));
    const sock = `tasklens-top-alike-${process.pid}-${pid}`;
    try {
      tmux(sock, ['new-session', '-d', '-s', 'top', '-x', '160', '-y', '30', `${process.execPath} ${MAIN_JS} top ${pid} --interval 0.5 --stuck-s 1`],
        { ...rt.env, NO_COLOR: '1' });
      // made at two places: two groups, each told by the warning of one of its tasks
      const screen = await screenWhen(sock, (s) => /listener-\d and 2 more like it/.test(s) && /worker-\d+ and 29 more like it/.test(s), 'the two groups of stuck tasks');
      const line = `${program.split('/').pop()}:${lineOf(program, 'WORKER_WAIT')}`;
      assert.match(screen, new RegExp(`^! stuck: worker-\\d+ and 29 more like it: waiting \\d+ s on Event.wait\\(\\); nothing can wake it at .*${line.replace('.', '\\.')}`, 'm'));
      assert.match(screen, /^! stuck: listener-\d and 2 more like it: /m);
      assert.doesNotMatch(screen, /more warnings/);
    } finally {
      spawnSync(TMUX, ['-L', sock, 'kill-server'], { env: rt.env });
    }
  });
});

eachPythonAndLoop('tasklens top on a program started by plain python', true, (py, loop) => {
  it('loads the agent for the top (the tasks it found have an age at least), and takes it out after', async () => {
    const target = await startTarget(py.path, APP, loop.args);
    const top = () => run(process.execPath, [MAIN_JS, 'top', String(target.pid), '--once', '--json', '--sample', '1', '--interval', '1'], { env: rt.env });
    const first = await top();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`process ${target.pid} ran without tasklens: its agent is loaded for this top and removed when it ends`));
    const view = JSON.parse(first.stdout) as TopView;
    assert.equal(view.pid, target.pid);
    const spinner = view.tasks.find((t) => t.name === 'spinner');
    assert.ok(spinner && spinner.polls > 50 && spinner.selfWakes > spinner.wakes / 2, JSON.stringify(spinner));
    assert.equal(spinner.ageAtLeast, true, 'created before the agent came: its age is a lower bound');
    assert.equal(spinner.createdAt, undefined);
    const kinds = new Set(view.warnings.map((w) => `${w.kind} ${w.task}`));
    assert.ok(kinds.has('neverYields hog') && kinds.has('selfWaking spinner'), [...kinds].join('; '));
    // the first top's session is over and the agent gone with its threads (the program has one)
    await waitUntil(() => fs.readdirSync(`/proc/${target.pid}/task`).length === 1, 10_000, 'the agent\'s threads end with the top');
    // a second top loads it again; the program ran on between them
    const second = await top();
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /its agent is loaded for this top/);
    assert.ok((JSON.parse(second.stdout) as TopView).tasks.some((t) => t.name === 'hog'));
    assert.equal(target.child.exitCode, null, 'the program runs on');
  });
});

eachPythonAndLoop('tasklens top beside a debugger attached by PID', true, (py, loop) => {
  it('reads the agent the debugger loaded, read-only; the debugger goes on, and takes the agent out when it detaches', async () => {
    const target = await startTarget(py.path, APP, loop.args);
    const before = threadCount(target.pid);
    await withAdapter(async (h) => {
      await attachTo(h, target.pid);
      const once = await run(process.execPath, [MAIN_JS, 'top', String(target.pid), '--once', '--json', '--interval', '1'], { env: rt.env });
      assert.equal(once.code, 0, once.stderr);
      assert.match(once.stderr, new RegExp(`process ${target.pid} has a tasklens agent loaded for another session \\(a debugger attached by PID, a top or a trace --for\\): this top reads it beside that session`));
      const view = JSON.parse(once.stdout) as TopView;
      const spinner = view.tasks.find((t) => t.name === 'spinner');
      assert.ok(spinner && spinner.polls > 50, JSON.stringify(spinner));
      // the debugger's session is untouched by the top's end: it still pauses and reads the program
      const since = h.mark();
      await h.dc.pauseRequest({ threadId: 1 });
      const stop = await h.waitStopped(since);
      assert.equal(stop.body.reason, 'pause');
      const threads = await h.dc.threadsRequest();
      assert.ok(threads.body.threads.some((t) => t.name.includes('spinner')), JSON.stringify(threads.body.threads));
      await h.dc.continueRequest({ threadId: stop.body.threadId });
    });
    assert.equal(await settledThreadCount(target.pid, before), before, 'the debugger\'s detach took the agent out');
    assert.equal(target.child.exitCode, null, 'the program runs on');
  });
});

eachPythonAndLoop('tasklens top on a loop blocked before it came', true, (py, loop) => {
  it('the step running since before is the running step: a blocked-loop warning at its line, "at least"', async () => {
    needsGdbToReach('blocked in a step that never ends (time.sleep)');
    const target = await startTarget(py.path, fixture('top_hung.py'), loop.args);
    const once = await run(process.execPath, [MAIN_JS, 'top', String(target.pid), '--once', '--json', '--interval', '0.5'], { env: rt.env });
    assert.equal(once.code, 0, once.stderr);
    const view = JSON.parse(once.stdout) as TopView;
    assert.equal(view.tasks.find((t) => t.name === 'blocker')?.state, 'running');
    assert.equal(view.tasks.find((t) => t.name === 'other')?.state, 'waiting');
    const head = view.loops[0];
    assert.ok(head.runningFor >= 0.4 && head.runningForAtLeast === true, JSON.stringify(head));
    assert.equal(head.thread, 'MainThread', 'found running from its asyncio.Runner frame (uvloop too)');
    const blocked = view.warnings.find((w) => w.kind === 'blockedLoop');
    assert.ok(blocked, JSON.stringify(view.warnings));
    assert.equal(blocked.task, 'blocker');
    assert.match(blocked.message, /^loop blocked for at least \d+\.\d+ s by task blocker$/);
    assert.equal(blocked.at?.line, lineOf(fixture('top_hung.py'), 'BLOCKS'));
  });
});

test('top: no terminal, no agent, no process: one line each and its exit status', async () => {
  const pid = await startApp('python3', []);
  const noTty = await run(process.execPath, [MAIN_JS, 'top', String(pid)], { env: rt.env });
  assert.equal(noTty.code, 2);
  assert.match(noTty.stderr, /needs an interactive terminal; use `tasklens top PID --once`/);
  const noAgent = await run(process.execPath, [MAIN_JS, 'top', String(process.pid), '--once', '--json'], { env: rt.env });
  assert.equal(noAgent.code, 8, noAgent.stderr);
  assert.equal(JSON.parse(noAgent.stdout).error.code, 'no-agent');
  const noProcess = await run(process.execPath, [MAIN_JS, 'top', '999999999', '--once'], { env: rt.env });
  assert.equal(noProcess.code, 3, noProcess.stderr);
  assert.equal(noProcess.stderr.trim().split('\n').length, 1);
});
