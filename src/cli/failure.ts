// How every command ends when something goes wrong: a mistake of the user (a bad option, a
// missing interpreter) is one or two lines and a documented exit status; anything else is a bug
// in tasklens, whose trace goes to a file the user can attach to a report instead of onto the
// terminal. The exit statuses are listed in `tasklens --help` and the README.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoveryDir } from '../agent/discovery';
import { ErrorCode, UserError } from '../dap/errors';

export const EXIT = {
  ok: 0,
  /** The command ran and failed (demo's session, a doctor check that matters). */
  failed: 1,
  /** Unknown command or option, bad value, missing or unreadable file. */
  usage: 2,
  /** No process has the PID given (ps, pstree, dump, top, trace, attach). */
  noProcess: 3,
  /** No CPython 3.11+ to use: none found, too old, does not run. */
  noPython: 9,
  /** A bug in tasklens. */
  internal: 70,
} as const;

export const EXIT_STATUS_HELP = `
Exit status: 0 success; 1 the command failed (see its message); 2 bad usage (unknown command
or option, bad value, unreadable file); 3 no such process; 4-8 and 10 ps/pstree/dump could not
read the process (docs/ps.md); 9 no usable Python (3.11 or newer); 70 an internal error (its
trace is saved to a file: please report it). \`run\` exits with the program's own status.`;

/** An error whose message is meant for the user as it is, with the exit status to end with. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed, readonly code = 'failed') {
    super(message);
    this.name = 'CliError';
  }
}

// A script that asked for --json reads stdout: it gets the failure there too, as one object.
const wantsJson = (): boolean => process.argv.slice(2).includes('--json');

export function jsonError(code: string, message: string, exitStatus: number, extra: Record<string, unknown> = {}): void {
  if (!wantsJson()) return;
  process.stdout.write(`${JSON.stringify({ schema: 1, error: { code, message, exitStatus, ...extra } }, null, 2)}\n`);
}

function exitFor(err: UserError): [number, string] {
  switch (err.code) {
    case ErrorCode.InterpreterNotFound:
    case ErrorCode.InterpreterTooOld:
      return [EXIT.noPython, 'no-python'];
    case ErrorCode.BadArguments:
    case ErrorCode.ProgramNotFound:
      return [EXIT.usage, 'usage'];
    default:
      return [EXIT.failed, 'failed'];
  }
}

/** Where the trace went, or undefined when no file could be written. */
export function saveTrace(err: unknown, argv: string[] = process.argv.slice(2)): string | undefined {
  const text = [
    `tasklens ${argv.join(' ')}`,
    `node ${process.version}, ${process.platform}-${process.arch}, ${new Date().toISOString()}`,
    err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err),
    '',
  ].join('\n');
  // The runtime directory is private: a trace may hold paths and values of the user's program.
  const dir = discoveryDir();
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `crash-${process.pid}-${Date.now()}.txt`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  } catch {
    return undefined;
  }
}

/** Prints what the user needs to know about `err` and ends the process. */
export function fail(err: unknown): never {
  if (err instanceof CliError || err instanceof UserError) {
    const [status, code] = err instanceof CliError ? [err.exitCode, err.code] : exitFor(err);
    process.stderr.write(`tasklens: ${err.message.trimEnd()}\n`);
    jsonError(code, err.message.trimEnd(), status);
    process.exit(status);
  }
  const file = saveTrace(err);
  const message = `internal error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  process.stderr.write(`tasklens: ${message}\n` +
    (file ? `The full trace is in ${file}; please report it with that file.\n` : 'Please report it.\n'));
  jsonError('internal', message, EXIT.internal, file ? { trace: file } : {});
  process.exit(EXIT.internal);
}

/** Anything that escapes a command (a stray rejection, a throw in a callback) ends through `fail`. */
export function failOnEscape(): void {
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // `tasklens … | head`: once the reader is gone, stop quietly; that is no error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? process.exit(EXIT.ok) : fail(err)));
  // `tasklens ps PID 2>&1 >/dev/null | true`: nobody reads the notes (a column left out, a
  // warning, "recording…"), but the output may still be read: the notes are dropped and the
  // command goes on to its end and its own status.
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') fail(err);
  });
}
