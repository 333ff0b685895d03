// How soon `tasklens run --diagnose` reports (docs/bench-diagnose.md): a blocked loop after
// the blocking step starts (target: the threshold + 50 ms), a task exception nothing retrieves
// after the task ends (100 ms), a deadlock after the loop goes idle (1 s). Each run of
// bench/programs/latency_diag.py prints the moment it happens (wall clock); the report's
// `time` in the --diagnose-json file is set against it. Median and worst of N runs.
//
//   node dist/bench/diagnose-latency.js [--reps N] [--out FILE]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { matrix, median, option, repoRoot } from './support';

const launcher = path.join(repoRoot, 'agent', 'launch.py');
const program = path.join(repoRoot, 'bench', 'programs', 'latency_diag.py');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-latency-'));

const CASES: Array<[string, string, string, number]> = [
  // argument, report kind, label, target in ms
  ['blocked', 'blockedLoop', 'blocked loop (threshold 100 ms), from the step\'s start', 150],
  ['lost', 'exceptionNotRetrieved', 'exception not retrieved, from the raise', 100],
  ['deadlock', 'deadlock', 'deadlock, from the loop going idle', 1000],
];

/** Milliseconds from the program's moment to the report, or NaN when none came in 10 s. */
async function once(python: string, arg: string, kind: string, n: number): Promise<number> {
  const json = path.join(scratch, `${arg}-${n}.jsonl`);
  fs.rmSync(json, { force: true });     // the file is appended to: one run's reports only
  const child = spawn(python, [launcher, '--diagnose', '--diagnose-json', json, '--', program, arg], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const moment = /moment ([0-9.]+)/.exec(out);
      const lines = fs.existsSync(json) ? fs.readFileSync(json, 'utf8').split('\n').filter(Boolean) : [];
      const report = lines.map((l) => JSON.parse(l) as { kind: string; time: number }).find((r) => r.kind === kind);
      if (moment && report) return (report.time - Number(moment[1])) * 1000;
      if (Date.now() > deadline) return NaN;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    await exited;
  }
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 5);
  const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average at the start: ${load()}`);
  const rows = ['| Python | report | target | median | worst |', '| --- | --- | ---: | ---: | ---: |'];
  for (const python of matrix()) {
    for (const [arg, kind, label, target] of CASES) {
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) ms.push(await once(python, arg, kind, i));
      const missing = ms.filter(Number.isNaN).length;
      const got = ms.filter((x) => !Number.isNaN(x));
      const row = `| ${path.basename(python)} | ${label} | ${target} ms | ${got.length ? `${median(got).toFixed(0)} ms` : '—'} | ${got.length ? `${Math.max(...got).toFixed(0)} ms` : '—'}${missing ? ` (${missing} of ${reps} never reported)` : ''} |`;
      console.log(row);
      rows.push(row);
    }
  }
  console.log(`load average at the end: ${load()}`);
  const out = option('--out');
  if (out) fs.writeFileSync(out, `${rows.join('\n')}\n`);
  fs.rmSync(scratch, { recursive: true, force: true });
}

void main();
