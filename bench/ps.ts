// Benchmark: `tasklens ps|pstree PID` against `python3.14 -m asyncio ps|pstree PID` on one
// process holding 10,000 tasks in a TaskGroup tree. The commands run in turn, RUNS rounds; wall
// time is taken around each run, peak RSS from GNU time (/usr/bin/time) or, without it, by
// polling /proc/PID/status.
//
//   npx tsc -p . && node dist/bench/ps.js [tasks=10000] [runs=11] [python=.cache/pythons/3.14/usr/bin/python3.14]
//
// tasklens runs as a user runs it, through `bin/tasklens`, which spares `ps`/`pstree` Node's
// parsing of NODE_EXTRA_CA_CERTS at start-up (tens of milliseconds; they make no TLS connection).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TASKS = Number(process.argv[2] ?? 10_000);
const RUNS = Number(process.argv[3] ?? 11);
const PYTHON = path.resolve(ROOT, process.argv[4] ?? '.cache/pythons/3.14/usr/bin/python3.14');
const GNU_TIME = '/usr/bin/time';

interface Sample { wall: number; rssKb: number }
interface Case { name: string; cmd: string[]; env: NodeJS.ProcessEnv }

async function startTarget(): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(PYTHON, [path.join(ROOT, 'test/fixtures/ps_many.py'), String(TASKS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (c) => reject(new Error(`target exited with ${c}`)));
  });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

function measure(c: Case): Sample {
  const useTime = fs.existsSync(GNU_TIME);
  const start = process.hrtime.bigint();
  const r = useTime
    ? spawnSync(GNU_TIME, ['-f', '%M', ...c.cmd], { env: c.env, encoding: 'utf8', maxBuffer: 256 << 20 })
    : spawnSync('sh', ['-c', `"$@" >/dev/null & p=$!; m=0; while kill -0 $p 2>/dev/null; do v=$(awk '/VmHWM/{print $2}' /proc/$p/status 2>/dev/null); [ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v; done; echo $m >&2`, 'sh', ...c.cmd],
      { env: c.env, encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${c.cmd.join(' ')} failed: ${r.stderr}`);
  return { wall, rssKb: Number(r.stderr.trim().split('\n').pop()) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const target = await startTarget();
  const pid = String(target.pid);
  const py = `python${path.basename(PYTHON).replace('python', '')}`;
  const withoutCerts = { ...process.env };
  delete withoutCerts.NODE_EXTRA_CA_CERTS;
  const tasklens = (sub: string): string[] => [path.join(ROOT, 'bin', 'tasklens'), sub, pid];
  const cases: Case[] = [];
  for (const sub of ['ps', 'pstree']) {
    cases.push({ name: `\`tasklens ${sub}\``, cmd: tasklens(sub), env: process.env });
    cases.push({ name: `\`${py} -m asyncio ${sub}\``, cmd: [PYTHON, '-m', 'asyncio', sub, pid], env: process.env });
  }
  // For scale: what starting Node alone costs here.
  cases.push({ name: '`node -e 0` (Node start alone)', cmd: [process.execPath, '-e', '0'], env: withoutCerts });
  try {
    const samples = cases.map(() => [] as Sample[]);
    for (let i = 0; i < RUNS; i++) cases.forEach((c, k) => samples[k].push(measure(c)));
    console.log(`${TASKS} tasks, ${RUNS} runs each, ${new Date().toISOString().slice(0, 10)}\n`);
    console.log('| command | median wall (s) | min wall (s) | median max RSS (MB) | max max RSS (MB) |');
    console.log('| --- | --- | --- | --- | --- |');
    const medians = new Map<string, number>();
    cases.forEach((c, k) => {
      const walls = samples[k].map((x) => x.wall);
      const rss = samples[k].map((x) => x.rssKb / 1024);
      medians.set(c.name, median(walls));
      console.log(`| ${c.name} | ${median(walls).toFixed(3)} | ${Math.min(...walls).toFixed(3)} | ${median(rss).toFixed(0)} | ${Math.max(...rss).toFixed(0)} |`);
    });
    console.log('');
    for (const c of cases) {
      const sub = c.name.startsWith('`tasklens pstree') ? 'pstree' : c.name.startsWith('`tasklens ps') ? 'ps' : null;
      if (!sub) continue;
      const ratio = medians.get(c.name)! / medians.get(`\`${py} -m asyncio ${sub}\``)!;
      console.log(`${c.name} / \`${py} -m asyncio ${sub}\`, median wall: ${ratio.toFixed(2)}`);
    }
  } finally {
    target.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
