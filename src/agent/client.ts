// NDJSON client for one agent socket. Runs on Node's loop like everything else in the adapter:
// requests never block, each one has a timeout, and a closed socket fails whatever is pending.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { ErrorCode, UserError } from '../dap/errors';
import type { LogSink } from '../dap/log';
import type {
  AgentCommand,
  AgentErrorCode,
  AgentEvents,
  AgentMessage,
  AgentRequest,
  AgentRequests,
  AgentResponse,
} from './protocol';

export const DEFAULT_TIMEOUT_MS = 10_000;

interface Pending {
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type ClientEvents = { [K in keyof AgentEvents]: [AgentEvents[K]] } & { close: [] };

const codeMap: Record<AgentErrorCode, ErrorCode> = {
  unknownCommand: ErrorCode.UnknownCommand,
  badArguments: ErrorCode.BadArguments,
  notStopped: ErrorCode.NotStopped,
  invalidHandle: ErrorCode.InvalidHandle,
  timeout: ErrorCode.AgentTimeout,
  evalError: ErrorCode.EvaluationFailed,
  internal: ErrorCode.AgentFailed,
};

export class AgentClient extends EventEmitter<ClientEvents> {
  private seq = 1;
  private readonly pending = new Map<number, Pending>();
  private partial = '';
  private readonly inbox: string[] = [];
  private draining = false;
  private socketGone = false;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly log: LogSink,
  ) {
    super();
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('close', () => this.closeAfterInbox());
    socket.on('error', () => this.closeAfterInbox());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request<C extends AgentCommand>(
    command: C,
    args: AgentRequests[C][0],
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<AgentRequests[C][1]> {
    if (this.closed) {
      return Promise.reject(new UserError(ErrorCode.AgentFailed, 'The debugged program is no longer connected.'));
    }
    const message: AgentRequest = { type: 'request', seq: this.seq++, command, arguments: args };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.seq);
        reject(new UserError(ErrorCode.AgentTimeout, `The debugged program did not answer "${command}" within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.pending.set(message.seq, { resolve: resolve as (body: unknown) => void, reject, timer });
      this.log('agent', 'out', message);
      this.socket.write(JSON.stringify(message) + '\n');
    });
  }

  close(): void {
    this.socket.end();
    // A peer that never reads must not keep the socket (and the adapter) alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Ends the writing side only (a half-close): the agent reads the end of the stream, and
   *  what it answers still comes (`trace --for` stopped early: the file written so far). */
  endWriting(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.partial += chunk;
    let newline: number;
    while ((newline = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, newline).trim();
      this.partial = this.partial.slice(newline + 1);
      if (line) this.inbox.push(line);
    }
    this.drain();
  }

  // One message per macrotask: whatever a response's awaiter does (e.g. send the DAP response
  // to `continue`) runs to completion before the next event (e.g. `stopped`) is handled.
  private drain(): void {
    if (this.draining) return;
    if (this.inbox.length === 0) {
      if (this.socketGone) this.onClose();
      return;
    }
    this.draining = true;
    setImmediate(() => {
      this.draining = false;
      const line = this.inbox.shift();
      if (line !== undefined) this.dispatch(line);
      this.drain();
    });
  }

  private dispatch(line: string): void {
    let message: AgentMessage;
    try {
      message = JSON.parse(line) as AgentMessage;
    } catch {
      this.log('agent', 'note', `unparsable line from the agent: ${line.slice(0, 200)}`);
      return;
    }
    this.log('agent', 'in', message);
    if (message.type === 'response') {
      this.settle(message);
    } else if (message.type === 'event') {
      // The event map is the protocol's; unknown events are ignored (forward compatibility).
      (this.emit as (name: string, body: unknown) => boolean)(message.event, message.body ?? {});
    }
  }

  private settle(response: AgentResponse): void {
    const pending = this.pending.get(response.request_seq);
    if (!pending) return;
    this.pending.delete(response.request_seq);
    clearTimeout(pending.timer);
    if (response.success) {
      pending.resolve(response.body ?? {});
    } else {
      if (response.traceback) this.log('agent', 'note', `the agent failed on "${response.command}":\n${response.traceback}`);
      const code = response.error ? codeMap[response.error] ?? ErrorCode.AgentFailed : ErrorCode.AgentFailed;
      pending.reject(new UserError(code, response.message ?? `The agent could not do "${response.command}".`));
    }
  }

  private closeAfterInbox(): void {
    this.socketGone = true;
    this.drain();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new UserError(ErrorCode.AgentFailed, 'The debugged program disconnected.'));
    }
    this.pending.clear();
    this.emit('close');
  }
}
