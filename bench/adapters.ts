// The debug adapters the DAP benchmarks drive side by side (tasklens, and debugpy as the anchor)
// and a session over an adapter's own pipes: how each is started and launched lives here once,
// so that every benchmark measures them the same way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { repoRoot, StreamClient } from './support';

export interface Adapter {
  name: string;
  start(python: string): ChildProcess;
  launchArgs(python: string, program: string, args: string[]): DebugProtocol.LaunchRequestArguments;
}

export const tasklens: Adapter = {
  name: 'tasklens',
  start: () => spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] }),
  launchArgs: (python, program, args) => ({ program, args, python, justMyCode: true }) as DebugProtocol.LaunchRequestArguments,
};

export const debugpy: Adapter = {
  name: 'debugpy',
  start: (python) => spawn(python, ['-m', 'debugpy.adapter'], { stdio: ['pipe', 'pipe', 'inherit'] }),
  launchArgs: (python, program, args) => ({
    type: 'python', request: 'launch', program, args, python: [python], console: 'internalConsole', justMyCode: true,
  }) as DebugProtocol.LaunchRequestArguments,
};

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** "3.14": the interpreter's minor version. */
export function minorVersion(python: string): string {
  return spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
}

/** Whether `python` can import `module` (uvloop, debugpy: present on some interpreters only). */
export function imports(python: string, module: string): boolean {
  return spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs `body` with an initialized DAP client on a fresh adapter; afterwards the debuggee is
 * asked to end (3 s at most) and the adapter is killed, whatever `body` did.
 */
export async function withSession<T>(adapter: Adapter, python: string, timeoutMs: number, body: (dc: StreamClient) => Promise<T>): Promise<T> {
  const child = adapter.start(python);
  const dc = new StreamClient('unused', 'unused', 'python');
  dc.defaultTimeout = timeoutMs;
  dc.attachStreams(child.stdout as Readable, child.stdin as Writable);
  try {
    await dc.initializeRequest({ adapterID: 'python', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    return await body(dc);
  } finally {
    await Promise.race([dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined), sleep(3000)]);
    child.kill('SIGKILL');
  }
}
