// A DebugClient on a real `tasklens dap` process, with every event recorded from the start so
// a test can wait for "the next X after this point" without racing the adapter.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Python } from './pythons';
import { MAIN_JS } from './paths';

export const EVENT_TIMEOUT_MS = 15_000;

export type Stopped = DebugProtocol.StoppedEvent & { body: { threadId: number } };

/** `env`: the adapter's environment (e.g. a PATH with chosen interpreters); default ours. */
export interface HarnessOptions {
  tcp?: boolean;
  /** Another build's dist/src/cli/main.js (benchmarks compare builds); default this one's. */
  mainJs?: string;
  log?: string;
  env?: NodeJS.ProcessEnv;
}

type Waiter = { name: string; since: number; resolve: (e: DebugProtocol.Event) => void };

export class Harness {
  readonly history: DebugProtocol.Event[] = [];
  private waiters: Waiter[] = [];
  private stderr = '';
  private closing = false;

  private constructor(
    readonly dc: DebugClient,
    /** The adapter process, or none: a session served by another adapter's process (`served`). */
    private readonly process: ChildProcess | undefined,
  ) {
    const emit = dc.emit.bind(dc);
    dc.emit = (name: string | symbol, ...args: unknown[]) => {
      const event = args[0] as DebugProtocol.Event | undefined;
      if (event?.type === 'event') this.record(event);
      return emit(name, ...args);
    };
    process?.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    // A request written after the adapter exited fails below, by the exit; not by a crash.
    process?.stdin?.on('error', () => undefined);
    // A dead adapter answers nothing: fail whatever waits on it, with its last words.
    process?.once('exit', (code, signal) => this.failPending(`the adapter exited (${signal ?? code}): ${this.stderr.trim() || 'no stderr'}`));
  }

  private failPending(message: string): void {
    if (this.closing) return;
    const pending = (this.dc as unknown as { pendingRequests: Map<number, (r: object) => void> }).pendingRequests;
    for (const [seq, callback] of pending) {
      pending.delete(seq);
      callback({ success: false, message });
    }
  }

