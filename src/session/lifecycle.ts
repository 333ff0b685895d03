// initialize, launch, attach, configurationDone, disconnect, terminate, restart.
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { ChildProcess } from 'node:child_process';
import { attachDebuggee, killTree, launchDebuggee, signalGroup, type Debuggee, type TerminalRunner } from '../agent/launcher';
import { findPython } from '../agent/findPython';
import { attachToPid } from '../inject/attachPid';
import { pinProcess } from '../inject/pinned';
import { ErrorCode, UserError } from '../dap/errors';
import { EXCEPTION_FILTERS } from './breakpoints';
import { checkServed } from './childServer';
import { endChildren, followChildren, type SubProcessSpec } from './children';
import { parseAttach, parseLaunch, type LaunchConfig } from './launchArgs';
import { forwardProgramOutput } from './programOutput';
import type { Session } from './session';

const POLITE_MS = 1500;
const SIGTERM_MS = 1500;
const RUN_IN_TERMINAL_MS = 20_000;

export function registerLifecycle(session: Session): void {
  let initialized = false;
  let clientRunsTerminals = false;
  let clientOpensSessions = false;

  session.register<DebugProtocol.InitializeRequestArguments>('initialize', async (args) => {
    if (initialized) throw new UserError(ErrorCode.WrongState, 'Cannot initialize: the session is already initialized.');
    initialized = true;
    session.linesStartAt1 = args.linesStartAt1 !== false;
    session.columnsStartAt1 = args.columnsStartAt1 !== false;
    clientRunsTerminals = args.supportsRunInTerminalRequest === true;
    clientOpensSessions = args.supportsStartDebuggingRequest === true;
    session.clientInvalidates = args.supportsInvalidatedEvent === true;
    return capabilities();
  });

  // launch and attach: the session is starting until the agent is connected; a failure leaves
  // it idle for another try, and success announces `initialized` right after the response.
  const startSession = async (connectAgent: () => Promise<void>): Promise<object> => {
    session.setState('starting');
    try {
      await connectAgent();
    } catch (err) {
      session.setState('idle');
      throw err;
    }
    setImmediate(() => {
      announceProcess(session);
      session.event<DebugProtocol.InitializedEvent>('initialized', undefined);
    });
    return {};
  };

  session.register<unknown>('launch', async (args) => {
    checkServed(session, 'launch', args);
    const config = parseLaunch(args);
    session.kind = 'launch';
    session.launchConfig = config;
    return startSession(() => start(session, config, clientRunsTerminals, clientOpensSessions));
  });

  session.register<unknown>('attach', async (args) => {
    checkServed(session, 'attach', args);
    const config = parseAttach(pinProcess(args, session.pinnedProcessId));
    session.kind = 'attach';
    session.attachConfig = config;
    return startSession(async () => {
      const byPid = config.processId !== undefined;
      const debuggee = byPid ? await attachToPid(config.processId!, session.log) : await attachDebuggee(config.host, config.port, config.token, session.log);
      const subProcess = await followChildren(session, config.subProcess, clientOpensSessions, config, config.parentSession?.launched === true);
      // Attached by process id, the agent's diagnostics adopt the loops and tasks that run already.
      await connect(session, debuggee, { justMyCode: config.justMyCode, stopOnEntry: false, terminateOnDisconnect: false, evaluateTimeout: config.evaluateTimeout, awaitTimeout: config.awaitTimeout, diagnose: config.diagnose, slowMs: config.slowMs, stuckS: config.stuckS, subProcess });
    });
  });

  session.register<DebugProtocol.ConfigurationDoneArguments>('configurationDone', async () => {
    session.configurationDone = true;
    session.setState('running');
    await startProgram(session);
    return {};
  });

  session.register<DebugProtocol.DisconnectArguments>('disconnect', async (args) => {
    // A child of a launched program ends with its session, as the program itself does.
    const terminate = args.terminateDebuggee ?? (session.kind === 'launch' || session.attachConfig?.parentSession?.launched === true);
    session.quiet = true;
    endChildren(session);
    if (session.debuggee && session.state !== 'ended') {
      if (terminate) await stopProgram(session.debuggee);
      else await detach(session.debuggee);
    }
    setImmediate(() => session.shutdown());
    return {};
  });

  session.register<DebugProtocol.TerminateArguments>('terminate', async () => {
    const debuggee = session.debuggee;
    if (!debuggee) return {};
    session.terminating = true;
    if (debuggee.process) {
      // A signal first: the program's own SIGTERM handling is the polite way to end it.
      const child = debuggee.process;
      killTree(child, 'SIGTERM');
      escalate(debuggee, SIGTERM_MS * 2);
      child.once('exit', () => void endGroup(child));
    } else {
      await debuggee.client.request('disconnect', { terminate: true }, POLITE_MS).catch(() => undefined);
    }
    return {};
  });

  session.register<DebugProtocol.RestartArguments>('restart', async (args) => {
    if (session.kind !== 'launch' || !session.launchConfig) {
      throw new UserError(ErrorCode.WrongState, 'Cannot restart an attached program; detach and attach again.');
    }
    const config = args.arguments ? parseLaunch(args.arguments) : session.launchConfig;
    const old = session.debuggee;
    session.quiet = true;
    if (old) await stopProgram(old);
    session.quiet = false;
    session.launchConfig = config;
    session.setState('starting');
    try {
      await start(session, config, clientRunsTerminals, clientOpensSessions);
    } catch (err) {
      session.setState('ended');
      session.event<DebugProtocol.TerminatedEvent>('terminated', {});
      throw err;
    }
    announceProcess(session);
    if (session.configurationDone) {
      session.setState('running');
      await startProgram(session);
    }
    return {};
  });
}

