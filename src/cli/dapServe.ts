// The body of `tasklens dap`, kept apart so that other sub-commands start without loading the
// adapter.
import * as fs from 'node:fs';
import { DapConnection } from '../dap/connection';
import { fileLog, noLog, type Log } from '../dap/log';
import { acceptOneTcpClient, stdioTransport, type Transport } from '../dap/transport';
import { signalGroup } from '../agent/launcher';
import { startSession } from '../session';
import { childSessionsEnded, serveChildSessionsWith } from '../session/childServer';
import type { Session } from '../session/session';
import { CliError, EXIT, saveTrace } from './failure';

/** How long the adapter's end waits for the child sessions it serves to end with it. */
const CHILD_SESSIONS_MS = 1500;

/** `pinned`: `tasklens attach PID`, which serves that process only and announces its port itself. */
export async function runDap(options: { port?: number; log?: string }, pinned?: { pid: number; announce: (port: number) => void }): Promise<void> {
  if (options.log) {
    // Checked before any client connects: a log that cannot be written is a usage error.
    try {
      fs.closeSync(fs.openSync(options.log, 'a'));
    } catch (err) {
      throw new CliError(`cannot write the log file ${options.log}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
    }
  }
  const log = options.log ? fileLog(options.log) : noLog;
  const transport: Transport =
    options.port === undefined
      ? stdioTransport()
      : await acceptOneTcpClient(options.port, pinned?.announce ?? ((port) => process.stderr.write(`tasklens dap: listening on 127.0.0.1:${port}\n`)));
  // The sessions this adapter opens for child processes are served here too (childServer.ts).
  serveChildSessionsWith((served, done) => serve(served, log, done));
  serve(transport, log, () => {
    void childSessionsEnded(CHILD_SESSIONS_MS).then(() => Promise.allSettled([transport.flush(), log.close()])).finally(() => process.exit(0));
    // The debuggee is in its own process group and outlives us; its agent sees the socket close.
    setTimeout(() => process.exit(0), CHILD_SESSIONS_MS + 500).unref();
  }).pinnedProcessId = pinned?.pid;
}

/** `finish` runs once, when the session is over (the adapter's own, or a child's served here). */
function serve(transport: Transport, log: Log, finish: () => void): Session {
  const conn = new DapConnection(transport.input, transport.output, (direction, message) => log.sink('dap', direction, message),
    (err) => {
      log.sink('dap', 'note', { internalError: err instanceof Error ? err.stack : String(err) });
      return saveTrace(err);
    });
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    finish();
  };
  const session = startSession(conn, log.sink, end);
  conn.onClose(() => {
    // The client is gone: its launched program ends (the agent sees its connection close), and
    // so does what that program started in its process group, before this adapter may exit.
    const launched = session.debuggee?.process;
    session.debuggee?.client.destroy();
    if (launched) signalGroup(launched, 'SIGTERM');
    end();
  });
  return session;
}