  /** Starts `node dist/src/cli/main.js dap` on stdio, or with `--port 0` over TCP. */
  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const log = options.log ?? logFileFromEnv();
    const argv = [options.mainJs ?? MAIN_JS, 'dap', ...(options.tcp ? ['--port', '0'] : []), ...(log ? ['--log', log] : [])];
    const adapter = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const dc = new DebugClient(process.execPath, MAIN_JS, 'tasklens');
    dc.defaultTimeout = EVENT_TIMEOUT_MS;
    const harness = new Harness(dc, adapter);
    if (options.tcp) {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        adapter.stderr?.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
          if (match) resolve(Number(match[1]));
        });
        adapter.once('exit', () => reject(new Error(`adapter exited before listening: ${text}`)));
      });
      await dc.start(port);
    } else {
      // DebugClient would spawn the adapter without the `dap` sub-command; we own the process.
      (dc as unknown as { connect(r: NodeJS.ReadableStream, w: NodeJS.WritableStream): void }).connect(adapter.stdout!, adapter.stdin!);
    }
    return harness;
  }

  /** A session of an adapter that serves it in its own process, on loopback `port` (a child's `debugServer`). */
  static async served(port: number): Promise<Harness> {
    const dc = new DebugClient(process.execPath, MAIN_JS, 'tasklens');
    dc.defaultTimeout = EVENT_TIMEOUT_MS;
    const harness = new Harness(dc, undefined);
    await dc.start(port);
    // The adapter closes a served session's connection when the session ends (a child that
    // was gone before its session attached): a request after that fails, it must not crash.
    const socket = (dc as unknown as { _socket: Socket })._socket;
    socket.on('error', () => undefined);
    socket.once('close', () => harness.failPending('the adapter closed the connection of this session'));
    return harness;
  }

  get adapter(): ChildProcess {
    if (!this.process) throw new Error('this session is served by another adapter\'s process');
    return this.process;
  }

  mark(): number {
    return this.history.length;
  }

  /** The first `name` event recorded at or after `since` (default: from now on). */
  waitFor<E extends DebugProtocol.Event = DebugProtocol.Event>(name: string, since = this.mark(), ms = EVENT_TIMEOUT_MS): Promise<E> {
    const seen = this.history.slice(since).find((e) => e.event === name);
    if (seen) return Promise.resolve(seen as E);
    return new Promise<E>((resolve, reject) => {
      const waiter: Waiter = { name, since, resolve: (e) => resolve(e as E) };
      this.waiters.push(waiter);
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no "${name}" event within ${ms} ms; events so far: ${this.summary()}`));
      }, ms);
      waiter.resolve = (e) => {
        clearTimeout(timer);
        resolve(e as E);
      };
    });
  }

  async waitStopped(since = this.mark(), ms = EVENT_TIMEOUT_MS): Promise<Stopped> {
    const stop = await this.waitFor<DebugProtocol.StoppedEvent>('stopped', since, ms);
    if (typeof stop.body.threadId !== 'number') throw new Error(`stopped event without threadId: ${JSON.stringify(stop.body)}`);
    return stop as Stopped;
  }

  /** Everything the program wrote to one stream, in order. */
  output(category: string, since = 0): string {
    return this.history
      .slice(since)
      .filter((e): e is DebugProtocol.OutputEvent => e.event === 'output' && (e as DebugProtocol.OutputEvent).body.category === category)
      .map((e) => e.body.output)
      .join('');
  }

  async waitForOutput(category: string, pattern: RegExp, ms = EVENT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const text = this.output(category);
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${category} output matching ${pattern} within ${ms} ms; got ${JSON.stringify(this.output(category).slice(-500))}`);
  }

  /** initialize → launch → initialized → (configure) → configurationDone. */
  async launch(py: Python, args: Record<string, unknown>, configure?: () => Promise<void>): Promise<void> {
    const since = this.mark();
    const init = await this.dc.initializeRequest();
    if (!init.body?.supportsConfigurationDoneRequest) throw new Error('adapter must support configurationDone');
    await this.dc.launchRequest({ python: py.path, ...args } as DebugProtocol.LaunchRequestArguments);
    await this.waitFor('initialized', since);
    if (configure) await configure();
    await this.dc.configurationDoneRequest();
  }

  /** Launches with line breakpoints and waits for the first stop. */
  async launchToStop(py: Python, program: string, lines: number[], extra: Record<string, unknown> = {}): Promise<Stopped> {
    const since = this.mark();
    await this.launch(py, { program, ...extra }, async () => {
      await this.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: lines.map((line) => ({ line })) });
    });
    return this.waitStopped(since);
  }

  async topFrame(threadId: number): Promise<DebugProtocol.StackFrame> {
    const trace = await this.dc.stackTraceRequest({ threadId, startFrame: 0, levels: 1 });
    return trace.body.stackFrames[0];
  }

  /** The named variables of a frame's Locals scope, as name → variable. */
  async locals(frameId: number): Promise<Map<string, DebugProtocol.Variable>> {
    const scopes = await this.dc.scopesRequest({ frameId });
    const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
    if (!locals) throw new Error(`no Locals scope: ${JSON.stringify(scopes.body.scopes)}`);
    const vars = await this.dc.variablesRequest({ variablesReference: locals.variablesReference });
    return new Map(vars.body.variables.map((v) => [v.name, v]));
  }

  /** Waits for `exited` then `terminated` from `since`, and returns the exit code. */
  async exitCode(since: number, ms = EVENT_TIMEOUT_MS): Promise<number> {
    const exited = await this.waitFor<DebugProtocol.ExitedEvent>('exited', since, ms);
    await this.waitFor('terminated', since, ms);
    const exitedAt = this.history.indexOf(exited);
    const terminatedAt = this.history.findIndex((e, i) => i >= since && e.event === 'terminated');
    if (terminatedAt < exitedAt) throw new Error('terminated came before exited');
    return exited.body.exitCode;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.process) {
      await Promise.race([this.dc.disconnectRequest({}).catch(() => undefined), new Promise((r) => setTimeout(r, 4000))]);
      (this.dc as unknown as { stopAdapter(): void }).stopAdapter();
      return;
    }
    if (this.adapter.exitCode === null && this.adapter.signalCode === null) {
      await Promise.race([this.dc.disconnectRequest({}).catch(() => undefined), new Promise((r) => setTimeout(r, 4000))]);
    }
    const gone = new Promise((r) => (this.adapter.exitCode !== null || this.adapter.signalCode !== null ? r(undefined) : this.adapter.once('exit', r)));
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    this.adapter.kill('SIGKILL');
  }

  private record(event: DebugProtocol.Event): void {
    this.history.push(event);
    const index = this.history.length - 1;
    for (const waiter of [...this.waiters]) {
      if (waiter.name === event.event && index >= waiter.since) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(event);
      }
    }
  }

  /** The last events, for a failure's message. */
  summary(): string {
    return this.history.map((e) => (e.event === 'output' ? `output(${JSON.stringify((e as DebugProtocol.OutputEvent).body.output.slice(0, 80))})`
      : e.event === 'stopped' ? `stopped(${JSON.stringify(e.body).slice(0, 200)})` : e.event)).slice(-20).join(', ');
  }
}

/** Runs `body` with a fresh adapter and always cleans up. */
export async function withAdapter(body: (h: Harness) => Promise<void>, options: HarnessOptions = {}): Promise<void> {
  const h = await Harness.start(options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Those of `pids` still alive once all are gone or `ms` has passed. */
export async function survivorsOf(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  return pids.filter(isAlive);
}

let logs = 0;
/** TASKLENS_TEST_LOGS=DIR: every adapter a test starts logs to a file of its own there (and its
 * agents beside it), to read after a failure that does not come back when run alone. */
function logFileFromEnv(): string | undefined {
  const dir = process.env.TASKLENS_TEST_LOGS;
  return dir ? `${dir}/adapter-${process.pid}-${++logs}.log` : undefined;
}
