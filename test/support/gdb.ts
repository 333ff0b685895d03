// Whether attach by PID can use gdb on this machine (src/inject/gdbCheck.ts: gdb 13 on an Intel
// AMX CPU would crash the program, so tasklens refuses to use it). A test that attaches to a
// program that only gdb can reach (Python 3.11-3.13) cannot run on such a machine: it is
// skipped, saying why, rather than failed. `it` (matrix.ts) and `skippable` turn the
// MachineSkip thrown from here into node:test's skip.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './paths';

/** Thrown by a test's setup when this machine cannot run the test. */
export class MachineSkip extends Error {}

let verdict: string | null | undefined;
const minors = new Map<string, number>();

/** Why this machine's gdb cannot be used by attach by PID, or null when it can (or is absent). */
export function gdbUnusableHere(): string | null {
  if (verdict === undefined) {
    const check = path.join(ROOT, 'dist', 'src', 'inject', 'gdbCheck.js');
    const methods = path.join(ROOT, 'dist', 'src', 'inject', 'methods.js');
    const script = `const g = require(${JSON.stringify(methods)}).findGdb();
      (g ? require(${JSON.stringify(check)}).gdbUnusable(g) : Promise.resolve(undefined)).then((r) => process.stdout.write(r ?? ''));`;
    verdict = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }) || null;
  }
  return verdict;
}

function minorOf(python: string): number {
  let minor = minors.get(python);
  if (minor === undefined) {
    minor = Number(execFileSync(python, ['-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8' }).trim());
    minors.set(python, minor);
  }
  return minor;
}

/** Throws MachineSkip when attaching to `python` by PID needs a gdb this machine cannot use. */
export function needsGdbFor(python: string): void {
  if (minorOf(python) >= 14) return;
  const why = gdbUnusableHere();
  if (why !== null) throw new MachineSkip(`attach by PID to Python 3.${minorOf(python)} needs gdb, which cannot give a process back its registers on this machine's CPU (${why})`);
}

/** A test body whose MachineSkip becomes node:test's skip with its reason. */
export function skippable(body: () => Promise<void>): (t: { skip(message?: string): void }) => Promise<void> {
  return async (t) => {
    try {
      await body();
    } catch (err) {
      if (!(err instanceof MachineSkip)) throw err;
      t.skip(err.message);
    }
  };
}

/**
 * Throws MachineSkip when the program's main thread waits where only gdb reaches it (a lock, a
 * sleep, uvloop's idle loop: docs/attach.md) and this machine's gdb cannot be used: then not even
 * 3.14's `sys.remote_exec` gets the agent in.
 */
export function needsGdbToReach(where: string): void {
  const why = gdbUnusableHere();
  if (why !== null) throw new MachineSkip(`a main thread ${where} is reached only by gdb, which cannot give a process back its registers on this machine's CPU (${why})`);
}
