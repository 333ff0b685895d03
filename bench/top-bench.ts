// The cost of `tasklens top`'s counters and of `--trace` (docs/bench-top.md): the asyncio
// throughput program (20,000 tasks hopping through sleep(0), then a 100,000-item queue
// pipeline) run bare, under plain `tasklens run`, with top's counters on from the start (what a
// connected `top` costs the program), and under `--trace`; interleaved, median of N; the program
// times itself (start-up not counted; wall, and CPU of the whole process). Then the trace's
// bytes per step, and `top`'s refresh on a 10,000-task program: the time a sample takes to
// arrive as the live screen asks it (sorted and cut to 48 rows by the agent), and how late
// the program's timers ran meanwhile (its loop paused by the sample). `--before DIR` (a tree of
// another revision, e.g. `git archive REV agent bench | tar -x -C DIR`) adds its counters and
// --trace as columns of the same interleaved run: a before/after on a noisy machine.
//
//   node dist/bench/top-bench.js [--reps N] [--out FILE] [--only refresh|throughput] [--before DIR]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectTop } from '../src/top/client';
import { matrix, median, option, pythonVersion, repoRoot } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const program = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');
const counted = path.join(repoRoot, 'bench', 'programs', 'top_counted.py');
const many = path.join(repoRoot, 'bench', 'programs', 'top_many.py');
const echo = path.join(repoRoot, 'bench', 'programs', 'echo_server.py');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-top-bench-'));
process.env.XDG_RUNTIME_DIR = scratch;

type Mode = 'bare' | 'run' | 'counters' | 'trace' | 'counters before' | 'trace before';
const before = option('--before');
const MODES: Mode[] = ['bare', 'run', 'counters', 'trace', ...(before ? ['counters before', 'trace before'] as Mode[] : [])];
const traceFile = path.join(scratch, 'bench.json');

interface Sample { wall: number; cpu: number }

function once(python: string, mode: Mode, target = program): Sample {
  const old = before ?? repoRoot;
  const oldLauncher = path.join(old, 'agent', 'launch.py');
  const argv = {
    bare: [target],
    run: [launcher, '--', target],
    counters: [launcher, '--', counted, target],
    trace: [launcher, '--trace', traceFile, '--', target],
    'counters before': [oldLauncher, '--', path.join(old, 'bench', 'programs', 'top_counted.py'), target],
    'trace before': [oldLauncher, '--trace', path.join(scratch, 'before.json'), '--', target],
  }[mode];
  const run = spawnSync(python, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${mode} run failed: ${run.stderr.slice(-2000)}`);
  const m = /elapsed=([0-9.]+) cpu=([0-9.]+)/.exec(run.stdout);
  if (!m) throw new Error(`no timing line from ${mode}: ${run.stdout.slice(0, 300)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) };
}

/** Bytes per step of the last --trace file (uncompressed JSON). */
function traceBytesPerStep(): string {
  const doc = JSON.parse(fs.readFileSync(traceFile, 'utf8')) as { otherData: { steps: number } };
  return (fs.statSync(traceFile).size / doc.otherData.steps).toFixed(0);
}

/**
 * `top`'s samples on a program with 10,000 tasks: round trip, and the loop's lag. With `idle`
 * the tasks never wake, so the lag is what the refreshes cost the loop; with `stuckS` as well,
 * every task has waited past it (their stuck verdicts are made once, then looked up); `stuck`:
 * and nothing can wake any of them (a warning each).
 */
async function refresh(python: string, idle = false, stuckS?: number, stuck = false): Promise<string> {
  const mode = stuck ? ['--stuck'] : idle ? ['--idle'] : [];
  const child = spawn(python, [launcher, '--listen', '127.0.0.1:0', '--no-wait', '--', many, ...mode], { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(path.join(scratch, 'tasklens', `${child.pid}.json`))) {
      if (Date.now() > deadline) throw new Error('the 10,000-task program never listened');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2000));     // its tasks are made
    const c = await connectTop(child.pid!);
    const took: number[] = [];
    let lag = 0;
    let tasks = 0;
    let warnings = 0;
    for (let i = 0; i < 6; i++) {
      const t0 = process.hrtime.bigint();
      const s = await c.sample({ sort: 'busy', limit: 48, ...(stuckS ? { stuckS } : {}) });   // as the live screen asks (24 rows)
      took.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (i > 0) lag = Math.max(lag, ...s.loops.map((l) => l.lagMax));
      tasks = s.matched ?? s.tasks.length;
      warnings = s.warnings.filter((w) => w.kind === 'stuck').length + (s.warningsLeftOut ?? 0);
      await new Promise((r) => setTimeout(r, 500));
    }
    await c.close();
    const warned = stuck ? `, ${warnings} stuck warnings` : '';
    return `${tasks} tasks${stuck ? ' (all stuck)' : idle ? ' (idle)' : ''}${stuckS ? `, all waiting past --stuck-s ${stuckS}` : ''}${warned}: a refresh ${median(took).toFixed(0)} ms (median of 6, max ${Math.max(...took).toFixed(0)} ms); the loop's timers up to ${(lag * 1000).toFixed(1)} ms late`;
  } finally {
    child.kill('SIGKILL');
  }
}

