// DAP `attach` with `processId`: load the agent into a Python program that runs without it.
// The adapter listens on 127.0.0.1 (random port) and chooses a fresh token; the code it injects
// (bootstrap.ts) dials back with that token. The target opens no port; the only file is a 0600
// script in this user's 0700 tasklens folder for `sys.remote_exec`, which removes itself as it
// runs (or, never run, is turned into one that only removes itself). Every step has a deadline:
// an attach ends, one way or the other, within 10 s.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { AgentClient } from '../agent/client';
import { AgentConnectError, checkProtocol, greeting, handshake } from '../agent/connect';
import { discoveryDir, locateAgent } from '../agent/discovery';
import { attachDebuggee, type Debuggee, type ExitInfo } from '../agent/launcher';
import { agentDir } from '../agent/paths';
import type { HelloBody } from '../agent/protocol';
import { ErrorCode, UserError } from '../dap/errors';
import type { LogSink } from '../dap/log';
import { bootstrapCode, leftoverScript, scriptText } from './bootstrap';
import { gdbUnusable, gdbUnusableMessage } from './gdbCheck';
import { findGdb, viaGdb, viaRemoteExec, type InjectResult } from './methods';
import { inspectTarget, isGone, PTRACE_HINT, remoteExecWakes, type AttachTarget } from './target';
import { listenOnLoopback } from '../agent/loopback';

/** From the start of the attach to the agent's greeting; gdb's grace comes on top (≤ 10 s in all). */
const CONNECT_MS = 7_500;
const HANDSHAKE_MS = 1_500;
/** How long a `sys.remote_exec` script may stay pending before gdb is used instead. */
const REMOTE_EXEC_MS = 1_500;
const GDB_INSTALL = 'install gdb (Debian/Ubuntu: `apt-get install gdb`; Fedora: `dnf install gdb`)';

type Accepted = { client: AgentClient; hello: HelloBody };

export interface PidAttachOptions {
  /**
   * When the program's agent serves another session already (a debugger attached by PID, a
   * `top`): read it beside that session (a read-only session: it claims nothing, gets no
   * events, and its end unloads nothing) instead of failing.
   */
  readOnlyBeside?: boolean;
}

/** A Debuggee; `shared` when it is a read-only session beside another (PidAttachOptions). */
export type PidDebuggee = Debuggee & { shared?: boolean };

export async function attachToPid(pid: number, log: LogSink, options: PidAttachOptions = {}): Promise<PidDebuggee> {
  const target = inspectTarget(pid);
  const known = locateAgent(pid);
  if (known?.address) return attachDebuggee(known.address.host, known.address.port, known.address.token, log);

  const token = randomBytes(24).toString('hex');
  const { server, port } = await listenOnLoopback();
  const files = new Files();
  let watcher: NodeJS.Timeout | undefined;
  try {
    const accepted = acceptAgent(server, token, log);
    const gone = new Promise<never>((_, reject) => {
      watcher = setInterval(() => {
        if (isGone(pid)) reject(new UserError(ErrorCode.AttachProcessExited, `Process ${pid} exited during the attach.`));
      }, 100);
    });
    const gdbState: GdbState = {};
    const deadline = new Promise<never>((_, reject) => {
      setTimeout(() => reject(noResponse(target, gdbState)), CONNECT_MS).unref();
    });
    const stop = new AbortController();
    const injected = inject(target, port, token, files, log, accepted, stop.signal, gdbState);
    let agent: Accepted;
    try {
      agent = await Promise.race([accepted, gone, deadline, injected.then(() => new Promise<never>(() => undefined))]);
    } catch (err) {
      // A gdb still in the program (its call waiting for a GIL that never comes) is unwound and
      // gone before the answer: a gdb killed with the adapter would leave that call in it.
      stop.abort();
      await injected.catch(() => undefined);
      throw err;
    }
    const { client, hello } = agent;
    // An agent another session holds (its hello says so) is read beside it, when asked.
    const shared = options.readOnlyBeside === true && hello.claimed === true;
    try {
      checkProtocol(hello);
      await handshake(client, token, { timeoutMs: HANDSHAKE_MS, readOnly: shared });
    } catch (err) {
      client.destroy();
      if (err instanceof AgentConnectError && /already attached/.test(err.message)) {
        throw new UserError(ErrorCode.AttachAlreadyAttached, `Another debugger is already attached to process ${pid}; detach it first (one debugger at a time).`);
      }
      throw new UserError(ErrorCode.AttachFailed, `The agent in process ${pid} did not complete the handshake: ${err instanceof Error ? err.message : String(err)}.`);
    }
    return { client, hello, exited: exitFromAgent(client), shared };
  } finally {
    clearInterval(watcher);
    server.close();
    files.settle();
  }
}

