// Greeting an agent: wait for its `hello`, check the protocol, send `handshake`. Launch accepts
// the agent's own connection; attach and `ps` connect to an agent that listens. All of them greet
// it here. A failure is an AgentConnectError whose `stage` says which step failed, so that each
// caller words it for its own user (a DAP error for attach, a note before a memory read for `ps`).
import * as net from 'node:net';
import type { LogSink } from '../dap/log';
import { AgentClient } from './client';
import { PROTOCOL_VERSION, type HelloBody } from './protocol';

/** connect → greeting (`closed` before it, `timeout`) → `pid` and `protocol` checks → `handshake`. */
export type ConnectStage = 'connect' | 'closed' | 'timeout' | 'pid' | 'protocol' | 'handshake';

export class AgentConnectError extends Error {
  constructor(
    readonly stage: ConnectStage,
    message: string,
    /** The system's error code when connecting failed (e.g. ECONNREFUSED). */
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'AgentConnectError';
  }
}

export interface Connected {
  client: AgentClient;
  hello: HelloBody;
}

export interface ConnectOptions {
  token: string;
  /** Bounds connecting and the greeting together. */
  greetMs: number;
  handshakeMs?: number;
  /** A read-only visit (`ps`): claims nothing, gets no events. */
  readOnly?: boolean;
  /** The process the agent must run in, when the caller knows it. */
  pid?: number;
}

/** The agent's `hello` on a fresh client. */
export function greeting(client: AgentClient): Promise<HelloBody> {
  return new Promise((resolve, reject) => {
    client.once('hello', resolve);
    client.once('close', () => reject(new AgentConnectError('closed', 'the agent closed the connection before greeting')));
  });
}

export function checkProtocol(hello: HelloBody): void {
  if (hello.protocol !== PROTOCOL_VERSION) {
    throw new AgentConnectError('protocol', `the agent speaks protocol ${hello.protocol}, this tasklens speaks ${PROTOCOL_VERSION}`);
  }
}

export async function handshake(client: AgentClient, token: string, options: { readOnly?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const args = { token, protocol: PROTOCOL_VERSION, ...(options.readOnly ? { readOnly: true } : {}) };
  try {
    await within(options.timeoutMs, client.request('handshake', args, options.timeoutMs));
  } catch (err) {
    throw new AgentConnectError('handshake', err instanceof Error ? err.message : String(err));
  }
}

/** Connects to an agent that listens on `host:port` and greets it; the client is ready for requests. */
export async function connectAgent(host: string, port: number, log: LogSink, options: ConnectOptions): Promise<Connected> {
  const socket = net.connect({ host, port });
  let failure: AgentConnectError | undefined;
  // Registered before the client's own listeners, which turn an error into a bare `close`.
  socket.once('error', (err: NodeJS.ErrnoException) => {
    failure = new AgentConnectError('connect', err.message, err.code);
  });
  const client = new AgentClient(socket, log);
  try {
    const hello = await within(options.greetMs, greeting(client).catch((err: unknown) => {
      throw failure ?? err;
    }));
    if (options.pid !== undefined && hello.pid !== options.pid) {
      throw new AgentConnectError('pid', `the agent at ${host}:${port} runs in process ${hello.pid}, not ${options.pid}`);
    }
    checkProtocol(hello);
    await handshake(client, options.token, { readOnly: options.readOnly, timeoutMs: options.handshakeMs });
    return { client, hello };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

function within<T>(ms: number | undefined, p: Promise<T>): Promise<T> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentConnectError('timeout', `no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
