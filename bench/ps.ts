// Benchmark: `tasklens ps PID` against `python3.14 -m asyncio ps PID` on one process holding
// 10,000 tasks in a TaskGroup tree. Each command runs alternately RUNS times; wall time and
// peak RSS come from GNU time (/usr/bin/time), else from polling /proc/PID/status.
//
//   npx tsc -p . && node dist/bench/ps.js [tasks=10000] [runs=7] [python=.cache/pythons/3.14/usr/bin/python3.14]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TASKS = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 7);
const PYTHON = path.resolve(ROOT, process.argv[4] ?? '.cache/pythons/3.14/usr/bin/python3.14');
const GNU_TIME = '/usr/bin/time';

interface Sample { wall: number; rssKb: number }

async function startTarget(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(PYTHON, [path.join(ROOT, 'test/fixtures/ps_many.py'), String(TASKS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`target exited with ${c}`)));
  });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

function measure(cmd: string[]): Sample {
  if (fs.existsSync(GNU_TIME)) {
    const r = spawnSync(GNU_TIME, ['-f', '%e %M', ...cmd], { encoding: 'utf8', maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
    const [wall, rss] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    return { wall, rssKb: rss };
  }
  const start = process.hrtime.bigint();
  const child = spawnSync('sh', ['-c', `"$@" >/dev/null & p=$!; m=0; while kill -0 $p 2>/dev/null; do v=$(awk '/VmHWM/{print $2}' /proc/$p/status 2>/dev/null); [ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v; done; echo $m`, 'sh', ...cmd], { encoding: 'utf8' });
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, rssKb: Number(child.stdout.trim()) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const target = await startTarget();
  try {
    const commands: Record<string, string[]> = {
      'tasklens ps': [process.execPath, path.join(ROOT, 'dist/src/cli/main.js'), 'ps', String(target.pid)],
      [`python${path.basename(PYTHON).replace('python', '')} -m asyncio ps`]: [PYTHON, '-m', 'asyncio', 'ps', String(target.pid)],
    };
    const samples = new Map<string, Sample[]>(Object.keys(commands).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [name, cmd] of Object.entries(commands)) samples.get(name)!.push(measure(cmd));
    console.log(`${TASKS} tasks, ${RUNS} runs each, ${new Date().toISOString().slice(0, 10)}\n`);
    console.log('| command | median wall (s) | min wall (s) | median max RSS (MB) |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, s] of samples) {
      const walls = s.map((x) => x.wall);
      console.log(`| \`${name}\` | ${median(walls).toFixed(2)} | ${Math.min(...walls).toFixed(2)} | ${(median(s.map((x) => x.rssKb)) / 1024).toFixed(0)} |`);
    }
  } finally {
    target.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
