// A program started with plain python, not under tasklens, for the browser tests to attach to
// by PID: in a process group of its own, so that the test ends it and anything it started at
// once, pass or fail, and with its output kept, to see that it runs on after a detach.
import { spawn } from 'node:child_process';
import { waitFor } from './codeServer';

export interface Target {
  pid: number;
  /** Lines the program printed so far. */
  lines(): number;
  alive(): boolean;
  /** Kills the process group and waits until the program is gone. */
  kill(): Promise<void>;
}

/** Starts `python file marker` (the marker names it among other Pythons) and waits for its first line. */
export async function startTarget(python: string, file: string, marker: string, cwd: string): Promise<Target> {
  const child = spawn(python, [file, marker], { cwd, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let lines = 0;
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => {
    lines += chunk.toString().split('\n').length - 1;
  });
  child.on('exit', () => {
    exited = true;
  });
  const target: Target = {
    pid: child.pid!,
    lines: () => lines,
    alive: () => !exited,
    kill: async () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await waitFor('the attached program to end', () => exited);
    },
  };
  try {
    await waitFor('the program to start printing', () => lines > 0 || exited);
    if (exited) throw new Error(`${python} ${file} exited before printing`);
  } catch (err) {
    await target.kill();
    throw err;
  }
  return target;
}
