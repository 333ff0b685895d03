// The cost of asyncio diagnostics (docs/bench-diagnose.md): the asyncio throughput program
// (20,000 tasks hopping through sleep(0), then a 100,000-item queue pipeline) and the CPU-bound
// program, each run bare, under plain `tasklens run` (launch.py with no flags), under
// `tasklens run --diagnose`, and bare with asyncio's debug mode (PYTHONASYNCIODEBUG=1) side by
// side; interleaved, median of N; the programs time themselves (start-up not counted): wall
// time, and the process's CPU time (all threads: the watchdog's too), steadier on a busy machine.
//
// asyncio's debug mode (about 20×) runs only in the first `--debug-reps` repetitions (default 1).
//
//   node dist/bench/diagnose-bench.js [--reps N] [--debug-reps N] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { matrix, median, option, printTable, pythonVersion, repoRoot } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const throughputProgram = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');
const cpuProgram = path.join(repoRoot, 'bench', 'programs', 'cpu_bound.py');

type Mode = 'bare' | 'run' | 'diagnose' | 'asyncioDebug';
const MODES: Mode[] = ['bare', 'run', 'diagnose', 'asyncioDebug'];

interface Sample { wall: number; cpu: number }

function once(python: string, mode: Mode, program: string): Sample {
  const argv = mode === 'run' ? [launcher, '--', program] : mode === 'diagnose' ? [launcher, '--diagnose', '--', program] : [program];
  const env = { ...process.env, ...(mode === 'asyncioDebug' ? { PYTHONASYNCIODEBUG: '1' } : {}) };
  const run = spawnSync(python, argv, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${mode} run of ${program} failed: ${run.stderr.slice(-2000)}`);
  const m = /elapsed=([0-9.]+) cpu=([0-9.]+)/.exec(run.stdout);
  if (!m) throw new Error(`no timing line from ${mode}: ${run.stdout.slice(0, 300)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) };
}

function main(): void {
  const reps = Number(option('--reps') ?? 5);
  const debugReps = Number(option('--debug-reps') ?? 1);
  const lines = [
    `Median of ${reps} interleaved runs, the program's own time, wall / CPU (ratio to bare's):`,
    '',
    '| Python | program | bare | `tasklens run` | `tasklens run --diagnose` | asyncio debug mode |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    for (const [label, program, modes] of [
      ['asyncio throughput', throughputProgram, MODES],
      ['CPU-bound', cpuProgram, ['bare', 'diagnose'] as Mode[]],
    ] as [string, string, Mode[]][]) {
      const samples = new Map<Mode, Sample[]>(modes.map((m) => [m, []]));
      for (let r = 0; r < reps; r++) {
        for (const mode of modes) {
          if (mode !== 'asyncioDebug' || r < debugReps) samples.get(mode)!.push(once(python, mode, program));
        }
        process.stderr.write(`${version} ${label}: repetition ${r + 1}/${reps}\n`);
      }
      const of = (mode: Mode, key: keyof Sample): number => median(samples.get(mode)!.map((s) => s[key]));
      const cell = (mode: Mode): string => {
        if (!samples.has(mode)) return '—';
        const [wall, cpu] = [of(mode, 'wall'), of(mode, 'cpu')];
        return `${wall.toFixed(3)} / ${cpu.toFixed(3)} s (${(wall / of('bare', 'wall')).toFixed(2)}× / ${(cpu / of('bare', 'cpu')).toFixed(2)}×)`;
      };
      lines.push(`| ${version} | ${label} | ${of('bare', 'wall').toFixed(3)} / ${of('bare', 'cpu').toFixed(3)} s | ${cell('run')} | ${cell('diagnose')} | ${cell('asyncioDebug')} |`);
    }
  }
  printTable(lines);
}

main();
