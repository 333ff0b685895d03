// Benchmark: reading a process from outside on every interpreter of the matrix —
// `tasklens ps|pstree PID` of one process holding 10,000 tasks in a TaskGroup tree, and
// `tasklens dump PID` of a process with 50 threads (bench/programs/threads50.py). Each command
// runs RUNS times; wall time around each run, user+system CPU and peak RSS from GNU time. The
// machine is shared, so CPU time is given beside wall time: waiting for a core only adds wall.
// `dump` is also timed in-process (the read alone, without Node's start), best of RUNS.
//
//   npx tsc -p . && node dist/bench/ps-memory.js [tasks=10000] [runs=5]
//
// Interpreters: TASKLENS_PYTHONS (colon-separated), else scripts/pythons.sh.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { matrix, repoRoot } from './support';
import { openMemory } from '../src/inspect/memorySource';
import { readDump } from '../src/procmem/dump';

const TASKS = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 5);
const GNU_TIME = '/usr/bin/time';
const TASKLENS = path.join(repoRoot, 'bin', 'tasklens');

interface Sample { wall: number; cpu: number; rssMb: number }

async function start(python: string, args: string[]): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`${args.join(' ')} exited with ${c}`)));
  });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

function measure(cmd: string[]): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(GNU_TIME, ['-f', '%U %S %M', ...cmd], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const [user, sys, rss] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: user + sys, rssMb: rss / 1024 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function row(python: string, what: string, samples: Sample[]): string {
  const m = (f: (s: Sample) => number): string => median(samples.map(f)).toFixed(3);
  const best = Math.min(...samples.map((s) => s.wall)).toFixed(3);
  return `| ${python} | ${what} | ${m((s) => s.wall)} | ${best} | ${m((s) => s.cpu)} | ${Math.max(...samples.map((s) => s.rssMb)).toFixed(0)} |`;
}

async function main(): Promise<void> {
  console.log(`${TASKS} tasks for ps/pstree, 50 threads for dump; ${RUNS} runs each, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| Python | command | median wall (s) | best wall (s) | median CPU (s) | max RSS (MB) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  const inProcess: string[] = [];
  for (const python of matrix()) {
    const version = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' }).stdout.trim();
    const many = await start(python, [path.join(repoRoot, 'test/fixtures/ps_many.py'), String(TASKS)]);
    try {
      for (const sub of ['ps', 'pstree']) {
        const samples = Array.from({ length: RUNS }, () => measure([TASKLENS, sub, String(many.pid)]));
        console.log(row(version, `\`tasklens ${sub}\``, samples));
      }
    } finally {
      many.stop();
    }
    const threads = await start(python, [path.join(repoRoot, 'bench/programs/threads50.py')]);
    try {
      const samples = Array.from({ length: RUNS }, () => measure([TASKLENS, 'dump', String(threads.pid)]));
      console.log(row(version, '`tasklens dump` (50 threads)', samples));
      const open = openMemory(threads.pid);
      try {
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const t0 = process.hrtime.bigint();
          readDump(open.target, open.limits, { locals: false });
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        inProcess.push(`| ${version} | ${Math.min(...times).toFixed(1)} | ${median(times).toFixed(1)} |`);
      } finally {
        open.close();
      }
    } finally {
      threads.stop();
    }
  }
  console.log('\nThe dump read alone (in-process, after the first open), ms:\n');
  console.log('| Python | best | median |');
  console.log('| --- | ---: | ---: |');
  for (const l of inProcess) console.log(l);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
