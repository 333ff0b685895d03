// The cost of asyncio diagnostics (docs/bench-diagnose.md): the asyncio throughput program
// (20,000 tasks hopping through sleep(0), then a 100,000-item queue pipeline) and the CPU-bound
// program, each run bare, under plain `tasklens run` (launch.py with no flags), under
// `tasklens run --diagnose`, and bare with asyncio's debug mode (PYTHONASYNCIODEBUG=1) side by
// side; interleaved, median of N; the programs time themselves (start-up not counted).
//
//   node dist/bench/diagnose-bench.js [--reps N] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { matrix, repoRoot } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const throughputProgram = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');
const cpuProgram = path.join(repoRoot, 'bench', 'programs', 'cpu_bound.py');

type Mode = 'bare' | 'run' | 'diagnose' | 'asyncioDebug';
const MODES: Mode[] = ['bare', 'run', 'diagnose', 'asyncioDebug'];

function once(python: string, mode: Mode, program: string): number {
  const argv = mode === 'run' ? [launcher, '--', program] : mode === 'diagnose' ? [launcher, '--diagnose', '--', program] : [program];
  const env = { ...process.env, ...(mode === 'asyncioDebug' ? { PYTHONASYNCIODEBUG: '1' } : {}) };
  const run = spawnSync(python, argv, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`${mode} run of ${program} failed: ${run.stderr.slice(-2000)}`);
  const m = /elapsed=([0-9.]+)/.exec(run.stdout);
  if (!m) throw new Error(`no timing line from ${mode}: ${run.stdout.slice(0, 300)}`);
  return Number(m[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function main(): void {
  const reps = Number(option('--reps') ?? 5);
  const lines = [
    `Median of ${reps} interleaved runs, the program's own time (ratio to bare):`,
    '',
    '| Python | program | bare | `tasklens run` | `tasklens run --diagnose` | asyncio debug mode |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const python of matrix()) {
    const version = spawnSync(python, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).stdout.trim();
    for (const [label, program, modes] of [
      ['asyncio throughput', throughputProgram, MODES],
      ['CPU-bound', cpuProgram, ['bare', 'diagnose'] as Mode[]],
    ] as [string, string, Mode[]][]) {
      const samples = new Map<Mode, number[]>(modes.map((m) => [m, []]));
      for (let r = 0; r < reps; r++) {
        for (const mode of modes) samples.get(mode)!.push(once(python, mode, program));
        process.stderr.write(`${version} ${label}: repetition ${r + 1}/${reps}\n`);
      }
      const bare = median(samples.get('bare')!);
      const cell = (mode: Mode): string => {
        const list = samples.get(mode);
        if (!list) return '—';
        const t = median(list);
        return `${t.toFixed(3)} s (${(t / bare).toFixed(2)}×)`;
      };
      lines.push(`| ${version} | ${label} | ${bare.toFixed(3)} s | ${cell('run')} | ${cell('diagnose')} | ${cell('asyncioDebug')} |`);
    }
  }
  const table = lines.join('\n') + '\n';
  process.stdout.write(table);
  const out = option('--out');
  if (out) fs.writeFileSync(out, table);
}

main();
