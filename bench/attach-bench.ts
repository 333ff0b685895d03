// Attach by process id (docs/bench-attach.md): for each interpreter and program, the time from
// the DAP `attach` request to the first `threads` response (attach, initialized,
// configurationDone, threads), timed at a real DAP client; and, on a CPU-bound program, its
// own call rate before an attach and after the detach (idle overhead left behind).
//
//   node dist/bench/attach-bench.js [--reps N] [--only WORD] [--against MAIN_JS] [--out FILE]
//
// --only keeps the programs whose name holds WORD (busy, asyncio, uvloop, Lock, sleep);
// TASKLENS_PYTHONS picks interpreters. uvloop rows appear where uvloop is installed.
// --against times another build's dist/src/cli/main.js in the same run, turn about with this
// one on fresh targets, so that both see the same load (an extra column).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { matrix, median, option, repoRoot, StreamClient } from './support';

const fixtures = path.join(repoRoot, 'test', 'fixtures');
const PROGRAMS: Array<[string, string, string[], RegExp]> = [
  ['busy (CPU-bound loop)', path.join(repoRoot, 'bench', 'programs', 'attach_rate.py'), [], /ready/],
  ['hung: asyncio deadlock (epoll_wait)', path.join(fixtures, 'pause_async_deadlock.py'), [], /ready/],
  ['hung: uvloop deadlock (epoll_wait)', path.join(fixtures, 'pause_async_deadlock.py'), ['--loop=uvloop'], /ready/],
  ['hung: threading.Lock deadlock', path.join(fixtures, 'pause_lock_deadlock.py'), [], /ready/],
  ['hung: main thread in time.sleep', path.join(fixtures, 'pause_sleep.py'), [], /tick 1/],
];

/** Wall time over which the CPU-bound program's rates (per CPU second) are gathered, before and after. */
const WINDOW_MS = 2500;

function hasUvloop(python: string): boolean {
  return spawnSync(python, ['-c', 'import uvloop'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

interface Target {
  child: ChildProcess;
  out: () => string;
}

async function startTarget(python: string, program: string, args: string[], ready: RegExp): Promise<Target> {
  const child = spawn(python, [program, ...args], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
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
async function attachToThreads(pid: number, mainJs: string): Promise<number> {
  const adapter = spawn(process.execPath, [mainJs, 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] });
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

/** The median of the rates (calls per CPU second of the program's thread) it prints over the next `ms`. */
async function rate(t: Target, ms: number): Promise<number> {
  const from = t.out().length;
  await new Promise((r) => setTimeout(r, ms));
  const rates = [...t.out().slice(from).matchAll(/rate (\d+)/g)].map((m) => Number(m[1]));
  return rates.length === 0 ? NaN : median(rates);
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? '3');
  const only = option('--only');
  console.log(`load average at the start: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const against = option('--against');
  const mainJs = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const rows: string[] = [
    `| Python | program | attach → first threads |${against ? ' same, --against build |' : ''} after detach: rate vs before |`,
    `| --- | --- | ---: |${against ? ' ---: |' : ''} ---: |`,
  ];
  const shown = (xs: number[]) => `${Math.round(median(xs))} ms (worst ${Math.round(Math.max(...xs))})`;
  for (const python of matrix()) {
    const version = path.basename(python);
    const uvloop = hasUvloop(python);
    for (const [name, program, args, ready] of PROGRAMS) {
      if ((only && !name.includes(only)) || (args.includes('--loop=uvloop') && !uvloop)) continue;
      const times: number[] = [];
      const otherTimes: number[] = [];
      const ratios: number[] = [];
      const busy = name.startsWith('busy');
      for (let i = 0; i < reps; i++) {
        const turns: Array<[string, number[]]> = [[mainJs, times]];
        if (against) turns[i % 2 === 0 ? 'push' : 'unshift']([against, otherTimes]);
        for (const [adapter, into] of turns) {
          const target = await startTarget(python, program, args, ready);
          try {
            // The first second after start-up is left out: the interpreter is still warming up,
            // and the previous target and adapter still leaving share the cores with it.
            if (busy && adapter === mainJs) await new Promise((r) => setTimeout(r, 1000));
            const before = busy && adapter === mainJs ? await rate(target, WINDOW_MS) : NaN;
            into.push(await attachToThreads(target.child.pid!, adapter));
            if (!Number.isNaN(before)) {
              await new Promise((r) => setTimeout(r, 500));
              ratios.push(await rate(target, WINDOW_MS) / before);
            }
          } finally {
            kill(target);
          }
        }
      }
      const overhead = busy ? `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : '—';
      const row = `| ${version} | ${name} | ${shown(times)} |${against ? ` ${shown(otherTimes)} |` : ''} ${overhead} |`;
      console.log(row);
      rows.push(row);
    }
  }
  console.log(`load average at the end: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const out = option('--out');
  if (out) fs.writeFileSync(out, `${rows.join('\n')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
