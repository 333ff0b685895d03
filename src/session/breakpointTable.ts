// The breakpoints the client asked for, kept by the adapter so that they survive the agent:
// set before the program starts (forwarded when it connects), replayed on restart. DAP ids are
// the adapter's own; the agent's ids map onto them and change with each agent.
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as path from 'node:path';
import type { AgentClient } from '../agent/client';
import type { AgentBreakpoint, SourceBreakpointArg } from '../agent/protocol';

/** What the table needs of its session: the agent once one is connected, line numbers, events. */
export interface BreakpointHost {
  readonly hasAgent: boolean;
  readonly agent: AgentClient;
  line(clientLine: number): number;
  clientLine(agentLine: number): number;
  event<E extends DebugProtocol.Event>(event: E['event'], body: E['body']): void;
}

interface SourceEntry {
  path: string;
  requested: DebugProtocol.SourceBreakpoint[];
  dapIds: number[];
}

export const DEFAULT_EXCEPTION_FILTERS = ['uncaught'];
const PENDING = 'Pending: checked when the program starts.';

export class BreakpointTable {
  private readonly sources = new Map<string, SourceEntry>();
  private functions: DebugProtocol.FunctionBreakpoint[] = [];
  private functionIds: number[] = [];
  exceptionFilters: string[] = DEFAULT_EXCEPTION_FILTERS;
  private nextId = 1;
  private readonly fromAgent = new Map<number, number>();
  private readonly pathOf = new Map<number, string>();

  constructor(private readonly session: BreakpointHost) {}

  dapId(agentId: number): number | undefined {
    return this.fromAgent.get(agentId);
  }

  async setSource(sourcePath: string, requested: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const key = path.resolve(sourcePath);
    const entry: SourceEntry = { path: key, requested, dapIds: requested.map(() => this.nextId++) };
    this.sources.set(key, entry);
    for (const id of entry.dapIds) this.pathOf.set(id, key);
    if (!this.session.hasAgent) {
      return requested.map((bp, i) => ({ id: entry.dapIds[i], verified: false, line: bp.line, message: PENDING, source: source(key) }));
    }
    return this.forwardSource(entry);
  }

  async setFunctions(requested: DebugProtocol.FunctionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    this.functions = requested;
    this.functionIds = requested.map(() => this.nextId++);
    if (!this.session.hasAgent) {
      return this.functionIds.map((id) => ({ id, verified: false, message: PENDING }));
    }
    return this.forwardFunctions();
  }

  async setExceptions(filters: string[]): Promise<void> {
    this.exceptionFilters = filters;
    if (this.session.hasAgent) await this.session.agent.request('setExceptionBreakpoints', { filters });
  }

  /** Sends everything to a newly connected agent; the client learns the verdicts as events. */
  async replay(): Promise<void> {
    for (const entry of this.sources.values()) {
      for (const bp of await this.forwardSource(entry)) this.changed(bp);
    }
    if (this.functions.length > 0) {
      for (const bp of await this.forwardFunctions()) this.changed(bp);
    }
    await this.session.agent.request('setExceptionBreakpoints', { filters: this.exceptionFilters });
  }

  agentChanged(agentBp: AgentBreakpoint): void {
    const id = this.fromAgent.get(agentBp.id);
    if (id === undefined) return;
    this.changed(this.toDap(id, agentBp));
  }

  private changed(breakpoint: DebugProtocol.Breakpoint): void {
    this.session.event<DebugProtocol.BreakpointEvent>('breakpoint', { reason: 'changed', breakpoint });
  }

  /** The line breakpoints as the agent takes them: a child process starts with them (children.ts). */
  lineBreakpoints(): Array<{ source: { path: string }; breakpoints: SourceBreakpointArg[] }> {
    return [...this.sources.values()].map((entry) => ({ source: { path: entry.path }, breakpoints: this.agentForm(entry) }));
  }

  private agentForm(entry: SourceEntry): SourceBreakpointArg[] {
    return entry.requested.map((bp) => ({
      line: this.session.line(bp.line),
      condition: bp.condition || undefined,
      hitCondition: bp.hitCondition || undefined,
      logMessage: bp.logMessage || undefined,
    }));
  }

  private async forwardSource(entry: SourceEntry): Promise<DebugProtocol.Breakpoint[]> {
    const body = await this.session.agent.request('setBreakpoints', { source: { path: entry.path }, breakpoints: this.agentForm(entry) });
    return entry.dapIds.map((id, i) => this.toDap(id, body.breakpoints[i]));
  }

  private async forwardFunctions(): Promise<DebugProtocol.Breakpoint[]> {
    const body = await this.session.agent.request('setFunctionBreakpoints', {
      breakpoints: this.functions.map((bp) => ({ name: bp.name, condition: bp.condition || undefined, hitCondition: bp.hitCondition || undefined })),
    });
    return this.functionIds.map((id, i) => this.toDap(id, body.breakpoints[i]));
  }

  private toDap(id: number, agentBp: AgentBreakpoint | undefined): DebugProtocol.Breakpoint {
    if (!agentBp) return { id, verified: false, message: 'The debugger agent did not report this breakpoint.' };
    this.fromAgent.set(agentBp.id, id);
    const file = this.pathOf.get(id);
    return {
      id,
      verified: agentBp.verified,
      line: agentBp.line === undefined ? undefined : this.session.clientLine(agentBp.line),
      message: agentBp.message,
      source: file === undefined ? undefined : source(file),
    };
  }
}

function source(file: string): DebugProtocol.Source {
  return { name: path.basename(file), path: file };
}
