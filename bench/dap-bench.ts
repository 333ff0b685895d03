// Overhead and start-up benchmark for the core debugger.
//
// Every figure is measured in one run, side by side: the bare interpreter, tasklens, and
// debugpy (Debian's python3-debugpy, which is built for 3.14) driving the same programs through
// a real DAP client. The machine is noisy, so runs are interleaved, the best of N is reported
// (as timeit does: noise only ever adds time), and the table compares ratios.
//
//   node dist/bench/dap-bench.js [--reps N] [--n ITERATIONS] [--out FILE]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DebugProtocol } from '@vscode/debugprotocol';
import { type Adapter, debugpy, imports, minorVersion, tasklens, withSession } from './adapters';
import { lineOf, matrix, option, repoRoot, StreamClient } from './support';

const programsDir = path.join(repoRoot, 'bench', 'programs');
const cpuProgram = path.join(programsDir, 'cpu_bound.py');
const startupProgram = path.join(programsDir, 'first_breakpoint.py');

function parseElapsed(text: string): number {
  const match = /elapsed=([0-9.]+)/.exec(text);
  if (!match) throw new Error(`program printed no elapsed time: ${JSON.stringify(text.slice(0, 500))}`);
  return Number(match[1]);
}

function bareRun(python: string, n: number): number {
  const run = spawnSync(python, [cpuProgram, String(n)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bare run failed: ${run.stderr}`);
  return parseElapsed(run.stdout);
}

// Launches `program`, installs `breakpoints` once the adapter is ready, and finishes the
// configuration; debugpy answers `launch` only after configurationDone, so both go together.
async function configureAndLaunch(dc: StreamClient, adapter: Adapter, python: string, program: string, args: string[],
  breakpoints: DebugProtocol.SourceBreakpoint[]): Promise<void> {
  const initialized = dc.waitForEvent('initialized');
  const launched = dc.launchRequest(adapter.launchArgs(python, program, args));
  await initialized;
  await dc.setBreakpointsRequest({ source: { path: program }, breakpoints });
  await dc.configurationDoneRequest();
  await launched;
}

async function debuggedRun(adapter: Adapter, python: string, n: number, bp: DebugProtocol.SourceBreakpoint): Promise<number> {
  return withSession(adapter, python, 600_000, async (dc) => {
    let stdout = '';
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'stdout' || e.body.category === undefined) stdout += e.body.output;
    });
    const terminated = dc.waitForEvent('terminated');
    await configureAndLaunch(dc, adapter, python, cpuProgram, [String(n)], [bp]);
    await terminated;
    return parseElapsed(stdout);
  });
}

async function timeToFirstBreakpoint(adapter: Adapter, python: string): Promise<number> {
  return withSession(adapter, python, 600_000, async (dc) => {
    const started = performance.now();
    const stopped = dc.waitForEvent('stopped');
    await configureAndLaunch(dc, adapter, python, startupProgram, [],
      [{ line: lineOf(startupProgram, 'BREAK_LINE') }]);
    await stopped;
    const elapsed = (performance.now() - started) / 1000;
    await dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
    return elapsed;
  });
}

function best(values: number[]): number {
  return Math.min(...values);
}

interface Row { python: string; scenario: string; n: number; bare: number; tasklens?: number; debugpy?: number }

function fmtRatio(value: number | undefined, base: number): string {
  return value === undefined ? '—' : `${(value / base).toFixed(2)}×`;
}

async function main(): Promise<void> {
  const reps = Number(option('--reps') ?? 3);
  const hotN = Number(option('--n') ?? 10_000_000);
  // debugpy pays its per-line cost on every one of these iterations; fewer keep the run short
  // while the ratio against a bare run of the same size stays comparable.
  const debugpyHotN = Math.min(hotN, Number(option('--debugpy-n') ?? 300_000));
  const outAt = process.argv.indexOf('--out');
  const never = { line: lineOf(cpuProgram, 'NEVER_LINE') };
  const hotFalse = { line: lineOf(cpuProgram, 'HOT_LINE'), condition: 'i < 0' };
  const rows: Row[] = [];
  const startupRows: { python: string; tasklens: number; debugpy?: number }[] = [];

  for (const python of matrix()) {
    const version = minorVersion(python);
    const withDebugpy = imports(python, 'debugpy');
    const idleBare: number[] = [], idleTl: number[] = [], idleDp: number[] = [];
    const hotBare: number[] = [], hotTl: number[] = [], hotBareSmall: number[] = [], hotDp: number[] = [];
    const startTl: number[] = [], startDp: number[] = [];
    for (let r = 0; r < reps; r++) {
      idleBare.push(bareRun(python, hotN));
      idleTl.push(await debuggedRun(tasklens, python, hotN, never));
      if (withDebugpy) idleDp.push(await debuggedRun(debugpy, python, hotN, never));
      hotBare.push(bareRun(python, hotN));
      hotTl.push(await debuggedRun(tasklens, python, hotN, hotFalse));
      if (withDebugpy) {
        hotBareSmall.push(bareRun(python, debugpyHotN));
        hotDp.push(await debuggedRun(debugpy, python, debugpyHotN, hotFalse));
      }
      startTl.push(await timeToFirstBreakpoint(tasklens, python));
      if (withDebugpy) startDp.push(await timeToFirstBreakpoint(debugpy, python));
      process.stderr.write(`python ${version}: repetition ${r + 1}/${reps} done\n`);
    }
    rows.push({ python: version, scenario: 'breakpoint on a line never executed', n: hotN, bare: best(idleBare),
      tasklens: best(idleTl), debugpy: withDebugpy ? best(idleDp) : undefined });
    rows.push({ python: version, scenario: 'false conditional breakpoint on the hot line', n: hotN, bare: best(hotBare),
      tasklens: best(hotTl) });
    if (withDebugpy) {
      rows.push({ python: version, scenario: 'false conditional breakpoint on the hot line (debugpy)', n: debugpyHotN,
        bare: best(hotBareSmall), debugpy: best(hotDp) });
    }
    startupRows.push({ python: version, tasklens: best(startTl), debugpy: withDebugpy ? best(startDp) : undefined });
  }

  const lines: string[] = [];
  lines.push(`Best of ${reps} interleaved runs; times are the program's own time in the workload (seconds).`, '');
  lines.push('| Python | scenario | iterations | bare | tasklens | debugpy |', '| --- | --- | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const tl = row.tasklens === undefined ? '—' : `${row.tasklens.toFixed(3)} s (${fmtRatio(row.tasklens, row.bare)})`;
    const dp = row.debugpy === undefined ? '—' : `${row.debugpy.toFixed(3)} s (${fmtRatio(row.debugpy, row.bare)})`;
    lines.push(`| ${row.python} | ${row.scenario} | ${row.n.toLocaleString('en-US')} | ${row.bare.toFixed(3)} s | ${tl} | ${dp} |`);
  }
  lines.push('', 'Time from the `launch` request to the first `stopped` event (seconds):', '');
  lines.push('| Python | tasklens | debugpy |', '| --- | ---: | ---: |');
  for (const row of startupRows) {
    lines.push(`| ${row.python} | ${row.tasklens.toFixed(3)} | ${row.debugpy === undefined ? '—' : row.debugpy.toFixed(3)} |`);
  }
  const table = lines.join('\n') + '\n';
  process.stdout.write(table);
  if (outAt >= 0) fs.writeFileSync(process.argv[outAt + 1], table);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