/** The gdb found, and why it may not be used on this machine (gdbCheck.ts), once known. */
interface GdbState {
  found?: string | null;
  /** Set once gdbCheck has run for `found`. */
  checked?: boolean;
  unusable?: string;
}

/** Injects by the best way for this target; resolves when the injection is done (not when the agent answers). */
async function inject(target: AttachTarget, port: number, token: string, files: Files, log: LogSink, accepted: Promise<Accepted>, stop: AbortSignal, state: GdbState): Promise<void> {
  state.found = findGdb();
  const sameUser = target.uid === process.getuid?.();
  // On 3.14+ the interpreter's own way is tried first, even where gdb will be needed: it is
  // what refuses a program started with remote debugging disabled.
  const remote = target.minor >= 14 && sameUser;
  log('agent', 'note', { attach: target.pid, python: `3.${target.minor}`, via: remote ? 'remote_exec' : 'gdb', mainSyscall: target.mainSyscall, uvloop: target.uvloop });
  if (remote) {
    const script = files.script(target.pid);
    fs.writeFileSync(script, scriptText(bootstrapCode(agentDir(), port, token, script)), { mode: 0o600 });
    const requested = await viaRemoteExec(target.executable, target.pid, script);
    log('agent', 'note', { attach: target.pid, remoteExec: requested });
    fail(target, requested, 'remote');
    // A main thread that waits where the interrupt does not bring it back to Python (a lock, a
    // sleep, uvloop's libuv, which waits again after EINTR) never runs the script: gdb at once
    // then, else after a bounded wait (the script, if it runs after all, finds its token used).
    // gdb is checked only when it is needed (its first check on a machine runs a gdb).
    if (state.found === null || (await arrives(accepted, remoteExecWakes(target) ? REMOTE_EXEC_MS : 0))) return;
    if ((await checkedGdb(target, state, log)) === null) return;
    log('agent', 'note', { attach: target.pid, via: 'gdb', after: 'remote_exec did not run' });
  }
  const gdb = await checkedGdb(target, state, log);
  if (gdb === null) throw withoutGdb(target, state);
  if (stop.aborted) return;
  const codeFile = files.code(target.pid);
  fs.writeFileSync(codeFile, bootstrapCode(agentDir(), port, token), { mode: 0o600 });
  const result = await viaGdb(gdb, target.pid, codeFile, stop);
  files.dropCode();
  log('agent', 'note', { attach: target.pid, gdb: result });
  // A gdb that failed after the code ran is no failure: the agent may be on its way.
  if (!result.ok && !(await arrives(accepted, 300))) fail(target, result, 'gdb');
}

/** The gdb to use once its check (gdbCheck.ts) is done, or null: none, or one that must not be used. */
async function checkedGdb(target: AttachTarget, state: GdbState, log: LogSink): Promise<string | null> {
  if (state.found === undefined) state.found = findGdb();
  if (state.found === null) return null;
  if (state.checked === undefined) {
    state.unusable = await gdbUnusable(state.found);
    state.checked = true;
    if (state.unusable !== undefined) log('agent', 'note', { attach: target.pid, gdbUnusable: state.unusable });
  }
  return state.unusable === undefined ? state.found : null;
}

/** The error that says why this attach cannot go on without a gdb (none found, or one that must not be used). */
function withoutGdb(target: AttachTarget, state: GdbState): UserError {
  if (state.found && state.unusable !== undefined) {
    return new UserError(ErrorCode.AttachGdbUnusable, `Attaching to Python 3.${target.minor} (process ${target.pid}) needs gdb, but ${gdbUnusableMessage(state.found, state.unusable)}. \`tasklens ps ${target.pid}\` and \`tasklens dump ${target.pid}\` read its threads and tasks without attaching.`);
  }
  return new UserError(ErrorCode.AttachGdbMissing, `Attaching to Python 3.${target.minor} (process ${target.pid}) needs gdb, which is not installed: ${GDB_INSTALL}.`);
}

/**
 * Before anything opens: the refusal an attach to `pid` would end in for want of a usable gdb
 * (3.11-3.13 with no agent in it yet), so that `tasklens attach` says it before it serves a port.
 */
export async function gdbRefusal(target: AttachTarget): Promise<UserError | undefined> {
  if (target.minor >= 14 || locateAgent(target.pid)?.address) return undefined;
  const state: GdbState = {};
  return (await checkedGdb(target, state, () => undefined)) === null ? withoutGdb(target, state) : undefined;
}

