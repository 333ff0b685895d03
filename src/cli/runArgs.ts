// The command line of `tasklens run`, read the way python reads its own: tasklens' options come
// first, and the first word that is not one of them (the program), `-m MODULE` or `--` ends
// them; everything after belongs to the program, options and all, untouched. Commander parses
// and documents tasklens' part only, so that `run -m json.tool --help` is json.tool's help.
import { execFileSync } from 'node:child_process';
import { Command, CommanderError, InvalidArgumentError, type Option } from 'commander';
import { positive } from './argValues';
import { checkOutFile } from './outFile';
import { agentLauncher } from '../agent/paths';

/** What a usage error exits with: tasklens could not start the program (python's own code for it). */
export const EXIT_USAGE = 2;

const MIN_VERSION: readonly [number, number] = [3, 11];
const PROBE = 'import sys; print("tasklens-probe", sys.implementation.name, *sys.version_info[:2])';
const PROBE_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export class UsageError extends Error {}

interface RunOptions {
  module?: string;
  listen?: string;
  wait: boolean;
  subprocess: boolean;
  python?: string;
  diagnose?: boolean;
  slowMs?: number;
  stuckS?: number;
  diagnoseJson?: string;
  trace?: string;
  traceMaxSteps?: number;
}

export interface RunPlan {
  /** `--python`, checked; undefined when not given (the caller asks findPython for one). */
  python?: string;
  /** Everything the interpreter gets before the program's own words. */
  agentArgs: string[];
  /** How many of the `run` words were tasklens' own; the rest go to the program as they are. */
  consumed: number;
}

function positiveWhole(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return Number(v);
}

