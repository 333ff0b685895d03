// `tasklens dap`: a Debug Adapter Protocol server for one session, on stdio or loopback TCP.
import { Command, InvalidArgumentError } from 'commander';

interface DapOptions {
  port?: number;
  log?: string;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('not a TCP port number');
  return port;
}

export function register(program: Command): void {
  program
    .command('dap')
    .description('serve the Debug Adapter Protocol for one debug session (stdin/stdout by default)')
    .option('--port <N>', 'serve one client on 127.0.0.1:N instead of stdio (0 picks a free port, printed on stderr)', parsePort)
    .option('--log <FILE>', 'append every DAP and agent message, with timestamps, to FILE; a launched program\'s agent logs to FILE.agent')
    .addHelpText(
      'after',
      '\nEditors start this command as their debug adapter. Launch arguments: program | module, args, cwd,\n' +
        'env, python (default: python3 when it is 3.11+, else the newest python3.N on PATH), stopOnEntry,\n' +
        'justMyCode (default true), maxTaskThreads (default 1000), evaluateTimeout (seconds, default 2),\n' +
        'awaitTimeout (seconds an `await` typed in the console may wait, default 5),\n' +
        'subProcess (default true: Python child processes in sessions of their own, docs/children.md).\n' +
        'Attach arguments: processId (a running CPython 3.11+ process; docs/attach.md), or\n' +
        'connect: {host, port[, token]} for a program started with `tasklens run --listen HOST:PORT`;\n' +
        'justMyCode, maxTaskThreads, evaluateTimeout, awaitTimeout, subProcess.',
    )
    .action(async (options: DapOptions) => {
      // Loaded on use: the other sub-commands start without the adapter's modules.
      const { runDap } = await import('./dapServe.js');
      await runDap(options);
    });
}