function arrives(accepted: Promise<Accepted>, ms: number): Promise<boolean> {
  return Promise.race([accepted.then(() => true, () => false), delay(ms).then(() => false)]);
}

function fail(target: AttachTarget, result: InjectResult, how: 'remote' | 'gdb'): void {
  if (result.ok) return;
  const pid = target.pid;
  switch (result.error) {
    case 'disabled':
      throw new UserError(ErrorCode.AttachRemoteDebugDisabled, `Process ${pid} was started with remote debugging disabled (-X disable-remote-debug or PYTHON_DISABLE_REMOTE_DEBUG); restart it without, or under \`tasklens run --listen\`.`);
    case 'permission':
      throw new UserError(ErrorCode.AttachNotPermitted, `Cannot attach to process ${pid}: ptrace is not permitted.\n${PTRACE_HINT}`);
    case 'gone':
      throw new UserError(ErrorCode.AttachProcessExited, `Process ${pid} exited during the attach.`);
    case 'timeout':
      throw noResponse(target, {});
    default:
      throw new UserError(ErrorCode.AttachFailed, `Cannot attach to process ${pid} (${how === 'gdb' ? 'gdb' : 'sys.remote_exec'}): ${result.message ?? 'unknown failure'}.`);
  }
}

function noResponse(target: AttachTarget, gdb: GdbState): UserError {
  const only = 'or its main thread waits where only gdb can reach it';
  const why = target.minor < 14 ? ''
    : gdb.found && gdb.unusable !== undefined ? `, ${only}, but ${gdbUnusableMessage(gdb.found, gdb.unusable)}`
      : (gdb.found ?? findGdb()) === null ? `, ${only} (${GDB_INSTALL})` : '';
  return new UserError(ErrorCode.AttachNoResponse,
    `Process ${target.pid} did not run the attach code within ${CONNECT_MS / 1000} s: a thread may hold the GIL in native code and never release it` +
    `${why}. ` +
    `\`tasklens ps ${target.pid}\` and \`tasklens dump ${target.pid}\` read its threads and tasks without attaching.`);
}

/** The agent's connection back, checked against the token; a wrong one is dropped. */
function acceptAgent(server: net.Server, token: string, log: LogSink): Promise<Accepted> {
  return new Promise((resolve, reject) => {
    server.on('connection', (socket) => {
      const client = new AgentClient(socket, log);
      (client as unknown as NodeJS.EventEmitter).once('attachFailed', (body: { token?: string; message?: string }) => {
        client.destroy();
        if (body.token === token) reject(new UserError(ErrorCode.AttachFailed, `The debugger agent could not start in the program: ${body.message ?? 'unknown error'}.`));
      });
      greeting(client).then((hello) => {
        if (hello.token !== token) {
          log('agent', 'note', 'rejected a connection with a wrong token');
          client.destroy();
          return;
        }
        resolve({ client, hello });
      }, () => undefined);
    });
  });
}

/** A program that is not our child: its exit code is the agent's last word, if it said one. */
function exitFromAgent(client: AgentClient): Promise<ExitInfo | undefined> {
  return new Promise((resolve) => {
    let code: number | undefined;
    client.on('programExited', (body) => (code = body.exitCode));
    client.on('close', () => resolve(code === undefined ? undefined : { exitCode: code }));
  });
}

/** The attach's files: the remote_exec script (removed by the target as it runs) and gdb's code file. */
class Files {
  private scriptPath?: string;
  private codePath?: string;

  private fresh(pid: number, kind: string): string {
    const dir = discoveryDir();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    sweep(dir);
    return path.join(dir, `attach-${pid}-${randomBytes(6).toString('hex')}.${kind}`);
  }

  script(pid: number): string {
    this.scriptPath = this.fresh(pid, 'py');
    return this.scriptPath;
  }

  code(pid: number): string {
    this.codePath = this.fresh(pid, 'code');
    return this.codePath;
  }

  dropCode(): void {
    if (this.codePath) fs.rmSync(this.codePath, { force: true });
  }

  /** A script the target has not run yet would later attach nothing: it is left to remove itself only. */
  settle(): void {
    this.dropCode();
    if (this.scriptPath && fs.existsSync(this.scriptPath)) fs.writeFileSync(this.scriptPath, leftoverScript(this.scriptPath), { mode: 0o600 });
  }
}

/**
 * Removes the attach files of processes that are gone: a script whose target died before running
 * it, or a code file of an adapter killed mid-attach (whose token then opens nothing).
 */
function sweep(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const m = /^attach-(\d+)-[0-9a-f]+\.(py|code)$/.exec(name);
    if (m && isGone(Number(m[1]))) fs.rmSync(path.join(dir, name), { force: true });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
