// What `tasklens doctor` looks at. The /proc and /sys readers take the directory to read from,
// so that tests can hand them fake files (a ptrace scope, capabilities) this machine does not have.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoveryDir } from '../agent/discovery';
import { pythonsOnPath } from '../agent/findPython';
import { MIN_VERSION } from '../agent/python';
import { gdbUnusable } from '../inject/gdbCheck';
import { supportedMinors } from '../procmem/offsets';

export interface Check {
  /** Stable name for scripts: `node`, `python`, `ptrace-scope`, `ptrace-read`, `gdb`, `runtime-dir`. */
  id: string;
  ok: boolean;
  /** A failed required check means tasklens cannot debug at all here (exit status 1). */
  required: boolean;
  summary: string;
  /** What to do about it, when not ok (or to get more). */
  fix?: string;
  details?: string[];
  data?: Record<string, unknown>;
}

const CAP_SYS_PTRACE = 19;

/** `kernel.yama.ptrace_scope`, or null when the kernel has no Yama (classic ptrace rules). */
export function readPtraceScope(proc = '/proc'): number | null {
  try {
    const n = Number(fs.readFileSync(path.join(proc, 'sys/kernel/yama/ptrace_scope'), 'utf8').trim());
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}

/** Whether `pid`'s effective capabilities (CapEff in /proc/PID/status) include CAP_SYS_PTRACE. */
export function hasPtraceCapability(proc = '/proc', pid: number | 'self' = 'self'): boolean {
  try {
    const status = fs.readFileSync(path.join(proc, String(pid), 'status'), 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(CAP_SYS_PTRACE)) & 1n) === 1n;
  } catch {
    return false;
  }
}

const SCOPE_MEANING: Record<number, string> = {
  0: 'any process of the same user may be read and attached to',
  1: 'only descendants, unless the reader has CAP_SYS_PTRACE',
  2: 'only with CAP_SYS_PTRACE (root)',
  3: 'nobody, not even root, until reboot',
};

export function ptraceScopeCheck(scope: number | null, capable: boolean): Check {
  if (scope === null) {
    return { id: 'ptrace-scope', ok: true, required: false, summary: 'no Yama ptrace restrictions (kernel.yama.ptrace_scope absent): same-user processes can be read', data: { scope } };
  }
  const meaning = SCOPE_MEANING[scope] ?? 'unknown value';
  const ok = scope === 0 || (capable && scope < 3);
  return {
    id: 'ptrace-scope', ok, required: false, data: { scope, capSysPtrace: capable },
    summary: `kernel.yama.ptrace_scope = ${scope}: ${meaning}${capable ? '; this user has CAP_SYS_PTRACE' : ''}`,
    fix: ok ? undefined : scope === 3
      ? 'ps/pstree of processes not started by tasklens and attach by PID cannot work until reboot with a lower scope'
      : 'for ps/pstree and attach by PID on processes tasklens did not start: `sudo sysctl kernel.yama.ptrace_scope=0`, or run tasklens with sudo (in a container: --cap-add SYS_PTRACE)',
  };
}

/**
 * Tries what `ps` does: open /proc/PID/mem of a process that is not our descendant (a `sleep`
 * whose parent has exited). The kernel applies the same check as for a ptrace attach.
 */
export async function ptraceReadCheck(): Promise<Check> {
  const id = 'ptrace-read';
  let pid: number | undefined;
  try {
    pid = await orphanSleep();
    fs.closeSync(fs.openSync(`/proc/${pid}/mem`, 'r'));
    return { id, ok: true, required: false, summary: 'this user can read another process\'s memory (opened /proc/PID/mem of a process it did not start)' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      id, ok: false, required: false,
      summary: `this user cannot read another process's memory (${code ?? (err instanceof Error ? err.message : String(err))})`,
      fix: 'ps/pstree of a process tasklens did not start, and attach by PID, need it: see kernel.yama.ptrace_scope above; run as the same user as the target',
    };
  } finally {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** A `sleep` reparented away from us: its shell parent printed its pid and exited. */
function orphanSleep(): Promise<number> {
  return new Promise((resolve, reject) => {
    const sh = spawn('/bin/sh', ['-c', 'sleep 30 </dev/null >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    sh.stdout.on('data', (c: Buffer) => (out += c.toString()));
    sh.on('error', reject);
    sh.on('close', () => {
      const pid = Number(out.trim());
      if (Number.isInteger(pid) && pid > 0) resolve(pid);
      else reject(new Error('could not start a test process'));
    });
  });
}

const RUN_TIMEOUT_MS = 30_000;

/** stdout, or null and why not: the first line of stderr (a version manager's shim says why there). */
function run(file: string, args: string[]): Promise<{ stdout: string | null; why: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout: String(stdout), why: '' });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.killed ? `no answer within ${RUN_TIMEOUT_MS / 1000} s`
        : String(stderr).trim().split('\n')[0] || (typeof e.code === 'string' ? e.code : `exit status ${String(e.code)}`);
      resolve({ stdout: null, why });
    });
  });
}

