// Asyncio benchmarks (docs/bench-async.md):
//  scale      — a program with 10,000 pending tasks stopped at a breakpoint: how long `threads`
//               and `stackTrace` of a task take, timed at the DAP client (targets 200 / 50 ms);
//  throughput — 20,000 tasks hopping through sleep(0) plus a 100,000-item queue pipeline, the
//               program timing itself: bare interpreter, under tasklens (no breakpoints), and
//               under debugpy where the interpreter has it, interleaved, median reported.
//
//   node dist/bench/async-bench.js [--reps N] [--only scale|throughput] [--out FILE]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { lineOf, matrix, median, option, printTable, pythonVersion, repoRoot, StreamClient } from './support';

const pendingProgram = path.join(repoRoot, 'bench', 'programs', 'async_pending.py');
const throughputProgram = path.join(repoRoot, 'bench', 'programs', 'async_throughput.py');

type AdapterName = 'tasklens' | 'debugpy';

function startAdapter(name: AdapterName, python: string): ChildProcess {
  return name === 'tasklens'
    ? spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(python, ['-m', 'debugpy.adapter'], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function launchArgs(name: AdapterName, python: string, program: string, extra: Record<string, unknown>): DebugProtocol.LaunchRequestArguments {
  const common = { program, justMyCode: true, ...extra };
  const args: Record<string, unknown> = name === 'tasklens'
    ? { ...common, python }
    : { ...common, type: 'python', request: 'launch', python: [python], console: 'internalConsole' };
  return args as DebugProtocol.LaunchRequestArguments;
}

/** A DAP session on one adapter, launched with `breakpoints`; `body` runs once configured. */
async function session<T>(name: AdapterName, python: string, program: string, breakpoints: number[], extra: Record<string, unknown>,
  body: (dc: StreamClient, stdout: () => string) => Promise<T>): Promise<T> {
  const child = startAdapter(name, python);
  const dc = new StreamClient('unused', 'unused', 'python');
  dc.defaultTimeout = 120_000;
  dc.attachStreams(child.stdout as Readable, child.stdin as Writable);
  let out = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => {
    if (e.body.category === 'stdout' || e.body.category === undefined) out += e.body.output;
  });
  try {
    await dc.initializeRequest({ adapterID: 'python', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = dc.waitForEvent('initialized');
    // debugpy answers `launch` only after configurationDone.
    const launched = dc.launchRequest(launchArgs(name, python, program, extra));
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: program }, breakpoints: breakpoints.map((line) => ({ line })) });
    await dc.configurationDoneRequest();
    await launched;
    return await body(dc, () => out);
  } finally {
    await dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
    child.kill('SIGKILL');
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [performance.now() - start, result];
}

interface ScaleRow { python: string; cap: number; listed: number; threadsMs: number; stackMs: number; frames: number }

async function scale(python: string, version: string, reps: number): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const cap of [1000, 10_001]) {
    const row = await session('tasklens', python, pendingProgram, [lineOf(pendingProgram, 'BREAK_LINE')], { maxTaskThreads: cap }, async (dc) => {
      await dc.waitForEvent('stopped');
      const threadTimes: number[] = [];
      let threads: DebugProtocol.Thread[] = [];
      for (let r = 0; r < reps; r++) {
        const [ms, response] = await timed(() => dc.threadsRequest());
        threadTimes.push(ms);
        threads = response.body.threads;
      }
      const tasks = threads.filter((t) => t.name.startsWith('Task: outer'));
      if (tasks.length === 0) throw new Error(`no pending tasks listed: ${JSON.stringify(threads.slice(0, 5))}`);
      const stackTimes: number[] = [];
      let frames = 0;
      for (let r = 0; r < Math.max(reps, 10); r++) {
        const task = tasks[Math.floor((r * tasks.length) / Math.max(reps, 10))];
        const [ms, response] = await timed(() => dc.stackTraceRequest({ threadId: task.id }));
        stackTimes.push(ms);
        frames = response.body.stackFrames.length;
      }
      return { python: version, cap, listed: threads.length, threadsMs: median(threadTimes), stackMs: median(stackTimes), frames };
    });
    rows.push(row);
    process.stderr.write(`scale ${version} cap ${cap}: threads ${row.threadsMs.toFixed(1)} ms, stackTrace ${row.stackMs.toFixed(1)} ms\n`);
  }
  return rows;
}

