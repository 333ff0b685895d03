// The stuck-task verdict's cost in instructions (docs/bench-diagnose.md): one verdict of the
// diagnostics' Judge on bench/programs/verdict_once.py (N clients each waiting on a queue of
// its own, a feeder holding them all; K judged), run on the program's loop as the watchdog's
// look runs it. Counted by valgrind's callgrind, the same count for the same run however busy
// the machine is: the program with 0 verdicts and with 2, the difference halved. With
// `--before DIR`, the agent of another tree (`git archive REV agent | tar -x -C DIR`) is
// counted too, in the same run.
//
//   node dist/bench/verdict-instructions.js [--clients N] [--judged K] [--before DIR] [--out FILE]
import * as path from 'node:path';
import { instructions, matrix, option, printTable, pythonVersion, repoRoot, requireValgrind } from './support';

const program = path.join(repoRoot, 'bench', 'programs', 'verdict_once.py');

function perVerdict(python: string, agentDir: string, clients: string, judged: string): number {
  const env = { ...process.env, PYTHONPATH: agentDir };
  const count = (reps: string) => instructions(python, [program, clients, judged, reps], { env });
  return (count('2') - count('0')) / 2;
}

function main(): void {
  requireValgrind('verdict-instructions');
  const clients = option('--clients') ?? '5000';
  const judged = option('--judged') ?? '1000';
  const before = option('--before');
  const agents: [string, string][] = [['now', path.join(repoRoot, 'agent')], ...(before ? [['before', path.join(before, 'agent')] as [string, string]] : [])];
  const lines = [
    `Instructions of one stuck-task verdict: ${clients} clients on queues of their own, ${judged} judged (callgrind):`,
    '',
    `| Python | ${agents.map(([name]) => name).join(' | ')} |${before ? ' now / before |' : ''}`,
    `| --- |${agents.map(() => ' ---: |').join('')}${before ? ' ---: |' : ''}`,
  ];
  for (const python of matrix()) {
    const counts = agents.map(([, dir]) => perVerdict(python, dir, clients, judged));
    const cells = counts.map((n) => `${(n / 1e6).toFixed(0)} M`);
    lines.push(`| ${pythonVersion(python)} | ${cells.join(' | ')} |${before ? ` ${(counts[0] / counts[1]).toFixed(2)} |` : ''}`);
  }
  printTable(lines);
}

main();
