// `tasklens attach PID`: a DAP server on 127.0.0.1 for one running Python process, for people
// without an editor that attaches by process id (any DAP client connects to the port printed).
// The process is checked before the port opens, so a wrong PID fails at once, not in the client.
import { Command, InvalidArgumentError } from 'commander';
import { ErrorCode, UserError } from '../dap/errors';
import type { AttachTarget } from '../inject/target';
import { CliError, EXIT } from './failure';

interface AttachOptions {
  port: number;
  log?: string;
  json?: boolean;
}

/** What the process check finds, as the status and code `ps` ends with on the same finding. */
const TARGET_STATUS: Partial<Record<number, [number, string]>> = {
  [ErrorCode.AttachNotPermitted]: [4, 'permission-denied'],
  [ErrorCode.AttachNotPython]: [5, 'not-python'],
  [ErrorCode.AttachPythonUnsupported]: [6, 'unsupported-python'],
  [ErrorCode.AttachFreeThreaded]: [6, 'free-threaded'],
  [ErrorCode.AttachProcessExited]: [10, 'exited'],
};

function parseWhole(what: string, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n > max) throw new InvalidArgumentError(`not a ${what}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('attach')
    .description('serve the Debug Adapter Protocol on 127.0.0.1 for one running Python process (3.11+)')
    .argument('<PID>', 'the process to debug', parseWhole('process id', 2 ** 31))
    .option('--port <N>', 'the TCP port to serve one client on (default 0: a free one, printed)', parseWhole('TCP port number', 65535), 0)
    .option('--log <FILE>', 'append every DAP and agent message, with timestamps, to FILE')
    .option('--json', 'print {"pid", "port", "host"} on stdout once listening, instead of a sentence')
    .addHelpText(
      'after',
      '\nThe client connects to the port and sends `attach` (no arguments needed; justMyCode,\n' +
        'evaluateTimeout and maxTaskThreads apply). The agent is loaded into the process then\n' +
        '(docs/attach.md: sys.remote_exec on 3.14+, gdb on 3.11-3.13), and taken out again when the\n' +
        'client disconnects; the program runs on. Serves one session, then exits.\n' +
        'Exit status: 0 after the session; 1 the attach failed (its message says why; before the port\n' +
        'opens when 3.11-3.13 would need a gdb that is missing or cannot be used here); 2 bad\n' +
        'usage; 3 no such process; and before the port opens, as ps: 4 no permission to attach, 5 not a\n' +
        'Python process, 6 a Python tasklens cannot attach to (older than 3.11, free-threaded), 10 exited.',
    )
    .action(async (pid: number, options: AttachOptions) => {
      const { inspectTarget } = await import('../inject/target.js');
      let target: AttachTarget;
      try {
        target = inspectTarget(pid);
      } catch (err) {
        // An editor shows the DAP error's sentence; the command line says it as ps, top and trace
        // do, with the exit status ps gives the same finding (docs/ps.md).
        if (err instanceof UserError && err.code === ErrorCode.AttachNoSuchProcess) throw new CliError(`no process ${pid}`, EXIT.noProcess, 'no-such-process');
        const found = err instanceof UserError ? TARGET_STATUS[err.code] : undefined;
        if (found) throw new CliError((err as UserError).message, found[0], found[1]);
        throw err;
      }
      // 3.11-3.13 attach through gdb: a missing or unusable one is said now, not in the client.
      const { gdbRefusal } = await import('../inject/attachPid.js');
      const refusal = await gdbRefusal(target);
      if (refusal) throw new CliError(refusal.message, EXIT.failed, refusal.code === ErrorCode.AttachGdbUnusable ? 'gdb-unusable' : 'gdb-missing');
      const { runDap } = await import('./dapServe.js');
      await runDap({ port: options.port, log: options.log }, {
        pid,
        announce: (port) => {
          if (options.json) process.stdout.write(`${JSON.stringify({ schema: 1, pid, port, host: '127.0.0.1' })}\n`);
          else process.stdout.write(`tasklens attach: process ${pid} (Python 3.${target.minor}): DAP on 127.0.0.1:${port}\n`);
        },
      });
    });
}
