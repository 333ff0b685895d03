// The cost of plain `tasklens run` counted in instructions (docs/bench-diagnose.md): valgrind's callgrind counts what the CPU executes, the same count
// for the same run whatever else the machine does, where wall and CPU times on a shared 2-core
// machine move by ±10 % between runs. Each mode's start-up (the same command on a program that
// only imports what the measured one imports: nothing, or asyncio) is subtracted, as the timed
// benchmark counts only the program's own time; importing asyncio belongs to start-up because
// which of its modules the agent has loaded already differs between modes. Smaller sizes than
// the timed benchmark (valgrind runs ~50× slower); the ratio per task is what matters.
//
// `--diagnose` is counted on the program's (main) thread only: its watchdog thread ticks every
// 20 ms of wall time, and under valgrind (~50× slower) it ticks ~50× more often per instruction
// of the program than in a real run, so its count would say nothing about the real cost (the
// watchdog's CPU time per second of a real run is in docs/bench-diagnose.md). What the main
// thread pays is exact: the hooks on the program's own path.
//
//   node dist/bench/diagnose-instructions.js [--tasks N] [--items N] [--only throughput|cpu] [--out FILE]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instructions, matrix, pythonVersion, repoRoot, requireValgrind } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const throughput = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');
const cpuBound = path.join(repoRoot, 'bench', 'programs', 'cpu_bound.py');

type Mode = 'bare' | 'run' | 'diagnose';
const MODES: Mode[] = ['bare', 'run', 'diagnose'];

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

function argv(mode: Mode, program: string[]): string[] {
  if (mode === 'bare') return program;
  return [launcher, ...(mode === 'diagnose' ? ['--diagnose'] : []), '--', ...program];
}

function main(): void {
  requireValgrind('diagnose-instructions');
  const tasks = option('--tasks', '5000');
  const items = option('--items', '20000');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-bench-'));
  const empty = path.join(dir, 'empty.py');
  const importsAsyncio = path.join(dir, 'imports_asyncio.py');
  fs.writeFileSync(empty, '');
  fs.writeFileSync(importsAsyncio, 'import asyncio\n');
  // [label, program and arguments, its start-up program]
  const only = option('--only', '');    // "throughput" or "cpu": that program alone
  const programs = ([
    [`asyncio throughput (${tasks} tasks, ${items} items)`, [throughput, tasks, items], importsAsyncio],
    ['CPU-bound (2,000,000 iterations)', [cpuBound, '2000000'], empty],
  ] as [string, string[], string][]).filter(([label]) => !only || label.toLowerCase().startsWith(only === 'cpu' ? 'cpu' : 'asyncio'));
  const lines = [
    'Instructions executed by the program (start-up subtracted), and the ratio to bare:',
    '',
    '| Python | program | bare | `tasklens run` | `--diagnose` (main thread) |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    const count = (m: Mode, program: string[]): number => instructions(python, argv(m, program), { mainOnly: m === 'diagnose' });
    for (const [label, program, startupProgram] of programs) {
      const startup = new Map(MODES.map((m) => [m, count(m, [startupProgram])]));
      const own = new Map(MODES.map((m) => [m, count(m, program) - startup.get(m)!]));
      const cell = (m: Mode): string => `${(own.get(m)! / 1e6).toFixed(0)} M (${(own.get(m)! / own.get('bare')!).toFixed(3)}×)`;
      lines.push(`| ${version} | ${label} | ${(own.get('bare')! / 1e6).toFixed(0)} M | ${cell('run')} | ${cell('diagnose')} |`);
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const table = lines.join('\n') + '\n';
  process.stdout.write(table);
  const out = process.argv.indexOf('--out');
  if (out >= 0) fs.writeFileSync(process.argv[out + 1], table);
}

main();
