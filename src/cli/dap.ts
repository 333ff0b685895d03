// `tasklens dap`: a Debug Adapter Protocol server for one session, on stdio or loopback TCP.
import { Command, InvalidArgumentError } from 'commander';
import { DapConnection } from '../dap/connection';
import { fileLog, noLog, type Log } from '../dap/log';
import { acceptOneTcpClient, stdioTransport, type Transport } from '../dap/transport';
import { startSession } from '../session';

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
    .description('Serve the Debug Adapter Protocol for one debug session (stdin/stdout by default)')
    .option('--port <N>', 'serve one client on 127.0.0.1:N instead of stdio (0 picks a free port, printed on stderr)', parsePort)
    .option('--log <FILE>', 'append every DAP and agent message, with timestamps, to FILE')
    .addHelpText(
      'after',
      '\nEditors start this command as their debug adapter. Launch arguments: program | module, args, cwd,\n' +
        'env, python (default python3), stopOnEntry, justMyCode (default true). Attach arguments:\n' +
        'connect: {host, port[, token]} for a program started with `tasklens run --listen HOST:PORT`.',
    )
    .action(async (options: DapOptions) => {
      const log = options.log ? fileLog(options.log) : noLog;
      const transport: Transport =
        options.port === undefined
          ? stdioTransport()
          : await acceptOneTcpClient(options.port, (port) => process.stderr.write(`tasklens dap: listening on 127.0.0.1:${port}\n`));
      serve(transport, log);
    });
}

function serve(transport: Transport, log: Log): void {
  const conn = new DapConnection(transport.input, transport.output, (direction, message) => log.sink('dap', direction, message));
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    Promise.allSettled([transport.flush(), log.close()]).finally(() => process.exit(0));
    // The debuggee is in its own process group and outlives us; its agent sees the socket close.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  const session = startSession(conn, log.sink, end);
  conn.onClose(() => {
    session.debuggee?.client.destroy();
    end();
  });
}