export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not here.
    }
  }
  return null;
}

export async function gdbCheck(): Promise<Check> {
  const gdb = findOnPath('gdb');
  const version = gdb ? (await run(gdb, ['--version'])).stdout?.split('\n')[0] : undefined;
  if (gdb && version) {
    // It runs; whether it can call into a process here and give it back intact (gdbCheck.ts).
    const unusable = await gdbUnusable(gdb);
    if (unusable === undefined) return { id: 'gdb', ok: true, required: false, summary: `gdb: ${version} (${gdb})`, data: { path: gdb, version } };
    return {
      id: 'gdb', ok: false, required: false, summary: `gdb: ${version} (${gdb}) cannot give a process back its registers on this CPU (${unusable})`,
      fix: 'attach by PID to Python 3.11-3.13 (and to a 3.14+ process stuck in C) needs gdb 14 or newer here; tasklens does not use this one', data: { path: gdb, version, unusable },
    };
  }
  return {
    id: 'gdb', ok: false, required: false, summary: gdb ? `gdb at ${gdb} does not run` : 'gdb: not found on PATH',
    fix: 'attach by PID to Python 3.11-3.13 (and to a 3.14+ process stuck in C) uses it: install the Debian package gdb',
  };
}

export function nodeCheck(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  const ok = major >= 20;
  return { id: 'node', ok, required: true, summary: `Node.js ${version}${ok ? '' : ' is too old'}`, fix: ok ? undefined : 'install Node.js 20 or newer', data: { version } };
}

/** The directory of discovery files: it holds tokens that let anyone who reads them drive a program. */
export function runtimeDirCheck(dir = discoveryDir(), uid = process.getuid?.()): Check {
  const id = 'runtime-dir';
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    const parent = path.dirname(dir);
    try {
      fs.accessSync(parent, fs.constants.W_OK);
      return { id, ok: true, required: true, summary: `runtime directory ${dir}: not there yet; it is created private (0700) on first use`, data: { dir } };
    } catch {
      return { id, ok: false, required: true, summary: `runtime directory ${dir} cannot be created (${parent} is not writable)`, fix: 'set XDG_RUNTIME_DIR to a private directory of yours', data: { dir } };
    }
  }
  const mode = st.mode & 0o777;
  const problems: string[] = [];
  if (!st.isDirectory()) problems.push('it is not a directory');
  if (uid !== undefined && st.uid !== uid) problems.push(`it belongs to user ${st.uid}, not to you (${uid})`);
  if ((mode & 0o077) !== 0) problems.push(`its mode is 0${mode.toString(8)}, readable by others`);
  if (problems.length === 0) return { id, ok: true, required: true, summary: `runtime directory ${dir}: private (mode 0${mode.toString(8)}, yours)`, data: { dir } };
  return {
    id, ok: false, required: true, summary: `runtime directory ${dir}: ${problems.join('; ')}`, data: { dir },
    fix: st.isDirectory() && st.uid === uid ? `chmod 700 ${dir}` : `remove ${dir}, or set XDG_RUNTIME_DIR to a private directory of yours`,
  };
}

const PYTHON_PROBE = [
  'import sys, json, importlib.util, sysconfig',
  'print(json.dumps({"version": ".".join(map(str, sys.version_info[:3])), "implementation": sys.implementation.name,',
  ' "remoteExec": hasattr(sys, "remote_exec"),',
  ' "remoteDebugEnabled": sys.is_remote_debug_enabled() if hasattr(sys, "is_remote_debug_enabled") else None,',
  ' "freeThreaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),',
  ' "uvloop": importlib.util.find_spec("uvloop") is not None}))',
].join('\n');

