// Child processes of a debugged program, each in a debug session of its own (DAP startDebugging).
//
// Who runs where: when the client can open sessions, this adapter listens on a loopback port
// (one per session, with its own random token) and tells the agent (`configure` `subProcess`);
// the agent hands both to every Python child it starts (agent/tasklens_agent/children.py).
// A child's agent listens itself, with a fresh token, connects here, and sends one line:
// {token, pid, ppid, port, agentToken, name}. We answer with this session's line breakpoints
// and exception filters (the client's, which it sends every session), and the child runs at
// once with them; then we ask the client to start a session that attaches to
// 127.0.0.1:port with agentToken: the client starts another adapter (this code, in another
// process) that attaches to the child as to any `tasklens run --listen` program. A stop in the
// child before that session's `start` waits for it, and so does the child's exit: no child
// comes and goes unseen.
// The connection stays open while the child lives and this session does: closing it (this
// session ended) tells the child that its parent session is over; `{"undebugged": true}` tells
// it that the client could not open a session, so it runs on at once, undebugged.
// All of this runs on Node's one event loop, as the rest of the session.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import { listenOnLoopback } from '../agent/loopback';
import { debugServerFor } from './childServer';
import type { AttachConfig } from './launchArgs';
import type { Session } from './session';

/** What `configure` passes the agent: where children say hello. */
export interface SubProcessSpec {
  host: string;
  port: number;
  token: string;
  /** Children end with this session (its program was launched), or run on (attached). */
  launched: boolean;
}

/** The attach arguments a child session inherits from its parent's. */
export type ChildDefaults = Pick<AttachConfig, 'justMyCode' | 'maxTaskThreads' | 'evaluateTimeout' | 'awaitTimeout' | 'diagnose' | 'slowMs' | 'stuckS'>;

interface Hello {
  token: string;
  pid: number;
  ppid: number;
  port: number;
  agentToken: string;
  name: string;
}

const START_DEBUGGING_MS = 20_000;
/** A hello is one short line; anything longer is not one of our children. */
const HELLO_LIMIT = 16_384;
const HELLO_MS = 10_000;

const registries = new WeakMap<Session, Registry>();

/**
 * The `subProcess` part of `configure`, or undefined when children are not wanted. A client
 * that cannot open sessions still hears of them: the first child that starts is told to run
 * undebugged, and the console says so once (not at every launch, most programs start none).
 */
export async function followChildren(session: Session, wanted: boolean, clientOpensSessions: boolean, defaults: ChildDefaults, launched: boolean): Promise<SubProcessSpec | undefined> {
  if (!wanted) return undefined;
  let registry = registries.get(session);
  if (!registry) {
    registry = await Registry.open(session);
    registries.set(session, registry);
  }
  const { justMyCode, maxTaskThreads, evaluateTimeout, awaitTimeout, diagnose, slowMs, stuckS } = defaults;
  registry.defaults = { justMyCode, maxTaskThreads, evaluateTimeout, awaitTimeout, diagnose, slowMs, stuckS };
  registry.launched = launched;
  registry.opensSessions = clientOpensSessions;
  return { host: '127.0.0.1', port: registry.port, token: registry.token, launched };
}

/** The session is over: every child hears it (see the top of this file). */
export function endChildren(session: Session): void {
  registries.get(session)?.close();
  registries.delete(session);
}

class Registry {
  readonly token = randomBytes(24).toString('hex');
  defaults?: ChildDefaults;
  launched = false;
  opensSessions = true;
  private saidUndebugged = false;
  private readonly children = new Set<net.Socket>();

  private constructor(
    private readonly session: Session,
    private readonly server: net.Server,
    readonly port: number,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  static async open(session: Session): Promise<Registry> {
    const { server, port } = await listenOnLoopback();
    server.unref();
    return new Registry(session, server, port);
  }

  close(): void {
    this.server.close();
    for (const socket of this.children) socket.destroy();
    this.children.clear();
  }

  private accept(socket: net.Socket): void {
    this.children.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.children.delete(socket));
    socket.setTimeout(HELLO_MS, () => socket.destroy());
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end < 0) {
        if (text.length > HELLO_LIMIT) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.setTimeout(0);
      const hello = this.check(text.slice(0, end));
      if (hello === undefined) {
        socket.destroy();
        return;
      }
      if (!this.opensSessions) {
        socket.write('{"breakpoints": [], "filters": []}\n{"undebugged": true}\n');
        if (!this.saidUndebugged) {
          this.saidUndebugged = true;
          this.session.output('console', 'tasklens: this client cannot open debug sessions for child processes (no startDebugging); they run undebugged.\n');
        }
        return;
      }
      // The child starts at once with the client's breakpoints as this session has them; its
      // own session replaces them when the client sends them there.
      const table = this.session.breakpoints;
      socket.write(`${JSON.stringify({ breakpoints: table.lineBreakpoints(), filters: table.exceptionFilters })}\n`);
      void this.openSession(socket, hello);
    };
    socket.on('data', onData);
  }

  private check(line: string): Hello | undefined {
    let hello: Partial<Hello>;
    try {
      hello = JSON.parse(line) as Partial<Hello>;
    } catch {
      return undefined;
    }
    const mine = Buffer.from(this.token);
    const theirs = Buffer.from(typeof hello.token === 'string' ? hello.token : '');
    if (theirs.length !== mine.length || !timingSafeEqual(theirs, mine)) {
      this.session.log('session', 'note', 'a child process registration with a wrong token was refused');
      return undefined;
    }
    if (!Number.isInteger(hello.pid) || !Number.isInteger(hello.port) || typeof hello.agentToken !== 'string') return undefined;
    return { ...hello, name: typeof hello.name === 'string' ? hello.name : 'python' } as Hello;
  }

  private async openSession(socket: net.Socket, hello: Hello): Promise<void> {
    // Served by this process where the client connects to `debugServer` (childServer.ts).
    const debugServer = await debugServerFor(hello.port, hello.agentToken);
    const configuration = {
      type: 'tasklens',
      request: 'attach',
      name: `${hello.name} (pid ${hello.pid})`,
      connect: { host: '127.0.0.1', port: hello.port, token: hello.agentToken },
      ...this.defaults,
      subProcess: true,
      parentSession: { pid: hello.ppid, launched: this.launched },
      ...(debugServer === undefined ? {} : { debugServer }),
    };
    try {
      await this.session.conn.request('startDebugging', { request: 'attach', configuration }, START_DEBUGGING_MS);
    } catch (err) {
      if (socket.destroyed) return;
      socket.write('{"undebugged": true}\n');
      this.session.output('console', `tasklens: no debug session for child process ${hello.pid} (${err instanceof Error ? err.message : String(err)}); it runs undebugged.\n`);
    }
  }
}
