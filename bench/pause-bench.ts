// How long `pause` takes to stop a program, per kind of program and interpreter: from the
// pause request to the `stopped` event, through a real DAP client, for tasklens and (on 3.14,
// where Debian's python3-debugpy is built) debugpy. A pause that brings no stop within the
// limit is reported as such. Usage: node dist/bench/pause-bench.js [--reps N] [--limit-ms MS]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { matrix, repoRoot, StreamClient } from './support';

const fixtures = path.join(repoRoot, 'test', 'fixtures');

interface Scenario {
  name: string;
  program: string;
  args: string[];
  /** stdout that says the program has reached the state to pause in */
  ready: RegExp;
  uvloop?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'asyncio deadlock (loop idle in select)', program: 'pause_async_deadlock.py', args: [], ready: /^ready$/m },
  { name: 'idle asyncio server', program: 'pause_idle_server.py', args: [], ready: /^port \d+$/m },
  { name: 'threading.Lock deadlock', program: 'pause_lock_deadlock.py', args: [], ready: /^ready$/m },
  { name: 'time.sleep(3600) (and a ticker thread)', program: 'pause_sleep.py', args: [], ready: /^tick 1$/m },
  { name: 'busy loop', program: 'tight_loop.py', args: [], ready: /^$/ },
  { name: 'asyncio deadlock on uvloop', program: 'pause_async_deadlock.py', args: ['--loop=uvloop'], ready: /^ready$/m, uvloop: true },
  { name: 'idle server on uvloop', program: 'pause_idle_server.py', args: ['--loop=uvloop'], ready: /^port \d+$/m, uvloop: true },
];

interface Adapter {
  name: string;
  start(python: string): ChildProcess;
  launchArgs(python: string, program: string, args: string[]): DebugProtocol.LaunchRequestArguments;
}

const tasklens: Adapter = {
  name: 'tasklens',
  start: () => spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] }),
  launchArgs: (python, program, args) => ({ program, args, python }) as DebugProtocol.LaunchRequestArguments,
};

const debugpy: Adapter = {
  name: 'debugpy',
  start: (python) => spawn(python, ['-m', 'debugpy.adapter'], { stdio: ['pipe', 'pipe', 'inherit'] }),
  launchArgs: (python, program, args) => ({ type: 'python', request: 'launch', program, args, python: [python], console: 'internalConsole', justMyCode: true }) as DebugProtocol.LaunchRequestArguments,
};

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Milliseconds from `pause` to `stopped`, or undefined when no stop came within `limitMs`. */
async function timePause(adapter: Adapter, python: string, scenario: Scenario, limitMs: number): Promise<number | undefined> {
  const child = adapter.start(python);
  const dc = new StreamClient('unused', 'unused', 'python');
  dc.defaultTimeout = 30_000;
  dc.attachStreams(child.stdout as Readable, child.stdin as Writable);
  let stdout = '';
  dc.on('output', (e: DebugProtocol.OutputEvent) => (stdout += e.body.output));
  try {
    await dc.initializeRequest({ adapterID: 'python', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const program = path.join(fixtures, scenario.program);
    const initialized = dc.waitForEvent('initialized');
    const launched = dc.launchRequest(adapter.launchArgs(python, program, scenario.args));
    await initialized;
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    await dc.configurationDoneRequest();
    await launched;
    for (let waited = 0; !scenario.ready.test(stdout) && waited < 10_000; waited += 50) await sleep(50);
    await sleep(400);     // let the program settle into its wait
    const threads = (await dc.threadsRequest()).body.threads;
    const stopped = dc.waitForEvent('stopped', limitMs).then(() => performance.now(), () => undefined);
    const asked = performance.now();
    await dc.pauseRequest({ threadId: threads[0].id });
    const at = await stopped;
    return at === undefined ? undefined : at - asked;
  } finally {
    await Promise.race([dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined), sleep(3000)]);
    child.kill('SIGKILL');
  }
}

function version(python: string): string {
  return spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
}

function imports(python: string, module: string): boolean {
  return spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function summary(values: Array<number | undefined>, limitMs: number): string {
  const stops = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (stops.length < values.length) return `no stop within ${limitMs / 1000} s in ${values.length - stops.length} of ${values.length}`;
  return `${Math.round(stops[Math.floor(stops.length / 2)])} ms (worst ${Math.round(stops[stops.length - 1])})`;
}

async function main(): Promise<void> {
  const reps = option('--reps', 3);
  const limitMs = option('--limit-ms', 5000);
  const lines = ['| Python | program | tasklens | debugpy |', '| --- | --- | ---: | ---: |'];
  for (const python of matrix()) {
    const v = version(python);
    const hasUvloop = imports(python, 'uvloop');
    const withDebugpy = imports(python, 'debugpy');
    for (const scenario of SCENARIOS) {
      if (scenario.uvloop && !hasUvloop) continue;
      const tl: Array<number | undefined> = [];
      const dp: Array<number | undefined> = [];
      for (let i = 0; i < reps; i++) {
        tl.push(await timePause(tasklens, python, scenario, limitMs));
        if (withDebugpy) dp.push(await timePause(debugpy, python, scenario, limitMs));
      }
      const row = `| ${v} | ${scenario.name} | ${summary(tl, limitMs)} | ${withDebugpy ? summary(dp, limitMs) : '—'} |`;
      process.stderr.write(`${row}\n`);
      lines.push(row);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pause-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
