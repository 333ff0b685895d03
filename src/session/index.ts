// A DAP session over one connection: every request family registers its handlers here.
import type { DapConnection } from '../dap/connection';
import type { LogSink } from '../dap/log';
import { registerBreakpoints } from './breakpoints';
import { registerEvaluate } from './evaluate';
import { registerLifecycle } from './lifecycle';
import { Session } from './session';
import { registerSources } from './sources';
import { registerStack } from './stack';
import { registerStepping } from './stepping';
import { registerThreads } from './threads';
import { registerVariables } from './variables';

export function startSession(conn: DapConnection, log: LogSink, shutdown: () => void): Session {
  const session = new Session(conn, log, shutdown);
  registerLifecycle(session);
  registerBreakpoints(session);
  registerStepping(session);
  registerThreads(session);
  registerStack(session);
  registerVariables(session);
  registerEvaluate(session);
  registerSources(session);
  return session;
}