/** The refresh's variants: busy; idle; idle with every task past `--stuck-s`; every task stuck. */
const REFRESHES: [boolean, number | undefined, boolean][] = [[false, undefined, false], [true, undefined, false], [true, 1, false], [true, 1, true]];

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 5);
  if (option('--only') === 'refresh') {
    for (const python of matrix()) {
      for (const [idle, stuckS, stuck] of REFRESHES) console.log(`- ${path.basename(python)}: ${await refresh(python, idle, stuckS, stuck).catch((err: Error) => `no sample (${err.message})`)}`);
    }
    return;
  }
  const lines = [
    `Median of ${reps} interleaved runs, the program's own time, wall / CPU (ratio to bare's):`,
    '',
    `| Python | bare | \`tasklens run\` | top counters on | \`--trace\` |${before ? ' counters before | `--trace` before |' : ''} trace bytes/step |`,
    `| --- | ---: | ---: | ---: | ---: |${before ? ' ---: | ---: |' : ''} ---: |`,
  ];
  const refreshes: string[] = [];
  const echoes: string[] = [];
  const ECHO_MODES: Mode[] = ['bare', 'counters', 'trace', ...(before ? ['counters before', 'trace before'] as Mode[] : [])];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    const samples = new Map<Mode, Sample[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < reps; r++) {
      for (const mode of MODES) samples.get(mode)!.push(once(python, mode));
      process.stderr.write(`${version}: repetition ${r + 1}/${reps}\n`);
    }
    const of = (mode: Mode, key: keyof Sample): number => median(samples.get(mode)!.map((s) => s[key]));
    const cell = (mode: Mode): string => {
      const [wall, cpu] = [of(mode, 'wall'), of(mode, 'cpu')];
      return `${wall.toFixed(3)} / ${cpu.toFixed(3)} s (${(wall / of('bare', 'wall')).toFixed(2)}× / ${(cpu / of('bare', 'cpu')).toFixed(2)}×)`;
    };
    const olds = before ? ` ${cell('counters before')} | ${cell('trace before')} |` : '';
    lines.push(`| ${version} | ${of('bare', 'wall').toFixed(3)} / ${of('bare', 'cpu').toFixed(3)} s | ${cell('run')} | ${cell('counters')} | ${cell('trace')} |${olds} ${traceBytesPerStep()} |`);
    if (option('--only') === 'throughput') continue;
    const echoed = new Map<Mode, Sample[]>(ECHO_MODES.map((m) => [m, []]));
    for (let r = 0; r < reps; r++) for (const mode of ECHO_MODES) echoed.get(mode)!.push(once(python, mode, echo));
    const cpu = (mode: Mode): number => median(echoed.get(mode)!.map((s) => s.cpu));
    const echoCell = (mode: Mode): string => `${cpu(mode).toFixed(3)} s (${(cpu(mode) / cpu('bare')).toFixed(2)}×)`;
    echoes.push(`| ${version} | ${ECHO_MODES.map(echoCell).join(' | ')} |`);
    for (const [idle, stuckS, stuck] of REFRESHES) refreshes.push(`- ${version}: ${await refresh(python, idle, stuckS, stuck).catch((err: Error) => `no sample (${err.message})`)}`);
  }
  const table = [...lines, '',
    `Echo server (\`bench/programs/echo_server.py\`: 20 clients × 250 lines over the loopback, one process), CPU time, median of ${reps}:`, '',
    `| Python | bare | top counters on | \`--trace\` |${before ? ' counters before | `--trace` before |' : ''}`, `| --- | ---: | ---: | ---: |${before ? ' ---: | ---: |' : ''}`, ...echoes, '', '`top` refresh on `bench/programs/top_many.py` (10,000 tasks, each woken once a second):', '', ...refreshes].join('\n') + '\n';
  process.stdout.write(table);
  const out = option('--out');
  if (out) fs.writeFileSync(out, table);
  fs.rmSync(scratch, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