interface PythonFacts {
  version: string;
  implementation: string;
  remoteExec: boolean;
  remoteDebugEnabled: boolean | null;
  freeThreaded: boolean;
  uvloop: boolean;
}

async function inBatches<T, R>(items: T[], size: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return out;
}

/** One check per interpreter file on PATH; names that lead to the same file share it. */
export async function pythonChecks(defaultPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const byFile = new Map<string, { names: string[]; path: string }>();
  for (const p of pythonsOnPath(env)) {
    let real = p.path;
    try {
      real = fs.realpathSync(p.path);
    } catch {
      // Keep the PATH entry.
    }
    const entry = byFile.get(real);
    if (entry) entry.names.push(p.name);
    else byFile.set(real, { names: [p.name], path: p.path });
  }
  // A few at a time: a version manager's shims can take a second each to answer.
  const checks = await inBatches([...byFile], 4, async ([real, { names, path: file }]) => {
    const { stdout, why } = await run(file, ['-c', PYTHON_PROBE]);
    let facts: PythonFacts | string;
    try {
      facts = stdout === null ? why : (JSON.parse(stdout) as PythonFacts);
    } catch {
      facts = 'it does not answer like a Python';
    }
    return pythonCheck(names, file, real, facts, defaultPath !== undefined && fs.realpathSync(defaultPath) === real);
  });
  if (checks.length === 0) {
    checks.push({ id: 'python', ok: false, required: true, summary: 'no python3 or python3.N on PATH', fix: `install CPython ${MIN_VERSION.join('.')} or newer (Debian: python3)` });
  }
  return checks;
}

/**
 * Whether `ps`, `pstree` and `dump` read a plain process of this Python (docs/ps.md): a default
 * build of every version procmem has a layout for, through /proc/PID/mem, which the kernel opens
 * to whoever may ptrace the process (the ptrace checks say whether this user may).
 */
export function fromOutside(minor: number, freeThreaded: boolean): string {
  const newest = Math.max(...supportedMinors());
  if (freeThreaded) return 'through the agent: start the program with `tasklens run` (a free-threaded build is not read from memory)';
  if (minor > newest) return `through the agent: start the program with \`tasklens run\` (memory is read up to 3.${newest})`;
  return 'yes, read from memory (where this user may read the process: see the ptrace checks)';
}

/** `facts` is what the interpreter told about itself, or why it could not be asked. */
export function pythonCheck(names: string[], file: string, real: string, facts: PythonFacts | string, isDefault: boolean): Check {
  const where = `${names.join(', ')}  ${file}${real !== file ? ` -> ${real}` : ''}`;
  if (typeof facts === 'string') {
    return {
      id: 'python', ok: false, required: false, summary: `${where}: does not run${facts ? ` (${facts})` : ''}`, data: { names, path: file },
      fix: 'tasklens skips it; repair it (or select that version in your version manager) only if you want to use it',
    };
  }
  const [major, minor] = facts.version.split('.').map(Number);
  const data = { names, path: file, ...facts, default: isDefault };
  const title = `Python ${facts.version}  ${where}${isDefault ? '  (used by default)' : ''}`;
  if (facts.implementation !== 'cpython') {
    return { id: 'python', ok: false, required: false, summary: `${title}: ${facts.implementation}, not CPython`, fix: 'tasklens debugs CPython only', data };
  }
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    return { id: 'python', ok: false, required: false, summary: `${title}: too old`, fix: `tasklens needs ${MIN_VERSION.join('.')} or newer: install a newer python3.N, or pass --python / the launch argument "python"`, data };
  }
  const remote = !facts.remoteExec ? 'no (3.14+): attach by PID uses gdb'
    : facts.remoteDebugEnabled === false ? 'disabled (PYTHON_DISABLE_REMOTE_DEBUG, -X disable_remote_debug, or built without it)' : 'yes, enabled';
  const details = [
    `tracing backend: ${minor >= 12 ? 'monitoring (sys.monitoring)' : 'hooked (3.11 has no sys.monitoring)'}`,
    `sys.remote_exec: ${remote}`,
    `ps/pstree/dump from outside: ${fromOutside(minor, facts.freeThreaded)}`,
    `uvloop: ${facts.uvloop ? 'importable' : 'not installed (only needed by programs that use it)'}`,
  ];
  return { id: 'python', ok: true, required: false, summary: title, details, data: { ...data, backend: minor >= 12 ? 'monitoring' : 'hooked' } };
}
