// Starting a debuggee under the agent (launch), or reaching one that already runs (attach).
// Who runs where: the child is `python launch.py …` in its own process group (so the whole
// tree can be ended and a Ctrl-C meant for the adapter does not reach it); it connects back to
// a one-shot loopback server here. Its stdout/stderr are pipes read on Node's loop.
// In a terminal (DAP runInTerminal) the client starts the same command: the program is not our
// child, has the terminal for stdin/stdout, and its end is learnt from the agent, as in attach.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import { ErrorCode, UserError } from '../dap/errors';
import type { LogSink } from '../dap/log';
import { AgentClient } from './client';
import { AgentConnectError, checkProtocol, connectAgent, greeting, handshake } from './connect';
import { findListener } from './discovery';
import { agentLauncher } from './paths';
import type { HelloBody } from './protocol';
import { listenOnLoopback } from './loopback';

const HELLO_TIMEOUT_MS = 20_000;
/** Names the file the agent logs to (docs/agent-protocol.md); set when the adapter logs. */
const AGENT_LOG_ENV = 'TASKLENS_AGENT_LOG';
// After the process is gone, output still in the pipes is read for at most this long: a
// grandchild that inherited the pipes must not hold `exited` back forever.
const DRAIN_LIMIT_MS = 2_000;

export interface ExitInfo {
  exitCode: number;
  signal?: NodeJS.Signals;
}

export interface LaunchSpec {
  python: string;
  program?: string;
  module?: string;
  args: string[];
  cwd: string;
  env: Record<string, string | null>;
  /** `--trace FILE` for the agent (docs/trace.md). */
  trace?: string;
}

export interface Debuggee {
  client: AgentClient;
  hello: HelloBody;
  /** Resolves once the program is gone and all of its output has been delivered. */
  exited: Promise<ExitInfo | undefined>;
  process?: ChildProcess;
}

/** Takes output of the program; a returned promise pauses reading that pipe until it settles. */
export type OutputSink = (category: 'stdout' | 'stderr', text: string) => Promise<void> | undefined | void;

/** Has the client start a command in one of its terminals; resolves once it has started. */
export type TerminalRunner = (command: { args: string[]; cwd: string; env: Record<string, string | null> }) => Promise<void>;