/** The DAP `process` event: the editor shows the PID (e.g. for `tasklens ps PID`). */
function announceProcess(session: Session): void {
  const hello = session.debuggee?.hello;
  if (!hello) return;
  session.event<DebugProtocol.ProcessEvent>('process', {
    name: hello.program ?? hello.executable,
    systemProcessId: hello.pid,
    isLocalProcess: true,
    startMethod: session.kind === 'attach' ? 'attach' : 'launch',
  });
}

/** A program that ends at once may take its socket with it before `start` is answered. */
async function startProgram(session: Session): Promise<void> {
  const client = session.agent;
  try {
    await client.request('start', {});
  } catch (err) {
    if (!client.isClosed) throw err;
  }
}

async function start(session: Session, config: LaunchConfig, clientRunsTerminals: boolean, clientOpensSessions: boolean): Promise<void> {
  const { interpreter, note } = await findPython(config.python);
  if (note) session.output('console', `tasklens: ${note}\n`);
  const terminal = terminalFor(session, config, clientRunsTerminals);
  const subProcess = await followChildren(session, config.subProcess, clientOpensSessions, config, true);
  const debuggee = await launchDebuggee({ ...config, python: interpreter.path }, (category, text) => forwardProgramOutput(session, category, text), session.log, terminal);
  try {
    await connect(session, debuggee, {
      justMyCode: config.justMyCode,
      stopOnEntry: config.stopOnEntry,
      terminateOnDisconnect: config.terminateOnDisconnect,
      evaluateTimeout: config.evaluateTimeout,
      awaitTimeout: config.awaitTimeout,
      diagnose: config.diagnose,
      slowMs: config.slowMs,
      stuckS: config.stuckS,
      subProcess,
    });
  } catch (err) {
    // A program the client was never told about must not run on unseen, nor report its end.
    session.debuggee = undefined;
    if (debuggee.process) killTree(debuggee.process, 'SIGKILL');
    else await debuggee.client.request('disconnect', { terminate: true }, POLITE_MS).catch(() => undefined);
    debuggee.client.destroy();
    throw err;
  }
}

/**
 * `console`: the program gets a terminal of the client (a real stdin and tty) when asked, and
 * by default when the client can run one; else its output comes as output events, as before.
 */
