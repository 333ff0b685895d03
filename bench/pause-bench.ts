// How long `pause` takes to stop a program, per kind of program and interpreter: from the
// pause request to the `stopped` event, through a real DAP client, for tasklens and (on 3.14,
// where Debian's python3-debugpy is built) debugpy. A pause that brings no stop within the
// limit is reported as such. Usage: node dist/bench/pause-bench.js [--reps N] [--limit-ms MS]
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { type Adapter, debugpy, imports, minorVersion, sleep, tasklens, withSession } from './adapters';
import { matrix, option, repoRoot } from './support';

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

/** Milliseconds from `pause` to `stopped`, or undefined when no stop came within `limitMs`. */
async function timePause(adapter: Adapter, python: string, scenario: Scenario, limitMs: number): Promise<number | undefined> {
  return withSession(adapter, python, 30_000, async (dc) => {
    let stdout = '';
    dc.on('output', (e: DebugProtocol.OutputEvent) => (stdout += e.body.output));
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
  });
}

function summary(values: Array<number | undefined>, limitMs: number): string {
  const stops = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (stops.length < values.length) return `no stop within ${limitMs / 1000} s in ${values.length - stops.length} of ${values.length}`;
  return `${Math.round(stops[Math.floor(stops.length / 2)])} ms (worst ${Math.round(stops[stops.length - 1])})`;
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 3);
  const limitMs = Number(option('--limit-ms') ?? 5000);
  const lines = ['| Python | program | tasklens | debugpy |', '| --- | --- | ---: | ---: |'];
  for (const python of matrix()) {
    const v = minorVersion(python);
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
