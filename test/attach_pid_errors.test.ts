// Attach by process id when it cannot work: each case has its own DAP error code and a message
// that names the fix, and none waits long. Cases that need an interpreter run on the matrix.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ErrorCode } from '../src/dap/errors';
import { Harness, withAdapter } from './support/harness';
import { eachPython, it, TEST_TIMEOUT_MS } from './support/matrix';
import { skippable } from './support/gdb';
import { fixture, MAIN_JS, ROOT } from './support/paths';
import { attachError, attachTo, failure, killAllTargets, startProgram, startTarget, tied } from './attach_pid_support';

after(killAllTargets);

const BUSY = fixture('attach_busy.py');

/** A process whose mapped executable is named like an interpreter it is not (the checks read names). */
async function fakePython(name: string): Promise<{ pid: number; kill: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-fake-'));
  const exe = path.join(dir, name);
  fs.copyFileSync('/bin/sleep', exe);
  fs.chmodSync(exe, 0o755);
  const child = spawn('setpriv', tied(exe, '60'), { detached: true, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 100));
  return {
    pid: child.pid!,
    kill: () => {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A free-threaded interpreter (python3.Nt) on PATH or beside the matrix's, if the machine has one. */
function findFreeThreaded(): string | undefined {
  const cache = path.join(ROOT, '.cache', 'pythons');
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...(fs.existsSync(cache) ? fs.readdirSync(cache).map((v) => path.join(cache, v, 'usr', 'bin')) : [])];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const name = names.find((n) => /^python3\.\d+t$/.test(n));
    if (name) return path.join(dir, name);
  }
  return undefined;
}

describe('attach by pid: errors without an interpreter', () => {
  it('no such process', async () => {
    await withAdapter(async (h) => {
      const err = await attachError(h, { processId: 999_999_999 });
      assert.equal(err.code, ErrorCode.AttachNoSuchProcess, err.message);
      assert.match(err.message, /No process 999999999/);
    });
  });

  it('not a Python process', async () => {
    const child = spawn('setpriv', tied('sleep', '60'), { detached: true, stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: child.pid });
        assert.equal(err.code, ErrorCode.AttachNotPython, err.message);
        assert.match(err.message, /not a Python process/);
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('Python older than 3.11', async () => {
    const old = await fakePython('python3.9');
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: old.pid });
        assert.equal(err.code, ErrorCode.AttachPythonUnsupported, err.message);
        assert.match(err.message, /Python 3\.9; tasklens attaches to CPython 3\.11 and newer/);
      });
    } finally {
      old.kill();
    }
  });

  it('a free-threaded build (a stand-in named python3.14t)', async () => {
    const fake = await fakePython('python3.14t');
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: fake.pid });
        assert.equal(err.code, ErrorCode.AttachFreeThreaded, err.message);
        assert.match(err.message, /free-threaded build of Python 3\.14/);
      });
    } finally {
      fake.kill();
    }
  });

  const freeThreaded = findFreeThreaded();
  test('a free-threaded build (a real one)', {
    timeout: TEST_TIMEOUT_MS,
    skip: freeThreaded ? false : 'no free-threaded CPython on this machine (no python3.Nt on PATH or in .cache/pythons, none in the Debian suite the matrix comes from); the stand-in above checks the same refusal',
  }, async () => {
    const target = await startProgram(freeThreaded!, BUSY);
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachFreeThreaded, err.message);
      });
    } finally {
      target.kill();
    }
  });

  it('a "processId" that is not a number', async () => {
    await withAdapter(async (h) => {
      const err = await attachError(h, { processId: 'abc' });
      assert.equal(err.code, ErrorCode.BadArguments, err.message);
    });
  });
});

/** A DebugClient on an adapter run as user nobody (setpriv), which may not trace root's processes. */
async function asNobody(body: (dc: DebugClient) => Promise<void>): Promise<void> {
  const adapter = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MAIN_JS, 'dap'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
  const dc = new DebugClient(process.execPath, MAIN_JS, 'tasklens');
  (dc as unknown as { connect(r: NodeJS.ReadableStream, w: NodeJS.WritableStream): void }).connect(adapter.stdout!, adapter.stdin!);
  try {
    await body(dc);
  } finally {
    adapter.kill('SIGKILL');
  }
}

eachPython('attach by pid: errors', (py) => {
  const isRoot = process.getuid?.() === 0;
  test('ptrace not permitted: another user\'s process', { timeout: TEST_TIMEOUT_MS, skip: isRoot ? false : 'needs root to start the adapter as another user' }, skippable(async () => {
    const target = await startTarget(py.path, BUSY);
    try {
      await asNobody(async (dc) => {
        await dc.initializeRequest();
        const send = dc as unknown as { doSend(command: string, args: object, done: (r: DebugProtocol.Response) => void): void };
        const err = failure(await new Promise<DebugProtocol.Response>((resolve) => send.doSend('attach', { processId: target.pid }, resolve)));
        assert.equal(err.code, ErrorCode.AttachNotPermitted, err.message);
        assert.match(err.message, /ptrace_scope/);
      });
    } finally {
      target.kill();
    }
  }));

  it('a second debugger is refused while one is attached', async () => {
    const target = await startTarget(py.path, BUSY);
    try {
      await withAdapter(async (first) => {
        await attachTo(first, target.pid);
        const second = await Harness.start();
        try {
          const err = await attachError(second, { processId: target.pid });
          assert.equal(err.code, ErrorCode.AttachAlreadyAttached, err.message);
          assert.match(err.message, /Another debugger is already attached/);
        } finally {
          await second.close();
        }
        // The first session is untouched by the refusal.
        assert.ok((await first.dc.threadsRequest()).body.threads.length > 0);
      });
    } finally {
      target.kill();
    }
  });

  it('the process exits during the attach', async () => {
    const target = await startTarget(py.path, fixture('attach_exits.py'));
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachProcessExited, err.message);
        assert.match(err.message, /exited during the attach/);
      });
    } finally {
      target.kill();
    }
  });

  it('the GIL held by a thread that never releases it', async () => {
    const target = await startTarget(py.path, fixture('attach_gil_held.py'));
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachNoResponse, err.message);
        assert.match(err.message, /hold the GIL in native code.*`tasklens ps \d+` and `tasklens dump \d+` read its threads/s);
        // gdb gave up and left: the program is neither stopped nor traced.
        assert.match(fs.readFileSync(`/proc/${target.pid}/status`, 'utf8'), /^TracerPid:\s+0$/m);
      });
    } finally {
      target.kill();
    }
  });

  const minor = Number(py.version.split('.')[1]);
  test('remote debugging disabled in the target (-X disable-remote-debug)', { timeout: TEST_TIMEOUT_MS, skip: minor >= 14 ? false : `${py.label} has no remote debugging switch (3.14+)` }, async () => {
    const target = await startTarget(py.path, BUSY, [], ['-X', 'disable-remote-debug']);
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachRemoteDebugDisabled, err.message);
        assert.match(err.message, /remote debugging disabled/);
      });
    } finally {
      target.kill();
    }
  });

  test('gdb needed but missing (TASKLENS_GDB empty)', { timeout: TEST_TIMEOUT_MS, skip: minor < 14 ? false : `${py.label} attaches without gdb` }, async () => {
    const target = await startProgram(py.path, BUSY);
    try {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachGdbMissing, err.message);
        assert.match(err.message, /needs gdb, which is not installed: install gdb/);
      }, { env: { ...process.env, TASKLENS_GDB: '' } });
    } finally {
      target.kill();
    }
  });
});
