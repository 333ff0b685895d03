// Whether gdb can call a function in a process on this machine and hand the process back as it
// found it. gdb 13 (Debian 12's) cannot on a CPU whose extended register state is larger than the
// layouts it knows (Intel's AMX, Sapphire Rapids and later): the kernel takes that state back
// only whole, gdb's write of it fails ("Couldn't write extended state status: Bad address"), and
// the process is left broken: the system call it was in fails with an error its C library never
// expects, and glibc aborts it ("The futex facility returned an unexpected error code"). An
// attach must never kill the program it was asked to look at, so before gdb goes into one, gdb
// calls a function in a throwaway `sleep` of our own. The verdict is kept in the runtime
// directory per gdb, kernel and CPU: the check costs a few hundred milliseconds once.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoveryDir } from '../agent/discovery';
import { gdbQuietArgs } from './methods';

const CHECK_MS = 6_000;
const CACHE = 'gdb-check.json';

/** Why this gdb must not be used on this machine, or undefined when it may (or could not be told). */
export async function gdbUnusable(gdb: string): Promise<string | undefined> {
  const key = machineKey(gdb);
  const file = path.join(discoveryDir(), CACHE);
  try {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { key?: string; unusable?: string | null };
    if (kept.key === key) return kept.unusable ?? undefined;
  } catch {
    // none kept yet
  }
  const verdict = await callInThrowaway(gdb);
  if (verdict.known) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, JSON.stringify({ key, unusable: verdict.unusable ?? null }), { mode: 0o600 });
    } catch {
      // not kept: checked again next time
    }
  }
  return verdict.unusable;
}

/** The message for a user whose gdb cannot be used here. */
export function gdbUnusableMessage(gdb: string, why: string): string {
  return `gdb (${gdb}) cannot give a process back its registers on this machine's CPU (${why}); ` +
    'it would crash the program, so it is not used: gdb 14 or newer handles such CPUs';
}

function machineKey(gdb: string): string {
  let stat = '';
  try {
    const s = fs.statSync(gdb);
    stat = `${s.size}:${s.mtimeMs}`;
  } catch {
    // an unreadable gdb: its run below says so
  }
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // no cpuinfo: the kernel and gdb still key it
  }
  return createHash('sha256').update([gdb, stat, os.release(), flags].join('\n')).digest('hex').slice(0, 32);
}

/** `known`: the check ran to a verdict (a gdb that cannot attach at all decides nothing here). */
async function callInThrowaway(gdb: string): Promise<{ known: boolean; unusable?: string }> {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  sleeper.on('error', () => undefined);
  try {
    const pid = sleeper.pid;
    if (pid === undefined || !(await execed(pid))) return { known: false };
    const args = [...gdbQuietArgs(pid), '-ex', 'call (int)getpid()'];
    const text = await new Promise<string>((resolve) => {
      execFile(gdb, args, { timeout: CHECK_MS }, (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    });
    const broken = /Couldn't write [^\n]*registers?[^\n]*|Couldn't write extended state[^\n]*/.exec(text);
    if (broken) return { known: true, unusable: broken[0].trim().replace(/\.$/, '') };
    if (new RegExp(`^\\$1 = ${pid}$`, 'm').test(text)) return { known: true };
    return { known: false };
  } finally {
    sleeper.kill('SIGKILL');
  }
}

/** Whether the throwaway runs `sleep` yet (gdb attached before its exec would call into a fork of Node). */
async function execed(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return true;
    } catch {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}
