// Shared by the ps-agent tests: a fixture run under `tasklens run` with its own discovery
// directory, `tasklens ps|pstree` pointed at that directory, and a bare agent client that plays
// the part of an attached debugger.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixture, MAIN_JS } from './support/paths';
import type { Result } from './ps_fixture';

/** A private XDG_RUNTIME_DIR, so that the tests neither see nor leave discovery files elsewhere. */
export function runtimeDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-psagent-'));
  fs.chmodSync(dir, 0o700);
  return dir;
}

export interface UnderRun {
  /** The Python process (the child of `tasklens run`). */
  pid: number;
  output(): string;
  send(line: string): void;
  /** Resolves with the exit code of `tasklens run`. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `python name` (under `tasklens run` unless `bare`) and waits for its "ready PID" line. */
export async function startApp(python: string, name: string, xdg: string, bare = false): Promise<UnderRun> {
  const args = bare ? [fixture(name)] : [MAIN_JS, 'run', '--python', python, fixture(name)];
  const child: ChildProcess = spawn(bare ? python : process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, XDG_RUNTIME_DIR: xdg },
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "ready" from ${name} in 30 s: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready: ${err}`));
    });
  });
  return {
    pid,
    output: () => out,
    send: (line) => child.stdin!.write(`${line}\n`),
    exited,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
}

/** Runs `body` against the fixture `name`, then ends the program and removes its runtime dir. */
export async function withApp(
  python: string,
  name: string,
  bare: boolean,
  body: (app: UnderRun, xdg: string) => Promise<void>,
): Promise<void> {
  const xdg = runtimeDir();
  const app = await startApp(python, name, xdg, bare);
  try {
    await body(app, xdg);
  } finally {
    await app.kill();
    fs.rmSync(xdg, { recursive: true, force: true });
  }
}

export function lens(args: string[], xdg: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { timeout: 60_000, env: { ...process.env, XDG_RUNTIME_DIR: xdg } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }));
  });
}

export function discoveryPath(xdg: string, pid: number): string {
  return path.join(xdg, 'tasklens', `${pid}.json`);
}

/** A port nothing listens on (taken from the system, then given back). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Writes a discovery file as the agent would, for a process that has no agent. */
export function writeDiscovery(xdg: string, pid: number, port: number, mode = 0o600): string {
  fs.mkdirSync(path.join(xdg, 'tasklens'), { recursive: true, mode: 0o700 });
  const file = discoveryPath(xdg, pid);
  fs.writeFileSync(file, JSON.stringify({ pid, host: '127.0.0.1', port, token: 'x'.repeat(32), python: 'python3', program: 'app.py', protocol: 1 }), { mode });
  fs.chmodSync(file, mode);
  return file;
}

/** A bare protocol client, as a debugger attached to the agent would be. */
export class Debugger {
  private seq = 1;
  private buffer = '';
  private readonly waiters: Array<{ match: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }> = [];
  readonly messages: Array<Record<string, unknown>> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const m = JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>;
        this.buffer = this.buffer.slice(nl + 1);
        this.messages.push(m);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          if (this.waiters[i].match(m)) this.waiters.splice(i, 1)[0].resolve(m);
        }
      }
    });
  }

  static async attach(xdg: string, pid: number): Promise<Debugger> {
    const d = JSON.parse(fs.readFileSync(discoveryPath(xdg, pid), 'utf8')) as { host: string; port: number; token: string };
    const socket = net.connect({ host: d.host, port: d.port });
    const dbg = new Debugger(socket);
    await dbg.next((m) => m.type === 'event' && m.event === 'hello');
    const shake = await dbg.request('handshake', { token: d.token, protocol: 1 });
    if (!shake.success) throw new Error(`handshake refused: ${String(shake.message)}`);
    return dbg;
  }

  next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such message from the agent in time')), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  request(command: string, args: object): Promise<Record<string, unknown>> {
    const seq = this.seq++;
    this.socket.write(`${JSON.stringify({ type: 'request', seq, command, arguments: args })}\n`);
    return this.next((m) => m.type === 'response' && m.request_seq === seq);
  }

  close(): void {
    this.socket.destroy();
  }
}
