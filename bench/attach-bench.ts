// Attach by process id (docs/bench-attach.md): for each interpreter and program, the time from
// the DAP `attach` request to the first `threads` response (attach, initialized,
// configurationDone, threads), timed at a real DAP client; and, on a CPU-bound program, its
// own call rate before an attach and after the detach (idle overhead left behind).
//
//   node dist/bench/attach-bench.js [--reps N] [--out FILE]
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { matrix, repoRoot, StreamClient } from './support';

const fixtures = path.join(repoRoot, 'test', 'fixtures');
const PROGRAMS: Array<[string, string, RegExp]> = [
  ['busy (CPU-bound loop)', path.join(repoRoot, 'bench', 'programs', 'attach_rate.py'), /ready/],
  ['hung: asyncio deadlock (epoll_wait)', path.join(fixtures, 'pause_async_deadlock.py'), /ready/],
  ['hung: threading.Lock deadlock', path.join(fixtures, 'pause_lock_deadlock.py'), /ready/],
  ['hung: main thread in time.sleep', path.join(fixtures, 'pause_sleep.py'), /tick 1/],
];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Target {
  child: ChildProcess;
  out: () => string;
}

async function startTarget(python: string, program: string, ready: RegExp): Promise<Target> {
  const child = spawn(python, [program], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 15_000;
  while (!ready.test(out)) {
    if (Date.now() > deadline) throw new Error(`${program} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, out: () => out };
}

function kill(t: Target): void {
  try {
    process.kill(-t.child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
}

/** ms from `attach` to the first `threads` answer; the session then detaches. */
async function attachToThreads(pid: number): Promise<number> {
  const adapter = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const dc = new StreamClient('unused', 'unused', 'tasklens');
  dc.defaultTimeout = 30_000;
  dc.attachStreams(adapter.stdout as Readable, adapter.stdin as Writable);
  try {
    await dc.initializeRequest();
    const initialized = dc.waitForEvent('initialized');
    const start = performance.now();
    await dc.attachRequest({ processId: pid } as never);
    await initialized;
    await dc.configurationDoneRequest();
    await dc.threadsRequest();
    const ms = performance.now() - start;
    await dc.disconnectRequest({});
    return ms;
  } finally {
    adapter.kill('SIGKILL');
  }
}

/** The median of the rates the program prints over the next `ms`. */
async function rate(t: Target, ms: number): Promise<number> {
  const from = t.out().length;
  await new Promise((r) => setTimeout(r, ms));
  const rates = [...t.out().slice(from).matchAll(/rate (\d+)/g)].map((m) => Number(m[1]));
  return median(rates);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const reps = Number(option('--reps', '3'));
  const rows: string[] = ['| Python | program | attach → first threads | after detach: rate vs before |', '| --- | --- | ---: | ---: |'];
  for (const python of matrix()) {
    const version = path.basename(python);
    for (const [name, program, ready] of PROGRAMS) {
      const times: number[] = [];
      let overhead = '';
      for (let i = 0; i < reps; i++) {
        const target = await startTarget(python, program, ready);
        try {
          const before = name.startsWith('busy') ? await rate(target, 1500) : NaN;
          times.push(await attachToThreads(target.child.pid!));
          if (name.startsWith('busy') && i === 0) {
            await new Promise((r) => setTimeout(r, 500));
            overhead = `${(await rate(target, 1500) / before).toFixed(2)}×`;
          }
        } finally {
          kill(target);
        }
      }
      const row = `| ${version} | ${name} | ${Math.round(median(times))} ms (worst ${Math.round(Math.max(...times))}) | ${overhead || '—'} |`;
      console.log(row);
      rows.push(row);
    }
  }
  const out = option('--out', '');
  if (out) fs.writeFileSync(out, `${rows.join('\n')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
