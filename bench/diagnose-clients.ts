// How late a service's timers run under `--diagnose` while thousands of its tasks keep newly
// waiting past the stuck threshold (docs/bench-diagnose.md): bench/programs/diag_clients.py,
// 10,000 clients each waiting on a queue of its own, one message a millisecond, run bare and
// under `tasklens run --diagnose` (agent/launch.py), turn about; with `--before DIR`, also the
// agent of another tree (`git archive REV agent | tar -x -C DIR`) in the same runs. Reported per
// mode (median of the runs): the seconds whose 50 ms timer ran more than 100 ms late, and the
// worst lateness.
//
//   node dist/bench/diagnose-clients.js [--clients N] [--seconds S] [--reps N] [--before DIR] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { matrix, median, option, printTable, pythonVersion, repoRoot } from './support';

const program = path.join(repoRoot, 'bench', 'programs', 'diag_clients.py');

/** The worst lateness (ms) of each second of one run. */
function once(python: string, launcher: string | null, clients: string, seconds: string): number[] {
  const args = launcher ? [launcher, '--diagnose', '--', program, clients, seconds] : [program, clients, seconds];
  const run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`diag_clients.py failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as number[];
}

function main(): void {
  const clients = option('--clients') ?? '10000';
  const seconds = option('--seconds') ?? '30';
  const reps = Number(option('--reps') ?? 3);
  const before = option('--before');
  const modes: [string, string | null][] = [
    ['bare', null],
    ['`--diagnose`', path.join(repoRoot, 'agent', 'launch.py')],
    ...(before ? [['`--diagnose` before', path.join(before, 'agent', 'launch.py')] as [string, string]] : []),
  ];
  const lines = [
    `${clients} clients, ${seconds} s (median of ${reps} runs, turn about): seconds whose 50 ms timer ran over 100 ms late / the worst lateness`,
    '',
    `| Python | ${modes.map(([name]) => name).join(' | ')} |`,
    `| --- | ${modes.map(() => '---:').join(' | ')} |`,
  ];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    const results = modes.map(() => [] as number[][]);
    for (let rep = 0; rep < reps; rep++) {
      modes.forEach(([, launcher], i) => results[i].push(once(python, launcher, clients, seconds)));
    }
    const cells = results.map((runs) => {
      const late = median(runs.map((r) => r.filter((ms) => ms > 100).length));
      const worst = median(runs.map((r) => Math.max(...r)));
      return `${late} / ${worst.toFixed(0)} ms`;
    });
    lines.push(`| ${version} | ${cells.join(' | ')} |`);
    process.stderr.write(`${lines[lines.length - 1]}\n`);
  }
  printTable(lines);
}

main();
