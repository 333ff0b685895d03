// How long an `await` typed in the debug console takes, against a plain evaluate in the same
// frame: the program is stopped in a task of a loop with 20 sleeping tasks, and each expression
// is evaluated in the repl context, round trip through a real DAP client (request to
// response). Rows: asyncio's loop (the paused loop is turned for the `await`) and, where the
// interpreter has uvloop, uvloop (a fresh loop runs it); debugpy (Debian's python3-debugpy,
// where importable) on the same program as the anchor.
// Usage: node dist/bench/await-bench.js [--reps N]
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { type Adapter, debugpy, imports, minorVersion, tasklens, withSession } from './adapters';
import { lineOf, matrix, option, repoRoot } from './support';

const PROGRAM = path.join(repoRoot, 'bench', 'programs', 'await_target.py');
const STOP = lineOf(PROGRAM, 'BENCH-STOP');
/** [label, expression, the coroutine's own time in ms] */
const EXPRESSIONS: Array<[string, string, number]> = [
  ['plain evaluate `value + 1`', 'value + 1', 0],
  ['`await asyncio.sleep(0, result=5)`', 'await asyncio.sleep(0, result=5)', 0],
  ['`await fetch(0.02)` (sleeps 20 ms)', 'await fetch(0.02)', 20],
];

/** Per expression, the round trips in ms (or the error the adapter gave). */
async function measure(adapter: Adapter, python: string, args: string[], reps: number): Promise<Array<number[] | string>> {
  return withSession(adapter, python, 30_000, async (dc) => {
    const initialized = dc.waitForEvent('initialized');
    const stopped = dc.waitForEvent('stopped');
    const launched = dc.launchRequest(adapter.launchArgs(python, PROGRAM, args));
    await initialized;
    await dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: STOP }] });
    await dc.configurationDoneRequest();
    await launched;
    const stop = (await stopped) as DebugProtocol.StoppedEvent;
    const trace = await dc.stackTraceRequest({ threadId: stop.body.threadId! });
    const frameId = trace.body.stackFrames[0].id;
    const out: Array<number[] | string> = [];
    for (const [, expression] of EXPRESSIONS) {
      const times: number[] = [];
      try {
        await dc.evaluateRequest({ expression, frameId, context: 'repl' });   // warm-up
        for (let i = 0; i < reps; i++) {
          const asked = performance.now();
          await dc.evaluateRequest({ expression, frameId, context: 'repl' });
          times.push(performance.now() - asked);
        }
        out.push(times);
      } catch (err) {
        out.push(err instanceof Error ? err.message.split('\n')[0].slice(0, 60) : String(err));
      }
    }
    return out;
  });
}

function cell(result: number[] | string | undefined, ownMs: number): string {
  if (result === undefined) return '—';
  if (typeof result === 'string') return `fails: ${result}`;
  const sorted = [...result].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const extra = ownMs ? ` (+${Math.max(0, Math.round(median - ownMs))} over its own ${ownMs})` : '';
  return `${median.toFixed(1)} ms${extra}`;
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 20);
  const lines = ['| Python | loop | console input | tasklens | debugpy |', '| --- | --- | --- | ---: | ---: |'];
  for (const python of matrix()) {
    const v = minorVersion(python);
    const loops: Array<[string, string[]]> = [['asyncio', []]];
    if (imports(python, 'uvloop')) loops.push(['uvloop', ['--loop=uvloop']]);
    const withDebugpy = imports(python, 'debugpy');
    for (const [loop, args] of loops) {
      const ours = await measure(tasklens, python, args, reps);
      const theirs = withDebugpy ? await measure(debugpy, python, args, reps) : [];
      EXPRESSIONS.forEach(([label, , ownMs], i) => {
        const row = `| ${v} | ${loop} | ${label} | ${cell(ours[i], ownMs)} | ${cell(theirs[i], ownMs)} |`;
        process.stderr.write(`${row}\n`);
        lines.push(row);
      });
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`await-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