interface Times { hops: number; pipeline: number; elapsed: number }

function parseTimes(text: string): Times {
  const m = /hops=([0-9.]+) pipeline=([0-9.]+) elapsed=([0-9.]+)/.exec(text);
  if (!m) throw new Error(`no timing line in ${JSON.stringify(text.slice(0, 400))}`);
  return { hops: Number(m[1]), pipeline: Number(m[2]), elapsed: Number(m[3]) };
}

async function throughputRun(mode: 'bare' | AdapterName, python: string): Promise<Times> {
  if (mode === 'bare') {
    const run = spawnSync(python, [throughputProgram], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bare run failed: ${run.stderr}`);
    return parseTimes(run.stdout);
  }
  return session(mode, python, throughputProgram, [], {}, async (dc, stdout) => {
    await dc.waitForEvent('terminated');
    return parseTimes(stdout());
  });
}

type ThroughputRow = { python: string } & Record<'bare' | AdapterName, Times | undefined>;

async function throughput(python: string, version: string, reps: number): Promise<ThroughputRow> {
  const modes: Array<'bare' | AdapterName> = ['bare', 'tasklens'];
  if (spawnSync(python, ['-c', 'import debugpy'], { stdio: 'ignore' }).status === 0) modes.push('debugpy');
  const samples = new Map<string, Times[]>(modes.map((m) => [m, []]));
  for (let r = 0; r < reps; r++) {
    for (const mode of modes) samples.get(mode)!.push(await throughputRun(mode, python));
    process.stderr.write(`throughput ${version}: repetition ${r + 1}/${reps}\n`);
  }
  const pick = (mode: string): Times | undefined => {
    const list = samples.get(mode);
    if (!list) return undefined;
    return { hops: median(list.map((t) => t.hops)), pipeline: median(list.map((t) => t.pipeline)), elapsed: median(list.map((t) => t.elapsed)) };
  };
  return { python: version, bare: pick('bare'), tasklens: pick('tasklens'), debugpy: pick('debugpy') };
}

function cell(t: Times | undefined, base: Times | undefined): string {
  if (!t || !base) return '—';
  return `${t.elapsed.toFixed(3)} s (${(t.elapsed / base.elapsed).toFixed(2)}×)`;
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 5);
  const only = option('--only');
  const scaleRows: ScaleRow[] = [];
  const throughputRows: ThroughputRow[] = [];
  for (const python of matrix()) {
    const version = pythonVersion(python);
    if (only !== 'throughput') scaleRows.push(...(await scale(python, version, reps)));
    if (only !== 'scale') throughputRows.push(await throughput(python, version, reps));
  }
  const lines: string[] = [];
  if (scaleRows.length > 0) {
    lines.push('10,000 pending tasks, stopped at a breakpoint; median request time at the DAP client:', '');
    lines.push('| Python | maxTaskThreads | threads listed | `threads` | `stackTrace` of a task (frames) |', '| --- | ---: | ---: | ---: | ---: |');
    for (const r of scaleRows) {
      lines.push(`| ${r.python} | ${r.cap.toLocaleString('en-US')} | ${r.listed.toLocaleString('en-US')} | ${r.threadsMs.toFixed(1)} ms | ${r.stackMs.toFixed(1)} ms (${r.frames}) |`);
    }
    lines.push('');
  }
  if (throughputRows.length > 0) {
    lines.push(`Throughput, median of ${reps} interleaved runs; the program's own time for both parts (ratio to bare):`, '');
    lines.push('| Python | bare | tasklens | debugpy | tasklens hops / pipeline | bare hops / pipeline |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of throughputRows) {
      const parts = (t: Times | undefined) => (t ? `${t.hops.toFixed(3)} / ${t.pipeline.toFixed(3)} s` : '—');
      lines.push(`| ${r.python} | ${r.bare!.elapsed.toFixed(3)} s | ${cell(r.tasklens, r.bare)} | ${cell(r.debugpy, r.bare)} | ${parts(r.tasklens)} | ${parts(r.bare)} |`);
    }
  }
  printTable(lines);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
