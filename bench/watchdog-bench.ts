// The CPU time of the diagnostics watchdog thread (docs/bench-diagnose.md): it holds the GIL
// while it works, so whatever it spends the program waits for, and the instruction count of
// diagnose-instructions.ts (main thread only) does not show it. `tasklens run --diagnose` on
// bench/programs/watchdog_load.py, idle (0 tasks) and with many tasks waiting on an Event while
// main sleeps; the program reads every other thread's CPU time from /proc (schedstat, ns) each
// second. Thread CPU time is what the thread itself ran, so a busy machine changes it little
// (cache misses aside); median of N runs.
//
//   node dist/bench/watchdog-bench.js [--tasks 0,10000] [--seconds 12] [--reps 3] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { matrix, median, option, printTable, pythonVersion, repoRoot } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const program = path.join(repoRoot, 'bench', 'programs', 'watchdog_load.py');

interface Result { mean: number; worst: number }

/** ms of CPU per second of the agent's threads: over the whole run, and its worst second. */
function once(python: string, tasks: number, seconds: number): Result {
  const run = spawnSync(python, [launcher, '--diagnose', '--', program, String(tasks), String(seconds)],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`watchdog_load.py ${tasks} failed: ${run.stderr.slice(-2000)}`);
  const samples = (JSON.parse(run.stdout.trim().split('\n').pop()!) as { samples: Record<string, number>[] }).samples;
  // Threads are summed by id as they appear; one that ended counts up to its last sample.
  const total = (s: Record<string, number>): number => Object.values(s).reduce((a, b) => a + b, 0);
  let worst = 0;
  for (let i = 1; i < samples.length; i++) worst = Math.max(worst, total(samples[i]) - total(samples[i - 1]));
  const mean = (total(samples[samples.length - 1]) - total(samples[0])) / (samples.length - 1);
  return { mean: mean / 1e6, worst: worst / 1e6 };
}

function main(): void {
  const counts = (option('--tasks') ?? '0,10000').split(',').map(Number);
  const seconds = Number(option('--seconds') ?? 12);
  const reps = Number(option('--reps') ?? 3);
  const lines = [
    `The agent's threads under \`tasklens run --diagnose\`, CPU ms per second of a ${seconds}-s run (median of ${reps}): mean / worst second`,
    '',
    `| Python | ${counts.map((n) => `${n} tasks waiting`).join(' | ')} |`,
    `| --- | ${counts.map(() => '---:').join(' | ')} |`,
  ];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    const cells = counts.map((n) => {
      const results = Array.from({ length: reps }, () => once(python, n, seconds));
      return `${median(results.map((r) => r.mean)).toFixed(1)} / ${median(results.map((r) => r.worst)).toFixed(1)} ms`;
    });
    lines.push(`| ${version} | ${cells.join(' | ')} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  printTable(lines);
}

main();
