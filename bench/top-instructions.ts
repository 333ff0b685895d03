// The cost of `tasklens top`'s counters and of recording a `--trace`, counted in instructions
// (docs/bench-top.md): callgrind counts the same for the same run however busy the machine is,
// where CPU ratios on a shared 2-core machine move by ±10 % between runs. Modes: bare; top's
// counters on from the start (bench/programs/top_counted.py); a trace recording from the start,
// the file not written (bench/programs/trace_counted.py: writing happens at exit, outside the
// program's time); the floor under the counters: one lookup and three clock reads per step,
// no counter kept, no agent (bench/programs/top_floor.py); and top's sampled counting
// (`top --sample N`, `--sample N` here, 32 by default: top_counted.py --sample N); and the
// counting `top` asks by default (`auto`: exact until it costs more than 5 %, then sampled; the
// switch comes at its first check, 0.5 s of wall time in, which under valgrind is a few per cent
// of the run, where a native run of these sizes is over by then: the count is the steady state
// of a program watched for long, not a short one's). Each mode's start-up (the same command on
// an empty program) is subtracted.
// Smaller sizes than the timed benchmark (valgrind runs ~50× slower).
//
// `--program echo` counts the I/O-bound echo server (bench/programs/echo_server.py) instead.
//
//   node dist/bench/top-instructions.js [--tasks N] [--items N] [--program echo] [--sample N]
//     [--modes bare,sampled] [--out FILE]      (--modes: only these; bare is always counted)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instructions, matrix, option, printTable, pythonVersion, repoRoot, requireValgrind } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const throughput = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');
const echo = path.join(repoRoot, 'bench', 'programs', 'echo_server.py');
const counted = path.join(repoRoot, 'bench', 'programs', 'top_counted.py');
const traced = path.join(repoRoot, 'bench', 'programs', 'trace_counted.py');
const floor = path.join(repoRoot, 'bench', 'programs', 'top_floor.py');

type Mode = 'bare' | 'counters' | 'sampled' | 'auto' | 'trace' | 'floor';
const MODES: Mode[] = ['bare', 'counters', 'sampled', 'auto', 'trace', 'floor'];

function argv(mode: Mode, program: string[], sample: string): string[] {
  if (mode === 'bare') return program;
  if (mode === 'floor') return [floor, ...program];
  if (mode === 'sampled') return [launcher, '--', counted, '--sample', sample, ...program];
  if (mode === 'auto') return [launcher, '--', counted, '--sample', 'auto', ...program];
  return [launcher, '--', mode === 'counters' ? counted : traced, ...program];
}

function main(): void {
  requireValgrind('top-instructions');
  const tasks = option('--tasks') ?? '5000';
  const items = option('--items') ?? '20000';
  const echoing = option('--program') === 'echo';
  const sample = option('--sample') ?? '32';
  const only = (option('--modes') ?? MODES.join(',')).split(',');
  const bad = only.filter((m) => !MODES.includes(m as Mode));
  if (bad.length) throw new Error(`--modes takes ${MODES.join(', ')}, not ${bad.join(', ')}`);
  const modes = MODES.filter((m) => m === 'bare' || only.includes(m));
  if (!/^[1-9][0-9]*$/.test(sample)) throw new Error(`--sample takes a whole number, not ${sample}`);
  const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-bench-')), 'empty.py');
  fs.writeFileSync(empty, '');
  const lines = [
    echoing
      ? 'Instructions executed by the echo server (start-up subtracted), and the ratio to bare:'
      : `Instructions executed by the asyncio throughput program (${tasks} tasks, ${items} items; start-up subtracted), and the ratio to bare:`,
    '',
    `| Python | bare | top counters on, exact | \`top --sample ${sample}\` | \`top\` (auto) | \`--trace\` recording | floor: a lookup and 3 clock reads a step |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    const program = echoing ? [echo] : [throughput, tasks, items];
    const own = new Map(modes.map((m) => [m, instructions(python, argv(m, program, sample)) - instructions(python, argv(m, [empty], sample))]));
    // top_floor.py loads asyncio at start-up, which the others load in the program: put it back
    if (own.has('floor')) own.set('floor', own.get('floor')! + instructions(python, ['-c', 'import asyncio']) - instructions(python, [empty]));
    const cell = (m: Mode): string => !own.has(m) ? '' : `${(own.get(m)! / 1e6).toFixed(0)} M (${(own.get(m)! / own.get('bare')!).toFixed(2)}×)`;
    lines.push(`| ${version} | ${cell('bare')} | ${cell('counters')} | ${cell('sampled')} | ${cell('auto')} | ${cell('trace')} | ${cell('floor')} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  fs.rmSync(path.dirname(empty), { recursive: true, force: true });
  printTable(lines);
}

main();
