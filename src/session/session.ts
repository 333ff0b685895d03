// The state of one debug session and the rules every handler shares.
//
// Concurrency: all of this runs on Node's single event loop. Three sources feed it: DAP
// requests (src/dap/connection.ts), agent messages (src/agent/client.ts, one message per
// macrotask so that a response's handler finishes before the next event is seen), and the
// child process (exit, stdout/stderr). No state here needs a lock; no call here may block.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { AgentClient } from '../agent/client';
import type { Debuggee, ExitInfo } from '../agent/launcher';
import { ErrorCode, UserError } from '../dap/errors';
import type { DapConnection } from '../dap/connection';
import type { LogSink } from '../dap/log';
import { BreakpointTable } from './breakpointTable';
import { GATES, refusal, TRANSITIONS, type RunState } from './gating';
import type { AttachConfig, LaunchConfig } from './launchArgs';

export class Session {
  private runState: RunState = 'idle';
  kind?: 'launch' | 'attach';
  launchConfig?: LaunchConfig;
  attachConfig?: AttachConfig;
  /** Set by `tasklens attach PID`: the one process this adapter attaches to. */
  pinnedProcessId?: number;
  debuggee?: Debuggee;
  configurationDone = false;
  linesStartAt1 = true;
  columnsStartAt1 = true;
  /** The client refreshes its views on an `invalidated` event (initialize's supportsInvalidatedEvent). */
  clientInvalidates = false;
  readonly breakpoints: BreakpointTable;
  /** Set while disconnecting or restarting: the old program's end is not news to the client. */
  quiet = false;
  /** Set by terminate: the signal that ends the program was the user's wish, not news. */
  terminating = false;
  /** Bumped on every stop and resume, so a failed resume does not undo a newer state. */
  private epoch = 0;

  constructor(
    readonly conn: DapConnection,
    readonly log: LogSink,
    readonly shutdown: () => void,
  ) {
    this.breakpoints = new BreakpointTable(this);
  }

  register<A>(command: string, handler: (args: A) => Promise<object | undefined>): void {
    const allowed = GATES[command];
    if (!allowed) throw new Error(`no gate for ${command}`);
    this.conn.handle(command, async (args) => {
      if (!allowed.includes(this.state)) {
        // The debug console shows a refused evaluation itself: no pop-up on top.
        throw new UserError(ErrorCode.WrongState, refusal(command, this.state), command !== 'evaluate');
      }
      return handler(args as A);
    });
  }

  get state(): RunState {
    return this.runState;
  }

  /** The one way the run state changes: a change the table does not list is a bug here. */
  setState(next: RunState): void {
    if (next === this.runState) return;
    if (!TRANSITIONS[this.runState].includes(next)) {
      throw new Error(`the run state cannot go from ${this.runState} to ${next}`);
    }
    this.runState = next;
  }

  /**
   * A change the agent's events ask for. One the table refuses is a bug too, but thrown from an
   * event listener it would end the adapter: it is logged and the state stays as it was.
   */
  private follow(next: RunState): void {
    try {
      this.setState(next);
    } catch (err) {
      this.log('session', 'note', err instanceof Error ? err.message : String(err));
    }
  }

  get agent(): AgentClient {
    if (!this.debuggee || this.debuggee.client.isClosed) {
      throw new UserError(ErrorCode.WrongState, 'No program is connected.');
    }
    return this.debuggee.client;
  }

  get hasAgent(): boolean {
    return this.debuggee !== undefined && !this.debuggee.client.isClosed;
  }

  line(clientLine: number): number {
    return this.linesStartAt1 ? clientLine : clientLine + 1;
  }

  clientLine(agentLine: number): number {
    return this.linesStartAt1 ? agentLine : agentLine - 1;
  }

  clientColumn(agentColumn: number): number {
    return this.columnsStartAt1 ? agentColumn : agentColumn - 1;
  }

  event<E extends DebugProtocol.Event>(event: E['event'], body: E['body']): void {
    this.conn.sendEvent(event, body);
  }

  output(category: string, text: string): void {
    this.event<DebugProtocol.OutputEvent>('output', { category, output: text });
  }

  /**
   * Resumes the program. The state turns to running before the agent answers: its `stopped`
   * event for the next stop may be read before this request's continuation runs.
   */
  async resume<T>(send: () => Promise<T>): Promise<T> {
    const before = ++this.epoch;
    this.setState('running');
    try {
      return await send();
    } catch (err) {
      if (this.epoch === before && this.state === 'running') this.setState('stopped');
      throw err;
    }
  }

  /** Wires a freshly connected debuggee into the session. */
  adopt(debuggee: Debuggee): void {
    this.debuggee = debuggee;
    const client = debuggee.client;
    client.on('stopped', (body) => {
      this.epoch++;
      this.follow('stopped');
      this.event<DebugProtocol.StoppedEvent>('stopped', {
        reason: body.reason,
        threadId: body.threadId,
        description: body.description,
        text: body.text,
        allThreadsStopped: body.allThreadsStopped ?? true,
        hitBreakpointIds: body.hitBreakpointIds?.map((id) => this.breakpoints.dapId(id)).filter((id): id is number => id !== undefined),
      });
    });
    client.on('continued', (body) => {
      this.epoch++;
      this.follow('running');
      this.event<DebugProtocol.ContinuedEvent>('continued', { threadId: body.threadId, allThreadsContinued: true });
    });
    client.on('thread', (body) => this.event<DebugProtocol.ThreadEvent>('thread', { reason: body.reason, threadId: body.threadId }));
    client.on('output', (body) => this.output(body.category === 'important' ? 'important' : 'console', body.output));
    client.on('breakpoint', (body) => this.breakpoints.agentChanged(body.breakpoint));
    debuggee.exited.then((info) => {
      if (this.debuggee === debuggee) this.programGone(info);
    });
  }

  private programGone(info: ExitInfo | undefined): void {
    this.follow('ended');
    if (this.quiet) return;
    if (info?.signal) {
      this.output(this.terminating ? 'console' : 'important', `The program was killed by signal ${info.signal} (exit code ${info.exitCode}).\n`);
    }
    if (info) this.event<DebugProtocol.ExitedEvent>('exited', { exitCode: info.exitCode });
    this.event<DebugProtocol.TerminatedEvent>('terminated', {});
  }
}
