import { Command, InvalidArgumentError } from 'commander';
import { ProcError, ProcErrorCode } from '../procmem/errors';
import { collect, Snapshot } from '../inspect/model';
import { memorySource } from '../inspect/memorySource';
import { psReport, psText } from '../inspect/report';

// `ps`, and what `pstree` shares with it: the PID argument, the read limits, and how a failure
// to read the target becomes one message and an exit status.

export interface InspectOptions {
  json?: boolean;
  maxTasks: number;
  maxFrames: number;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function inspectCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<pid>', 'process id of a running Python program', positiveInt)
    .option('--json', 'print a JSON document (schema in docs/ps.md)')
    .option('--max-tasks <n>', 'stop after this many tasks', positiveInt, 200_000)
    .option('--max-frames <n>', 'coroutine frames to follow per task', positiveInt, 256);
}

const EXIT: Record<ProcErrorCode, number> = {
  'no-such-process': 3,
  'permission-denied': 4,
  'not-python': 5,
  'unsupported-python': 6,
  'free-threaded': 6,
  'no-asyncio': 5,
  'bad-layout': 7,
  'read-failed': 7,
};

export async function takeSnapshot(pid: number, o: InspectOptions): Promise<Snapshot> {
  try {
    return await collect(pid, [memorySource({ maxTasks: o.maxTasks, maxFrames: o.maxFrames })]);
  } catch (err) {
    if (err instanceof ProcError) {
      process.stderr.write(`tasklens: ${err.message}\n`);
      process.exit(EXIT[err.code]);
    }
    throw err;
  }
}

export function emit(text: string, warnings: string[], json: boolean): void {
  if (!json) for (const w of warnings) process.stderr.write(`tasklens: warning: ${w}\n`);
  process.stdout.write(text);
}


export function register(program: Command): void {
  inspectCommand(program, 'ps', 'list the asyncio tasks of a running Python process: one row per task and awaiter')
    .option('--width <n>', 'cut table cells longer than this (default: never)', Number)
    .action(async (pid: number, o: InspectOptions & { width?: number }) => {
      const report = psReport(await takeSnapshot(pid, o));
      emit(o.json ? `${JSON.stringify(report, null, 2)}\n` : psText(report, o.width), report.warnings, !!o.json);
    });
}
