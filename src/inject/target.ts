// What attaching needs to know of a process before touching it: that it exists, runs CPython
// 3.11+ (the interpreter mapped into it, by name), whose it is, and what its main thread is doing
// (the mechanism depends on it). Each problem is a UserError naming the fix (docs/attach.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, UserError } from '../dap/errors';
import { isZombie } from '../procmem/maps';

export interface AttachTarget {
  pid: number;
  minor: number;
  /** The interpreter binary to run helpers with: the target's own (same version, same build). */
  executable: string;
  uid: number;
  /** The main thread's system call number, or null when it runs (not in a system call). */
  mainSyscall: number | null;
  /** uvloop is loaded: its libuv loop retries a wait that ends with EINTR without running Python. */
  uvloop: boolean;
}

// x86-64 and arm64 numbers of the calls a ptrace interrupt ends with EINTR (an idle loop).
const EPOLL_WAITS: Record<string, number[]> = { x64: [232, 281, 441], arm64: [22, 441] };
const PYTHON_FILE = /(?:^|\/)(?:lib)?python(\d)\.(\d+)([a-z]*)(?:\.so[.\d]*|$)/;

export const PTRACE_HINT =
  'Attaching needs ptrace permission over the process: run tasklens as the same user (or root), ' +
  'check kernel.yama.ptrace_scope (0 allows any process of the same user; 1, the usual default, ' +
  'only descendants: `sudo sysctl kernel.yama.ptrace_scope=0` or run as root), and in a container ' +
  'add the SYS_PTRACE capability.';

export function inspectTarget(pid: number): AttachTarget {
  if (!Number.isInteger(pid) || pid <= 0) throw new UserError(ErrorCode.BadArguments, `"processId" must be a process id, not ${pid}.`);
  let uid: number;
  try {
    uid = fs.statSync(`/proc/${pid}`).uid;
  } catch {
    throw new UserError(ErrorCode.AttachNoSuchProcess, `No process ${pid} is running; check the id (\`tasklens ps\` lists Python processes).`);
  }
  let maps: string;
  try {
    maps = fs.readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') throw new UserError(ErrorCode.AttachProcessExited, `Process ${pid} exited before tasklens could attach.`);
    throw new UserError(ErrorCode.AttachNotPermitted, `Cannot attach to process ${pid} (user ${uid}): permission denied.\n${PTRACE_HINT}`);
  }
  if (maps === '' && isZombie(pid)) throw new UserError(ErrorCode.AttachProcessExited, `Process ${pid} has exited.`);
  const found = maps.split('\n').map((line) => PYTHON_FILE.exec(line.slice(line.indexOf('/')))).find((m) => m !== null);
  if (!found) {
    throw new UserError(ErrorCode.AttachNotPython, `Process ${pid} (${commandName(pid)}) is not a Python process: no CPython interpreter is loaded in it.`);
  }
  const minor = Number(found[2]);
  const version = `${found[1]}.${found[2]}`;
  if (found[1] !== '3' || minor < 11) {
    throw new UserError(ErrorCode.AttachPythonUnsupported, `Process ${pid} runs Python ${version}; tasklens attaches to CPython 3.11 and newer. Start the program with a newer Python, or read it with \`tasklens ps ${pid}\`.`);
  }
  if (found[3].includes('t')) {
    throw new UserError(ErrorCode.AttachFreeThreaded, `Process ${pid} runs a free-threaded build of Python ${version}, which tasklens cannot attach to yet; start it under \`tasklens run\` instead.`);
  }
  const uvloop = /\/uvloop\/loop\.[^/\n]*\.so$/m.test(maps);
  return { pid, minor, executable: executableOf(pid), uid, mainSyscall: mainSyscall(pid), uvloop };
}

/**
 * Whether a `sys.remote_exec` script will run soon: the main thread runs, or an idle asyncio
 * loop's wait is interrupted. A wait in uvloop (whose libuv loop waits again at once) or in a
 * lock or a sleep is known from /proc alone: gdb then goes in without waiting for the script.
 */
export function remoteExecWakes(target: AttachTarget): boolean {
  if (target.mainSyscall === null) return true;
  return !target.uvloop && (EPOLL_WAITS[process.arch] ?? []).includes(target.mainSyscall);
}

export function isGone(pid: number): boolean {
  return !fs.existsSync(`/proc/${pid}`) || isZombie(pid);
}

function commandName(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** The binary itself when it is still there, else the kernel's handle on it. */
function executableOf(pid: number): string {
  try {
    const real = fs.readlinkSync(`/proc/${pid}/exe`);
    if (!real.endsWith(' (deleted)') && path.isAbsolute(real) && fs.existsSync(real)) return real;
  } catch {
    // not readable: /proc/PID/exe below fails the same way, with its own message
  }
  return `/proc/${pid}/exe`;
}

function mainSyscall(pid: number): number | null {
  try {
    const first = fs.readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0].trim();
    const n = Number(first);
    return first === 'running' || !Number.isInteger(n) || n < 0 ? null : n;
  } catch {
    return null;
  }
}
