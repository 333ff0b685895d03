// Plays an editor that opens a debug session for every child process (DAP startDebugging):
// each request gets a DebugClient, connected to the configuration's `debugServer` as VS Code
// does (or to a fresh adapter process, as a client that ignores it), that attaches with the
// configuration the request carries, is configured like the parent (the editor's breakpoints and exception
// filters), and serves its own children the same way. Every process of the tree is killed by
// process group when the tree closes.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EVENT_TIMEOUT_MS, Harness, isAlive, sleep, type HarnessOptions } from './harness';
import type { Python } from './pythons';

export interface ChildSession {
  h: Harness;
  name: string;
  configuration: Record<string, unknown>;
  /** The child's PID, from its `process` event. */
  pid: number;
}

type Wire = { dispatch(body: string): void; outputStream: NodeJS.WritableStream; sequence: number };

/** initialize as an editor that opens child sessions does. */
export const INITIALIZE_WITH_CHILDREN: DebugProtocol.InitializeRequestArguments = {
  adapterID: 'tasklens', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsStartDebuggingRequest: true,
};

export class SessionTree {
  readonly children: ChildSession[] = [];
  /** startDebugging requests seen, answered or not. */
  readonly requests: DebugProtocol.StartDebuggingRequestArguments[] = [];
  private readonly harnesses: Harness[] = [];
  private readonly pids = new Set<number>();
  private waiters: Array<() => void> = [];

  /**
   * `configure`: what the editor sends every session before configurationDone.
   * `newAdapters`: start an adapter process for every child session, as a client that ignores a
   * configuration's `debugServer` does; by default the tree connects there, as VS Code does.
   * `adapter`: how new adapter processes are started.
   */
  constructor(
    private readonly configure: (h: Harness) => Promise<void>,
    private readonly newAdapters = false,
    private readonly adapter: HarnessOptions = {},
  ) {}

  /** Launches `args` in `h` as such an editor; the root is served like every child. */
  async launch(h: Harness, py: Python, args: Record<string, unknown>): Promise<number> {
    return this.start(h, () => h.dc.launchRequest({ python: py.path, ...args } as DebugProtocol.LaunchRequestArguments));
  }

  /** Attaches `h` with `args` as such an editor. */
  async attach(h: Harness, args: Record<string, unknown>): Promise<number> {
    return this.start(h, () => h.dc.attachRequest(args as DebugProtocol.AttachRequestArguments));
  }

  private async start(h: Harness, request: () => Promise<unknown>): Promise<number> {
    this.serve(h);
    const since = h.mark();
    await h.dc.initializeRequest(INITIALIZE_WITH_CHILDREN);
    await request();
    await h.waitFor('initialized', since);
    await this.configure(h);
    await h.dc.configurationDoneRequest();
    const process = await h.waitFor<DebugProtocol.ProcessEvent>('process', since);
    this.pids.add(process.body.systemProcessId!);
    return process.body.systemProcessId!;
  }

  /** The first child session (in order of opening) whose name matches, once it is there. */
  async session(pattern: RegExp, ms = EVENT_TIMEOUT_MS): Promise<ChildSession> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.children.find((c) => pattern.test(c.name));
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no child session named like ${pattern} within ${ms} ms; sessions: ${JSON.stringify(this.children.map((c) => c.name))}, requests: ${this.requests.length}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** Every child session and what it saw, for a failure's message: which session hangs. */
  state(): string {
    const sessions = this.children.map((c) => `${c.name}: ${c.h.summary()}`);
    const opened = new Set(this.children.map((c) => c.name));
    const pending = this.requests.map((r) => String(r.configuration.name)).filter((n) => !opened.has(n));
    return `startDebugging asked for ${this.requests.length}, not (yet) opened: ${JSON.stringify(pending)}; sessions:\n${sessions.join('\n')}`;
  }

  /** The root session's exit code, the tree's state in the error if it does not come. */
  async exitCode(h: Harness, since: number, ms: number): Promise<number> {
    try {
      return await h.exitCode(since, ms);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.state()}`);
    }
  }

  /** Kills every process of the tree by group (then by PID), and closes every adapter. */
  async close(): Promise<void> {
    for (const pid of this.pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
    }
    await Promise.all(this.harnesses.map((h) => h.close()));
  }

  /** PIDs of the tree still alive after a grace period. */
  async survivors(ms = 5000): Promise<number[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const alive = [...this.pids].filter(isAlive);
      if (alive.length === 0 || Date.now() > deadline) return alive;
      await sleep(100);
    }
  }

  private serve(h: Harness): void {
    const wire = h.dc as unknown as Wire;
    const dispatch = wire.dispatch.bind(wire);
    wire.dispatch = (body: string) => {
      const message = JSON.parse(body) as DebugProtocol.ProtocolMessage;
      if (message.type !== 'request' || (message as DebugProtocol.Request).command !== 'startDebugging') return dispatch(body);
      const request = message as DebugProtocol.StartDebuggingRequest;
      this.requests.push(request.arguments);
      void this.open(request.arguments).then(
        () => this.answer(wire, request, true),
        (err: unknown) => this.answer(wire, request, false, err instanceof Error ? err.message : String(err)),
      );
    };
  }

  private async open(args: DebugProtocol.StartDebuggingRequestArguments): Promise<void> {
    const debugServer = args.configuration.debugServer;
    const h = typeof debugServer === 'number' && !this.newAdapters ? await Harness.served(debugServer) : await Harness.start(this.adapter);
    this.harnesses.push(h);
    this.serve(h);
    const since = h.mark();
    await h.dc.initializeRequest(INITIALIZE_WITH_CHILDREN);
    await h.dc.attachRequest(args.configuration as DebugProtocol.AttachRequestArguments);
    await h.waitFor('initialized', since);
    const process = await h.waitFor<DebugProtocol.ProcessEvent>('process', since);
    const pid = process.body.systemProcessId!;
    this.pids.add(pid);
    await this.configure(h);
    await h.dc.configurationDoneRequest();
    this.children.push({ h, name: String(args.configuration.name), configuration: args.configuration, pid });
    for (const wake of this.waiters.splice(0)) wake();
  }

  private answer(wire: Wire, request: DebugProtocol.StartDebuggingRequest, success: boolean, message?: string): void {
    const response = { seq: wire.sequence++, type: 'response', request_seq: request.seq, command: request.command, success, message };
    const json = JSON.stringify(response);
    wire.outputStream.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
  }
}

/** Runs `body` with a fresh adapter inside a tree; always kills the tree and closes it. */
export async function withTree(configure: (h: Harness) => Promise<void>, body: (h: Harness, tree: SessionTree) => Promise<void>): Promise<void> {
  const tree = new SessionTree(configure);
  const h = await Harness.start();
  try {
    await body(h, tree);
  } finally {
    await tree.close();
    await h.close();
  }
}
