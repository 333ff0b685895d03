// A real VS Code for the browser tests: code-server (installed by scripts/install-vscode.sh into
// .cache/vscode) on loopback with a fresh user data folder, the packaged extension installed, and
// a workspace folder with the fixture programs. Everything lives in one temporary folder, and
// every process is found again by it (or by code-server's process group) to prove none is left.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/paths';

const CACHE = path.join(ROOT, '.cache', 'vscode');
const NODE24 = path.join(CACHE, 'node', 'bin', 'node');
const CODE_SERVER = path.join(CACHE, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function unavailable(): string | undefined {
  const reasonFile = path.join(CACHE, 'unavailable');
  if (fs.existsSync(reasonFile)) return `scripts/install-vscode.sh could not install: ${fs.readFileSync(reasonFile, 'utf8').trim()}`;
  for (const [what, file] of [['Node 24', NODE24], ['code-server', CODE_SERVER], ['chromium', CHROMIUM]]) {
    if (!fs.existsSync(file)) return `${what} is not installed (${file}); run bash scripts/install-vscode.sh`;
  }
  if (!fs.existsSync(path.join(CACHE, 'installed'))) return 'the install in .cache/vscode is unfinished; run bash scripts/install-vscode.sh';
  return undefined;
}

const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'remote.autoForwardPorts': false,
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
};

export interface VsCode {
  url: string;
  root: string;
  workspace: string;
  /** code-server's process group: every process of VS Code's server side, the adapter included. */
  pgid: number;
  child: ChildProcess;
}

/** A launch configuration of the workspace's launch.json: its name, the interpreter it runs, its program if not the default. */
export interface Launch { name: string; python: string; program?: string }

export const ATTACH_BY_PID = 'attach by PID';

/**
 * Makes the folder tree (the workspace is a copy of `folder`, with a launch.json holding the
 * given launch configurations of `program` and one attach by PID), installs the .vsix and starts
 * code-server; resolves once it listens.
 */
export async function startVsCode(vsix: string, folder: string, program: string, launches: Launch[]): Promise<VsCode> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-vscode-'));
  const userData = path.join(root, 'user-data');
  const extensions = path.join(root, 'extensions');
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(SETTINGS, null, 2));
  fs.cpSync(folder, workspace, { recursive: true });
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const launch = {
    version: '0.2.0',
    configurations: [
      ...launches.map(({ name, python, program: own }) => ({
        type: 'tasklens', request: 'launch', name, program: `\${workspaceFolder}/${own ?? program}`, python, console: 'internalConsole',
      })),
      { type: 'tasklens', request: 'attach', name: ATTACH_BY_PID, processId: '${command:tasklens.pickProcess}' },
    ],
  };
  fs.writeFileSync(path.join(workspace, '.vscode', 'launch.json'), JSON.stringify(launch, null, 2));

  const common = ['--config', path.join(root, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions];
  const env = { ...process.env, PATH: `${path.dirname(NODE24)}:${process.env.PATH ?? ''}` };
  execFileSync(NODE24, [CODE_SERVER, ...common, '--install-extension', vsix], { env, stdio: 'pipe', timeout: 120_000 });

  const child = spawn(NODE24, [CODE_SERVER, ...common, '--bind-addr', '127.0.0.1:0', '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'], {
    env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = fs.createWriteStream(path.join(root, 'code-server.log'));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${seen}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code}:\n${seen}`));
    });
  });
  return { url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, root, workspace, pgid: child.pid!, child };
}

interface Proc { pid: number; pgid: number; cmdline: string }

function processes(): Proc[] {
  const found: Proc[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fields after the command name, which is in parentheses and may hold anything.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (fields[0] !== 'Z') found.push({ pid: Number(entry), pgid: Number(fields[2]), cmdline });
    } catch {
      // Gone while being read.
    }
  }
  return found;
}

/** Live processes of this VS Code: in code-server's process group, or naming its folder. */
export function leftovers(vs: VsCode): string[] {
  return processes().filter((p) => p.pgid === vs.pgid || p.cmdline.includes(vs.root)).map((p) => `${p.pid}: ${p.cmdline.slice(0, 200)}`);
}

/** The debuggee: the Python process running the workspace's program. */
export function debuggees(vs: VsCode): number[] {
  return processes().filter((p) => p.cmdline.includes('launch.py') && p.cmdline.includes(vs.workspace)).map((p) => p.pid);
}

/** The adapter processes of this VS Code (the extension's adapter.js, one per adapter started). */
export function adapters(vs: VsCode): number[] {
  return processes().filter((p) => p.cmdline.includes('adapter.js') && p.cmdline.includes(vs.root)).map((p) => p.pid);
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Ends code-server's whole process group and returns what was still alive 10 s later (then
 * killed for good): the debuggee is in a session of its own and must die with the adapter.
 */
export async function stopVsCode(vs: VsCode): Promise<string[]> {
  const kill = (pid: number, signal: NodeJS.Signals) => {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  };
  kill(-vs.pgid, 'SIGTERM');
  await waitFor('code-server to end', () => leftovers(vs).length === 0, 10_000).catch(() => undefined);
  const survivors = leftovers(vs);
  kill(-vs.pgid, 'SIGKILL');
  for (const p of processes()) if (p.cmdline.includes(vs.root)) kill(p.pid, 'SIGKILL');
  return survivors;
}
