// The two ways code gets into a running CPython (docs/attach.md). `sys.remote_exec` (3.14+),
// run by the target's own interpreter, needs no other tool but runs only when the main thread
// runs bytecode or its blocking call fails with EINTR; gdb runs it on a thread blocked in a
// system call (or leaves it as a pending call of a busy program) on every version. Both are
// short-lived child processes with a deadline: nothing here waits past it.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentDir } from '../agent/paths';

export interface InjectResult {
  ok: boolean;
  /** remote_exec: disabled, permission, gone, failed; gdb: failed, timeout. */
  error?: string;
  message?: string;
}

const HELPER_MS = 5_000;
const GDB_MS = 6_000;
/** From gdb's SIGINT to its SIGKILL. */
const GDB_GRACE_MS = 1_500;
const GDB_CANDIDATES = ['/usr/bin/gdb', '/usr/local/bin/gdb', '/bin/gdb'];

function helper(name: string): string {
  return path.join(agentDir(), 'inject', name);
}

/** Asks the target's own interpreter to `sys.remote_exec` the script in `pid`, then wakes it. */
export function viaRemoteExec(executable: string, pid: number, script: string): Promise<InjectResult> {
  return new Promise((resolve) => {
    execFile(executable, ['-I', '-S', helper('remote_exec.py'), String(pid), script], { timeout: HELPER_MS }, (err, stdout) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const body = JSON.parse(line) as { ok?: boolean; error?: string; message?: string };
        resolve({ ok: body.ok === true, error: body.error, message: body.message });
      } catch {
        resolve({ ok: false, error: 'failed', message: err ? err.message.split('\n')[0] : `unexpected output: ${line.slice(0, 200)}` });
      }
    });
  });
}

/** TASKLENS_GDB when set (empty: never use gdb), else gdb on PATH or in the usual places, or null. */
export function findGdb(): string | null {
  const chosen = process.env.TASKLENS_GDB;
  if (chosen !== undefined) return chosen === '' ? null : chosen;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'gdb'));
  for (const candidate of [...dirs, ...GDB_CANDIDATES]) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * gdb's command line that runs gdb_inject.py in `pid`, with `extra` commands before it (the
 * tests' breakpoints). No debug info is read (minutes on a debug build; the calls need only
 * exported symbols), no debuginfod download, no auto-loaded scripts of the target.
 */
export function gdbArgs(pid: number, extra: string[] = []): string[] {
  return [...gdbQuietArgs(pid), ...extra, '-x', helper('gdb_inject.py')];
}

/** gdb in batch mode on `pid`, reading nothing of its own or the target's (see gdbArgs). */
export function gdbQuietArgs(pid: number): string[] {
  return ['-nx', '-batch', '--readnever', '-iex', 'set debuginfod enabled off', '-iex', 'set auto-load off', '-p', String(pid)];
}

/**
 * Runs the code in `codeFile` inside `pid` through gdb. Past the deadline, or when `stop` aborts
 * (the attach gave up), gdb gets SIGINT, which unwinds a call still waiting (for the GIL) and
 * lets gdb detach; SIGKILL only if it ignores that. Resolves once gdb is gone.
 */
export function viaGdb(gdb: string, pid: number, codeFile: string, stop: AbortSignal): Promise<InjectResult> {
  return new Promise((resolve) => {
    const args = gdbArgs(pid);
    const child = execFile(gdb, args, { env: { ...process.env, TASKLENS_INJECT_CODE: codeFile }, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      exited = true;
      clearTimeout(interrupt);
      clearTimeout(kill);
      stop.removeEventListener('abort', interruptNow);
      const done = /^TASKLENS (.*)$/m.exec(stdout);
      if (done) {
        const body = JSON.parse(done[1]) as { result: number };
        resolve(body.result === 0 ? { ok: true } : { ok: false, error: 'failed', message: 'the injected code raised in the program' });
        return;
      }
      const text = `${stdout}\n${stderr}`;
      if (timedOut) resolve({ ok: false, error: 'timeout', message: 'no thread of the program could take the GIL' });
      else if (/ptrace: Operation not permitted/.test(text)) resolve({ ok: false, error: 'permission', message: 'ptrace: Operation not permitted' });
      else if (/No such process/.test(text)) resolve({ ok: false, error: 'gone', message: 'the process exited' });
      else resolve({ ok: false, error: 'failed', message: lastError(text) ?? (err ? err.message.split('\n')[0] : 'gdb failed') });
    });
    let timedOut = false;
    let exited = false;
    let kill: NodeJS.Timeout | undefined;
    const interruptNow = () => {
      clearTimeout(interrupt);
      if (timedOut || exited) return;
      timedOut = true;
      child.kill('SIGINT');
      kill = setTimeout(() => child.kill('SIGKILL'), GDB_GRACE_MS);
    };
    const interrupt = setTimeout(interruptNow, GDB_MS);
    stop.addEventListener('abort', interruptNow, { once: true });
  });
}

function lastError(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => /error|Error|cannot|No symbol/.test(l) && !/^warning/.test(l));
  return lines.pop();
}
