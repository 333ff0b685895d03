// The sessions of child processes, served in this adapter's own process.
//
// Why: an editor opens a child's session (DAP startDebugging) by starting an adapter for it;
// started as a new process, that adapter costs a Node.js start (about as much CPU as a short
// Python child itself) per child, which a program with a pool of short-lived workers pays on
// every worker. The child's configuration carries `debugServer`, the port of a loopback server
// here: VS Code (with no adapter descriptor factory, as ours) connects to it instead of
// starting an adapter, as it does for any configuration with that attribute; a client that
// ignores it starts an adapter as before, and that adapter attaches as any other does.
// A connection here serves one session, which may only attach to a child this process announced
// (its agent's port and token): knowing the port gives nothing else, no launch, no other target.
// The process lives while its first (stdio) session does; when that one ends it gives the
// sessions served here a moment to end with it (see dapServe.ts).
import * as net from 'node:net';
import { ErrorCode, UserError } from '../dap/errors';
import type { Transport } from '../dap/transport';
import { listenOnLoopback } from '../agent/loopback';
import type { Session } from './session';

/** Makes a session over `transport`; `done` runs once when it is over. */
export type ServeSession = (transport: Transport, done: () => void) => Session;

let serveSession: ServeSession | undefined;
let listening: Promise<number | undefined> | undefined;
const served = new WeakSet<Session>();
const live = new Set<net.Socket>();
/** `port token` of the children's agents this process announced. */
const announced = new Set<string>();
const idle: Array<() => void> = [];

/** Called by `tasklens dap` at start: how to make a session (without it, no server). */
export function serveChildSessionsWith(serve: ServeSession): void {
  serveSession = serve;
}

/**
 * The server's port, opened at the first child; undefined when this process cannot serve
 * sessions. `agentPort`/`agentToken`: the child the session will attach to.
 */
export async function debugServerFor(agentPort: number, agentToken: string): Promise<number | undefined> {
  if (serveSession === undefined) return undefined;
  listening ??= open(serveSession).catch(() => undefined);
  const port = await listening;
  if (port !== undefined) announced.add(`${agentPort} ${agentToken}`);
  return port;
}

/** launch and attach of a served session: attach to an announced child only. */
export function checkServed(session: Session, request: 'launch' | 'attach', args: unknown): void {
  if (!served.has(session)) return;
  const connect = request === 'attach' && args !== null && typeof args === 'object' ? (args as Record<string, unknown>).connect : undefined;
  const c = (connect ?? {}) as Record<string, unknown>;
  const host = c.host ?? '127.0.0.1';
  if (!(host === '127.0.0.1' || host === 'localhost') || !announced.has(`${String(c.port)} ${String(c.token)}`)) {
    throw new UserError(ErrorCode.BadArguments, 'This connection serves the sessions of this adapter\'s child processes only.');
  }
}

/** Resolves when no served session is left, or after `ms`. */
export function childSessionsEnded(ms: number): Promise<void> {
  if (live.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    idle.push(resolve);
    setTimeout(resolve, ms).unref();
  });
}

async function open(serve: ServeSession): Promise<number> {
  const { server, port } = await listenOnLoopback();
  server.unref();
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    live.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      live.delete(socket);
      if (live.size === 0) for (const wake of idle.splice(0)) wake();
    });
    const session = serve({ input: socket, output: socket, flush: () => new Promise((done) => socket.end(() => done())) }, () => socket.end());
    served.add(session);
  });
  return port;
}
