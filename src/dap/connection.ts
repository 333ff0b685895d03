// One DAP connection: every request goes to exactly one async handler and gets exactly one
// response, whatever happens (unknown command, malformed input, handler exception). The
// adapter's own (reverse) requests, such as runInTerminal, get their responses matched here.
// The connection knows nothing of what the requests mean; see src/session/ for that.
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ErrorCode, UserError } from './errors';
import { FrameReader, writeFrame } from './framing';

export type Handler = (args: unknown, request: DebugProtocol.Request) => Promise<object | undefined>;

export type Traffic = (direction: 'in' | 'out', message: unknown) => void;

export class DapConnection {
  private readonly handlers = new Map<string, Handler>();
  private seq = 1;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly reverse = new Map<number, (response: DebugProtocol.Response) => void>();

  constructor(
    input: Readable,
    private readonly output: Writable,
    private readonly trace: Traffic = () => undefined,
    /** Keeps the stack of a handler's bug somewhere; returns where, for the error message. */
    private readonly keepTrace: (err: unknown) => string | undefined = () => undefined,
  ) {
    const reader = new FrameReader(input);
    reader.on('message', (text) => this.receive(text));
    reader.on('headerError', (problem) =>
      this.sendError(0, 'unknown', new UserError(ErrorCode.MalformedMessage, `Malformed DAP input: ${problem}.`)),
    );
    reader.on('end', () => this.close());
    output.on('error', () => this.close());
  }

  handle(command: string, handler: Handler): void {
    this.handlers.set(command, handler);
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True while the client has not taken what was sent: bulk senders wait for `drained`. */
  get congested(): boolean {
    return !this.closed && this.output.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        for (const event of ['drain', 'close', 'error']) this.output.off(event, done);
        resolve();
      };
      for (const event of ['drain', 'close', 'error']) this.output.once(event, done);
    });
  }

  sendEvent(event: string, body?: object): void {
    const message: DebugProtocol.Event = { seq: this.seq++, type: 'event', event, body };
    this.send(message);
  }

  /** A reverse request to the client; rejects on failure, timeout or a closed connection. */
  request(command: string, args: object, timeoutMs: number): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the client is gone'));
      const timer = setTimeout(() => {
        this.reverse.delete(seq);
        reject(new Error(`the client did not answer ${command} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.reverse.set(seq, (response) => {
        clearTimeout(timer);
        if (response.success) resolve(response);
        else reject(new Error(response.message || `${command} failed`));
      });
      this.send({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  private send(message: DebugProtocol.ProtocolMessage): void {
    if (this.closed) return;
    this.trace('out', message);
    writeFrame(this.output, message);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const answer of this.reverse.values()) answer({ success: false, message: 'the client is gone' } as DebugProtocol.Response);
    this.reverse.clear();
    for (const listener of this.closeListeners) listener();
  }

  private receive(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.trace('in', text);
      this.sendError(0, 'unknown', new UserError(ErrorCode.MalformedMessage, 'Malformed DAP input: the message is not valid JSON.'));
      return;
    }
    this.trace('in', parsed);
    const message = parsed as Partial<DebugProtocol.Request> | null;
    const seq = typeof message?.seq === 'number' ? message.seq : 0;
    const command = typeof message?.command === 'string' ? message.command : undefined;
    if (message === null || typeof message !== 'object' || typeof message.seq !== 'number' || command === undefined) {
      const missing = typeof message?.seq !== 'number' ? '"seq"' : '"command"';
      this.sendError(seq, command ?? 'unknown', new UserError(ErrorCode.MalformedMessage, `Malformed DAP request: missing or invalid ${missing}.`));
      return;
    }
    if (message.type === 'response') {
      const answer = this.reverse.get((message as Partial<DebugProtocol.Response>).request_seq ?? -1);
      if (answer) {
        this.reverse.delete((message as DebugProtocol.Response).request_seq);
        answer(message as DebugProtocol.Response);
        return;
      }
    }
    if (message.type !== 'request') {
      this.sendError(seq, command, new UserError(ErrorCode.MalformedMessage, `Malformed DAP input: expected a request, got type ${JSON.stringify(message.type)}.`));
      return;
    }
    const handler = this.handlers.get(command);
    if (!handler) {
      this.sendError(seq, command, new UserError(ErrorCode.UnknownCommand, `Unsupported request "${command}".`));
      return;
    }
    const request = message as DebugProtocol.Request;
    let pending: Promise<object | undefined>;
    try {
      pending = handler(request.arguments ?? {}, request);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (body) => this.sendSuccess(seq, command, body),
      (err: unknown) => this.sendError(seq, command, err),
    );
  }

  private sendSuccess(requestSeq: number, command: string, body: object | undefined): void {
    const response: DebugProtocol.Response = {
      seq: this.seq++,
      type: 'response',
      request_seq: requestSeq,
      command,
      success: true,
      body,
    };
    this.send(response);
  }

  private sendError(requestSeq: number, command: string, err: unknown): void {
    let user: UserError;
    if (err instanceof UserError) {
      user = err;
    } else {
      const where = this.keepTrace(err);
      user = new UserError(ErrorCode.Internal, `Internal error in "${command}": ${err instanceof Error ? err.message : String(err)}` +
        (where ? ` (a bug: the full trace is in ${where}; please report it with that file)` : ''));
    }
    const response: DebugProtocol.ErrorResponse = {
      seq: this.seq++,
      type: 'response',
      request_seq: requestSeq,
      command,
      success: false,
      message: user.message,
      body: { error: { id: user.code, format: user.message, showUser: user.showUser } },
    };
    this.send(response);
  }
}