export async function launchDebuggee(spec: LaunchSpec, onOutput: OutputSink, log: LogSink, inTerminal?: TerminalRunner): Promise<Debuggee> {
  const token = randomBytes(24).toString('hex');
  const { server, port } = await listenOnLoopback();

  const target = [...(spec.trace !== undefined ? ['--trace', spec.trace] : []), ...(spec.module !== undefined ? ['--module', spec.module] : [])];
  const argv = [agentLauncher(), '--connect', `127.0.0.1:${port}`, ...target, '--', ...(spec.program !== undefined ? [spec.program] : []), ...spec.args];
  if (inTerminal) {
    try {
      return await launchInTerminal(spec, [spec.python, ...argv], token, server, inTerminal, log);
    } finally {
      server.close();
    }
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(spec.env)) {
    if (value === null) delete env[key];
    else env[key] = value;
  }
  env.TASKLENS_TOKEN = token;
  if (log.file !== undefined) env[AGENT_LOG_ENV] = `${log.file}.agent`;
  log('agent', 'note', { spawn: spec.python, argv, cwd: spec.cwd });
  const child = spawn(spec.python, argv, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  let startupStderr = '';
  let connected = false;
  const pipe = (stream: NodeJS.ReadableStream | null, category: 'stdout' | 'stderr') => {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      if (!connected && category === 'stderr') startupStderr = (startupStderr + text).slice(-4000);
      const wait = onOutput(category, text);
      if (wait) {
        stream.pause();
        void wait.then(() => stream.resume());
      }
    });
  };
  pipe(child.stdout, 'stdout');
  pipe(child.stderr, 'stderr');
  const exited = watchExit(child);

  try {
    const socket = await Promise.race([
      acceptAgent(server, token, log),
      exited.then((info) => {
        const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.exitCode}`;
        const tail = startupStderr.trim().split('\n').slice(-5).join('\n');
        throw new UserError(ErrorCode.AgentFailed, `The debugger agent ${how} before connecting.${tail ? `\n${tail}` : ''}`);
      }),
      spawnError(child, spec.python),
      timeout(HELLO_TIMEOUT_MS, 'The debugger agent did not connect'),
    ]);
    connected = true;
    const client = socket.client;
    await handshake(client, token).catch((err: unknown) => {
      throw agentFailure(err);
    });
    // The agent's last messages (logpoint output, programExited) travel on the socket, which may
    // be read after the process's exit is seen: wait for the socket to drain too, briefly.
    const closed = new Promise<void>((resolve) => client.once('close', resolve));
    // The program's pipes too: a pipe paused for a slow client still holds its last output.
    const piped = Promise.all([child.stdout, child.stderr].map((s) => (s ? new Promise<void>((resolve) => s.once('close', resolve)) : undefined)));
    const drained = exited.then(async (info) => {
      await Promise.race([Promise.all([closed, piped]), delay(DRAIN_LIMIT_MS)]);
      return info;
    });
    return { client, hello: socket.hello, exited: drained, process: child };
  } catch (err) {
    killTree(child, 'SIGKILL');
    throw err;
  } finally {
    server.close();
  }
}

export async function attachDebuggee(host: string, port: number, token: string | undefined, log: LogSink): Promise<Debuggee> {
  const listener = token === undefined ? findListener(host, port) : { token };
  if (listener === null) {
    throw new UserError(ErrorCode.AttachFailed, `No tasklens agent is listening on ${host}:${port} (no discovery file names that port); pass "connect.token" to attach anyway.`);
  }
  if (listener.problem !== undefined) {
    throw new UserError(ErrorCode.AttachFailed, `Cannot attach to ${host}:${port}: ${listener.problem}; pass "connect.token" to attach anyway.`);
  }
  let connected;
  try {
    connected = await connectAgent(host, port, log, { token: listener.token, greetMs: HELLO_TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof AgentConnectError)) throw err;
    if (err.stage === 'connect') throw new UserError(ErrorCode.AttachFailed, `Cannot connect to ${host}:${port}: ${err.message}.`);
    if (err.stage === 'handshake') throw new UserError(ErrorCode.AttachFailed, `The agent at ${host}:${port} refused the connection: ${err.message}`);
    throw agentFailure(err);
  }
  const { client, hello } = connected;
  return { client, hello, exited: exitFromAgent(client) };
}

async function launchInTerminal(spec: LaunchSpec, args: string[], token: string, server: net.Server, inTerminal: TerminalRunner, log: LogSink): Promise<Debuggee> {
  log('agent', 'note', { runInTerminal: args, cwd: spec.cwd });
  const env: Record<string, string | null> = { ...spec.env, TASKLENS_TOKEN: token };
  if (log.file !== undefined) env[AGENT_LOG_ENV] = `${log.file}.agent`;
  const started = inTerminal({ args, cwd: spec.cwd, env }).catch((err: unknown) => {
    throw new UserError(ErrorCode.AgentFailed, `The client could not start the program in a terminal: ${err instanceof Error ? err.message : String(err)}.`);
  });
  const { client, hello } = await Promise.race([
    acceptAgent(server, token, log),
    started.then(() => new Promise<never>(() => undefined)),
    timeout(HELLO_TIMEOUT_MS, 'The debugger agent did not connect from the terminal'),
  ]);
  await handshake(client, token).catch((err: unknown) => {
    client.destroy();
    throw agentFailure(err);
  });
  return { client, hello, exited: exitFromAgent(client) };
}

/** A program that is not our child: its exit code is the agent's last word, if it said one. */
function exitFromAgent(client: AgentClient): Promise<ExitInfo | undefined> {
  return new Promise((resolve) => {
    let code: number | undefined;
    client.on('programExited', (body) => (code = body.exitCode));
    client.on('close', () => resolve(code === undefined ? undefined : { exitCode: code }));
  });
}

/**
 * Signals what is left of the child's process group once the child itself has exited (what it
 * started and did not take out of its group); false when nothing is left. Signal 0 only asks.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;   // ESRCH: the group is empty; EPERM: what is left is not ours to end
  }
}

/** Ends the child and everything it started (its process group). */
export function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function acceptAgent(server: net.Server, token: string, log: LogSink): Promise<{ client: AgentClient; hello: HelloBody }> {
  return new Promise((resolve, reject) => {
    server.on('connection', (socket) => {
      const client = new AgentClient(socket, log);
      greeting(client).then((hello) => {
        if (hello.token !== token) {
          log('agent', 'note', 'rejected a connection with a wrong token');
          client.destroy();
          return;
        }
        try {
          checkProtocol(hello);
        } catch (err) {
          client.destroy();
          reject(agentFailure(err));
          return;
        }
        resolve({ client, hello });
      }, () => undefined);
    });
  });
}

/** A failure to greet the agent, worded for the DAP client. */
function agentFailure(err: unknown): Error {
  if (!(err instanceof AgentConnectError)) return err instanceof Error ? err : new Error(String(err));
  switch (err.stage) {
    case 'protocol':
      return new UserError(ErrorCode.AgentFailed, `${err.message[0].toUpperCase()}${err.message.slice(1)}; use matching versions of tasklens.`);
    case 'timeout':
      return new UserError(ErrorCode.AgentTimeout, `The agent did not greet within ${HELLO_TIMEOUT_MS / 1000} s.`);
    case 'closed':
      return new UserError(ErrorCode.AgentFailed, 'The agent closed the connection during the handshake.');
    default:
      return new UserError(ErrorCode.AgentFailed, `The debugger agent refused the connection: ${err.message}.`);
  }
}

function watchExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    let info: ExitInfo | undefined;
    const finish = () => info && resolve(info);
    child.once('exit', (code, signal) => {
      info = signal ? { exitCode: 128 + (os.constants.signals[signal] ?? 0), signal } : { exitCode: code ?? 0 };
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, DRAIN_LIMIT_MS).unref();
    });
    child.once('close', finish);
    child.once('error', () => {
      info = info ?? { exitCode: 127 };
      finish();
    });
  });
}

function spawnError(child: ChildProcess, python: string): Promise<never> {
  return new Promise((_, reject) => {
    child.once('error', (err) => reject(new UserError(ErrorCode.InterpreterNotFound, `Cannot start "${python}": ${err.message}.`)));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new UserError(ErrorCode.AgentTimeout, `${what} within ${ms / 1000} s.`)), ms).unref();
  });
}