export function runCommand(): Command {
  return new Command('tasklens run')
    .description('run a Python program under the tasklens agent, in this process: same PID, signals and exit status as `python program`')
    .usage('[options] (program | -m module) [args...]')
    .option('-m, --module <name>', 'run a module, as `python -m name`; the words after it are its arguments')
    .option('--listen <HOST:PORT>', 'let a debugger attach on HOST:PORT (loopback only; port 0 picks one) and wait for it')
    .option('--no-wait', 'with --listen: run the program at once instead of waiting for the debugger')
    .option('--no-subprocess', 'leave Python child processes alone (by default each gets the agent and its own discovery file)')
    .option('--python <PATH>', 'the interpreter: CPython 3.11 or newer (default: python3 when it is 3.11+, else the newest python3.N on PATH)')
    .option('--diagnose', 'report blocked loops, never-awaited coroutines, lost task exceptions, deadlocks and stuck tasks')
    .option('--slow-ms <N>', 'with --diagnose: a loop blocked this long is reported (implies --diagnose)', positive)
    .option('--stuck-s <N>', 'with --diagnose: a task waiting this long is reported (implies --diagnose)', positive)
    .option('--diagnose-json <FILE>', 'with --diagnose: also write the reports to FILE as JSON (implies --diagnose)')
    .option('--trace <FILE>', 'record the asyncio timeline to FILE (.json or .json.gz, Chrome trace format for Perfetto UI) at exit, on SIGUSR2 or `tasklens trace PID`')
    .option('--trace-max-steps <N>', 'with --trace: keep the last N steps (default 1000000)', positiveWhole)
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', [
      '',
      'Everything after the program (or -m module, or --) is the program\'s, as with python.',
      'Exit status: the program\'s own (a program killed by a signal dies by the same signal);',
      '2 when tasklens cannot start it (a bad option, no program, an interpreter that is not',
      'CPython 3.11+, an unusable --listen address, --diagnose-json or --trace file), with one line on stderr.',
    ].join('\n'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/** Where tasklens' words end: the index of the first word that is the program's (or of `--`). */
function ownWordsEnd(words: string[], options: readonly Option[]): { end: number; module?: string; afterEnd: number } {
  const byFlag = new Map<string, Option>();
  for (const o of options) {
    if (o.short) byFlag.set(o.short, o);
    if (o.long) byFlag.set(o.long, o);
  }
  let i = 0;
  while (i < words.length) {
    const w = words[i];
    if (w === '--') return { end: i, afterEnd: i + 1 };
    if (w === '-m' || w === '--module') return { end: Math.min(i + 2, words.length), afterEnd: Math.min(i + 2, words.length) };
    if (w.startsWith('--module=') || (w.startsWith('-m') && !w.startsWith('--'))) return { end: i + 1, afterEnd: i + 1 };
    if (!w.startsWith('-') || w === '-') return { end: i, afterEnd: i };
    const option = byFlag.get(w.includes('=') ? w.slice(0, w.indexOf('=')) : w);
    // An unknown option stays on tasklens' side, so that commander names it.
    i += option && (option.required || option.optional) && !w.includes('=') ? 2 : 1;
  }
  return { end: words.length, afterEnd: words.length };
}

/**
 * Reads `tasklens run` words into a plan, or throws UsageError; returns null when the words
 * asked for help (already printed).
 */
export function planRun(words: string[], print: (text: string) => void): RunPlan | null {
  const cmd = runCommand();
  cmd.configureOutput({ writeOut: print, writeErr: () => undefined });
  const { end, afterEnd } = ownWordsEnd(words, cmd.options);
  try {
    cmd.parse(words.slice(0, end), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return null;
      throw new UsageError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  if (cmd.args.length > 0) throw new UsageError(`unexpected ${JSON.stringify(cmd.args[0])} before the program`);
  const o = cmd.opts<RunOptions>();
  if (o.module === undefined && afterEnd >= words.length) {
    throw new UsageError('give a program to run, or -m MODULE');
  }
  if (o.module === '') throw new UsageError('-m needs a module name');
  const agentArgs: string[] = [agentLauncher()];
  if (o.listen !== undefined) agentArgs.push('--listen', listenAddress(o.listen));
  if (!o.wait && o.listen === undefined) throw new UsageError('--no-wait needs --listen HOST:PORT (without it nothing waits)');
  if (!o.wait) agentArgs.push('--no-wait');
  if (!o.subprocess) agentArgs.push('--no-subprocess');
  agentArgs.push(...diagnoseArgs(o));
  if (o.trace !== undefined) agentArgs.push('--trace', writableFile(o.trace, '--trace'));
  if (o.traceMaxSteps !== undefined) {
    if (o.trace === undefined) throw new UsageError('--trace-max-steps needs --trace FILE');
    agentArgs.push('--trace-max-steps', String(o.traceMaxSteps));
  }
  if (o.module !== undefined) agentArgs.push('--module', o.module);
  agentArgs.push('--');
  if (o.python !== undefined) checkInterpreter(o.python);
  return { python: o.python, agentArgs, consumed: afterEnd };
}

/** HOST:PORT on loopback only: the agent's port lets whoever reaches it run code in the program. */
function listenAddress(text: string): string {
  const colon = text.lastIndexOf(':');
  let host = colon < 0 ? '' : text.slice(0, colon);
  const port = colon < 0 ? text : text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!/^\d+$/.test(port) || Number(port) > 65535) {
    throw new UsageError(`--listen ${text}: expected HOST:PORT with a port from 0 to 65535 (0 picks a free one)`);
  }
  if (host === '') host = '127.0.0.1';
  if (!LOOPBACK.has(host)) {
    throw new UsageError(`--listen ${text}: only loopback addresses (127.0.0.1, ::1) can be used, because whoever reaches the port controls the program; `
      + 'to debug in a container or on another machine, forward the port: `ssh -L PORT:127.0.0.1:PORT HOST`, `kubectl port-forward`, or `docker run --network host`');
  }
  return `${host}:${Number(port)}`;
}

function diagnoseArgs(o: RunOptions): string[] {
  const out: string[] = [];
  if (o.diagnose || o.slowMs !== undefined || o.stuckS !== undefined || o.diagnoseJson !== undefined) out.push('--diagnose');
  if (o.slowMs !== undefined) out.push('--slow-ms', String(o.slowMs));
  if (o.stuckS !== undefined) out.push('--stuck-s', String(o.stuckS));
  if (o.diagnoseJson !== undefined) out.push('--diagnose-json', writableFile(o.diagnoseJson, '--diagnose-json'));
  return out;
}

/** The report file's absolute path (the program may change directory), once its folder takes files. */
function writableFile(file: string, flag: string): string {
  const { path: full, problem } = checkOutFile(file);
  if (problem !== undefined) throw new UsageError(`${flag} ${file}: ${problem}`);
  return full;
}

/** Before anything runs: `--python` must be a CPython 3.11+, not any program that happens to exist. */
function checkInterpreter(python: string): void {
  let out: string;
  try {
    out = execFileSync(python, ['-c', PROBE], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`--python ${python}: no such interpreter${python.includes('/') ? '' : ' on PATH'}`);
    if (code === 'EACCES') throw new UsageError(`--python ${python}: not executable`);
    throw new UsageError(`--python ${python}: not a Python interpreter (it failed to run \`-c ...\`)`);
  }
  const m = /^tasklens-probe (\S+) (\d+) (\d+)$/m.exec(out);
  if (!m) throw new UsageError(`--python ${python}: not a Python interpreter`);
  const [impl, major, minor] = [m[1], Number(m[2]), Number(m[3])];
  if (impl !== 'cpython') throw new UsageError(`--python ${python}: is ${impl}; tasklens needs CPython`);
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    throw new UsageError(`--python ${python}: is Python ${major}.${minor}; tasklens needs CPython ${MIN_VERSION.join('.')} or newer`);
  }
}