function terminalFor(session: Session, config: LaunchConfig, clientRunsTerminals: boolean): TerminalRunner | undefined {
  const wanted = config.console ?? (clientRunsTerminals ? 'integratedTerminal' : 'internalConsole');
  if (wanted === 'internalConsole') return undefined;
  if (!clientRunsTerminals) {
    session.output('important', `"console": "${wanted}" needs a client that runs terminals (runInTerminal); the program's output comes here instead, and it has no input.\n`);
    return undefined;
  }
  const title = `tasklens: ${config.module ?? path.basename(config.program ?? 'python')}`;
  return async (command) => {
    const kind = wanted === 'externalTerminal' ? 'external' : 'integrated';
    await session.conn.request('runInTerminal', { kind, title, ...command } satisfies DebugProtocol.RunInTerminalRequestArguments, RUN_IN_TERMINAL_MS);
  };
}

async function connect(
  session: Session,
  debuggee: Debuggee,
  options: { justMyCode: boolean; stopOnEntry: boolean; terminateOnDisconnect: boolean; evaluateTimeout: number; awaitTimeout: number; diagnose: boolean; slowMs: number; stuckS: number; subProcess?: SubProcessSpec },
): Promise<void> {
  session.adopt(debuggee);
  await debuggee.client.request('configure', options);
  await session.breakpoints.replay();
  session.setState('configuring');
}

/**
 * Asks the agent to end the program, then signals the process group, harder each time; then
 * ends what the program started and left running in its group (its children end with it).
 */
async function stopProgram(debuggee: Debuggee): Promise<void> {
  if (!debuggee.client.isClosed) {
    await debuggee.client.request('disconnect', { terminate: true }, POLITE_MS).catch(() => undefined);
  }
  const child = debuggee.process;
  if (!child) {
    debuggee.client.close();
    return;
  }
  // The process's own exit, not `exited`: that also waits for its pipes, which children hold.
  const gone = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  if (!(await within(gone, POLITE_MS))) {
    killTree(child, 'SIGTERM');
    if (!(await within(gone, SIGTERM_MS))) {
      killTree(child, 'SIGKILL');
      await within(gone, SIGTERM_MS);
    }
  }
  await endGroup(child);
  await within(debuggee.exited, SIGTERM_MS);
}

/** What the program left in its process group: SIGTERM, then SIGKILL for what outlives it. */
async function endGroup(child: ChildProcess): Promise<void> {
  if (!signalGroup(child, 'SIGTERM')) return;
  for (let waited = 0; waited < SIGTERM_MS; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (!signalGroup(child, 0)) return;
  }
  signalGroup(child, 'SIGKILL');
}

async function detach(debuggee: Debuggee): Promise<void> {
  await debuggee.client.request('disconnect', { terminate: false }, POLITE_MS).catch(() => undefined);
  debuggee.client.close();
}

function escalate(debuggee: Debuggee, afterMs: number): void {
  const timer = setTimeout(() => debuggee.process && killTree(debuggee.process, 'SIGKILL'), afterMs);
  timer.unref();
  debuggee.exited.then(() => clearTimeout(timer));
}

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function capabilities(): DebugProtocol.Capabilities {
  return {
    supportsConfigurationDoneRequest: true,
    supportsFunctionBreakpoints: true,
    supportsConditionalBreakpoints: true,
    supportsHitConditionalBreakpoints: true,
    supportsLogPoints: true,
    supportsEvaluateForHovers: true,
    supportsSetVariable: true,
    supportsExceptionInfoRequest: true,
    supportsLoadedSourcesRequest: true,
    supportsCompletionsRequest: true,
    completionTriggerCharacters: ['.'],
    supportsDelayedStackTraceLoading: true,
    supportsTerminateRequest: true,
    supportsRestartRequest: true,
    supportsValueFormattingOptions: false,
    exceptionBreakpointFilters: EXCEPTION_FILTERS,
  };
}
