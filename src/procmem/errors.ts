// Every failure to read a target is one of these codes, so the CLI can print one clear message
// and pick an exit status without parsing text.
import * as fs from 'node:fs';

export type ProcErrorCode =
  | 'no-such-process'
  | 'permission-denied'
  | 'not-python'
  | 'unsupported-python'
  | 'free-threaded'
  | 'no-asyncio'
  | 'bad-layout'
  | 'read-failed'
  | 'exited';

export class ProcError extends Error {
  constructor(
    readonly code: ProcErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProcError';
  }
}

export function permissionDenied(pid: number, what: string): ProcError {
  return new ProcError(
    'permission-denied',
    `permission denied reading ${what} of process ${pid}.\n` +
      'Reading another process\'s memory needs ptrace permission over it: run tasklens as the same ' +
      'user as the target (or as root), and check kernel.yama.ptrace_scope ' +
      '(cat /proc/sys/kernel/yama/ptrace_scope): 0 lets any process of the same user read it, ' +
      '1 (the usual default) allows only descendants unless you have CAP_SYS_PTRACE — use ' +
      '`sudo tasklens ...` or `sudo sysctl kernel.yama.ptrace_scope=0`; 2 needs CAP_SYS_PTRACE; ' +
      '3 forbids it entirely. In a container, add the SYS_PTRACE capability.',
  );
}

export function noSuchProcess(pid: number): ProcError {
  return new ProcError('no-such-process', `no such process: ${pid}`);
}

/** True when the process is gone or a zombie: a read that failed may be the reason why. */
export function processGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return /\) [ZX] /.test(stat);
  } catch {
    return true;
  }
}

export function exitedMidRead(pid: number): ProcError {
  return new ProcError('exited', `process ${pid} exited while it was being read`);
}

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}
