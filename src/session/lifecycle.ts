// initialize, launch, attach, configurationDone, disconnect, terminate, restart.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { attachDebuggee, killTree, launchDebuggee, type Debuggee } from '../agent/launcher';
import { probeInterpreter } from '../agent/python';
import { ErrorCode, UserError } from '../dap/errors';
import { EXCEPTION_FILTERS } from './breakpoints';
import { parseAttach, parseLaunch, type LaunchConfig } from './launchArgs';
import type { Session } from './session';

const POLITE_MS = 1500;
const SIGTERM_MS = 1500;

export function registerLifecycle(session: Session): void {
  let initialized = false;

  session.register<DebugProtocol.InitializeRequestArguments>('initialize', async (args) => {
    if (initialized) throw new UserError(ErrorCode.WrongState, 'Cannot initialize: the session is already initialized.');
    initialized = true;
    session.linesStartAt1 = args.linesStartAt1 !== false;
    session.columnsStartAt1 = args.columnsStartAt1 !== false;
    return capabilities();
  });

  // launch and attach: the session is starting until the agent is connected; a failure leaves
  // it idle for another try, and success announces `initialized` right after the response.
  const startSession = async (connectAgent: () => Promise<void>): Promise<object> => {
    session.state = 'starting';
    try {
      await connectAgent();
    } catch (err) {
      session.state = 'idle';
      throw err;
    }
    setImmediate(() => session.event<DebugProtocol.InitializedEvent>('initialized', undefined));
    return {};
  };

  session.register<unknown>('launch', async (args) => {
    const config = parseLaunch(args);
    session.kind = 'launch';
    session.launchConfig = config;
    return startSession(() => start(session, config));
  });

  session.register<unknown>('attach', async (args) => {
    const config = parseAttach(args);
    session.kind = 'attach';
    session.attachConfig = config;
    return startSession(async () => {
      const debuggee = await attachDebuggee(config.host, config.port, config.token, session.log);
      await connect(session, debuggee, { justMyCode: config.justMyCode, stopOnEntry: false, terminateOnDisconnect: false, diagnose: config.diagnose });
    });
  });

  session.register<DebugProtocol.ConfigurationDoneArguments>('configurationDone', async () => {
    session.configurationDone = true;
    session.state = 'running';
    await startProgram(session);
    return {};
  });

  session.register<DebugProtocol.DisconnectArguments>('disconnect', async (args) => {
    const terminate = args.terminateDebuggee ?? session.kind === 'launch';
    session.quiet = true;
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
    if (debuggee.process) {
      // A signal first: the program's own SIGTERM handling is the polite way to end it.
      killTree(debuggee.process, 'SIGTERM');
      escalate(debuggee, SIGTERM_MS * 2);
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
    session.state = 'starting';
    try {
      await start(session, config);
    } catch (err) {
      session.state = 'ended';
      session.event<DebugProtocol.TerminatedEvent>('terminated', {});
      throw err;
    }
    if (session.configurationDone) {
      session.state = 'running';
      await startProgram(session);
    }
    return {};
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

async function start(session: Session, config: LaunchConfig): Promise<void> {
  await probeInterpreter(config.python);
  const debuggee = await launchDebuggee(config, (category, text) => session.output(category, text), session.log);
  try {
    await connect(session, debuggee, {
      justMyCode: config.justMyCode,
      stopOnEntry: config.stopOnEntry,
      terminateOnDisconnect: config.terminateOnDisconnect,
      diagnose: config.diagnose,
    });
  } catch (err) {
    // A program the client was never told about must not run on unseen, nor report its end.
    session.debuggee = undefined;
    debuggee.client.destroy();
    if (debuggee.process) killTree(debuggee.process, 'SIGKILL');
    throw err;
  }
}

async function connect(
  session: Session,
  debuggee: Debuggee,
  options: { justMyCode: boolean; stopOnEntry: boolean; terminateOnDisconnect: boolean; diagnose: boolean },
): Promise<void> {
  session.adopt(debuggee);
  await debuggee.client.request('configure', options);
  await session.breakpoints.replay();
  session.state = 'configuring';
}

/** Asks the agent to end the program, then signals the process group, harder each time. */
async function stopProgram(debuggee: Debuggee): Promise<void> {
  if (!debuggee.client.isClosed) {
    await debuggee.client.request('disconnect', { terminate: true }, POLITE_MS).catch(() => undefined);
  }
  if (!debuggee.process) {
    debuggee.client.close();
    return;
  }
  if (await within(debuggee.exited, POLITE_MS)) return;
  killTree(debuggee.process, 'SIGTERM');
  if (await within(debuggee.exited, SIGTERM_MS)) return;
  killTree(debuggee.process, 'SIGKILL');
  await within(debuggee.exited, SIGTERM_MS);
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
