// Each way `tasklens ps|pstree` can fail to read a process gives one clear message and its own
// non-zero exit status.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture, MAIN_JS } from './support/paths';
import { Running, startReady, tasklens } from './ps_fixture';

async function withProcess(cmd: string, args: string[], body: (p: Running) => Promise<void>): Promise<void> {
  const p = await startReady(cmd, args);
  try {
    await body(p);
  } finally {
    await p.stop();
  }
}

const PARK = 'import asyncio, time; print("ready", flush=True); time.sleep(60)';

describe('ps and pstree errors', () => {
  test('no such process', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    for (const cmd of ['ps', 'pstree']) {
      const r = await tasklens([cmd, String(child.pid)]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`no such process: ${child.pid}`));
    }
  });

  test('a process that has exited and waits to be reaped (a zombie): says so, status 10', async () => {
    // sh starts python in the background, then becomes `sleep`, which never reaps it
    const parent = spawn('sh', ['-c', 'python3 -c pass & echo "child $!"; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
      const pid = Number(/child (\d+)/.exec(line.toString())![1]);
      for (let i = 0; i < 100 && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1')); i++) await new Promise((r) => setTimeout(r, 50));
      for (const cmd of ['ps', 'pstree', 'dump']) {
        const r = await tasklens([cmd, String(pid)]);
        assert.equal(r.code, 10, r.stderr);
        assert.match(r.stderr, new RegExp(`process ${pid} has exited \\(its parent has not reaped it yet\\)`));
      }
    } finally {
      parent.kill('SIGKILL');
      await once(parent, 'exit');
    }
  });

  test('not a Python process', async () => {
    await withProcess('sh', ['-c', 'echo ready; exec sleep 60'], async (p) => {
      const r = await tasklens(['ps', String(p.pid)]);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /is not a Python process/);
    });
  });

  // Any CPython older than 3.11 will do; pyenv images carry one.
  const OLD_PYTHON = '/root/.pyenv/versions/3.10.13/bin/python3.10';
  const noOld = fs.existsSync(OLD_PYTHON) ? false : `no CPython older than 3.11 on this machine (${OLD_PYTHON})`;
  test('a Python too old to be read from outside (3.10)', { skip: noOld }, async () => {
    await withProcess(OLD_PYTHON, ['-c', PARK], async (p) => {
      for (const cmd of ['pstree', 'dump']) {
        const r = await tasklens([cmd, String(p.pid)]);
        assert.equal(r.code, 6, r.stderr);
        assert.match(r.stderr, /^tasklens: process \d+ runs Python 3\.10: tasklens reads CPython 3\.11 and newer from outside\.\n$/);
      }
    });
  });

  test('a free-threaded build is refused', { skip: 'no free-threaded CPython build on this machine' }, () => undefined);

  test('permission denied explains ptrace', async () => {
    const py = pythons().find((p) => p.version.startsWith('3.14'));
    assert.ok(py, 'CPython 3.14 is in the matrix');
    // As root, read a root-owned target as an unprivileged user; otherwise read a process
    // owned by root (pid 1) as ourselves.
    const asRoot = process.getuid?.() === 0;
    const prefix = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const check = async (pid: number) => {
      for (const cmd of ['ps', 'dump']) {
        const r = await tasklens([cmd, String(pid)], prefix);
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /permission denied/);
        assert.match(r.stderr, /ptrace_scope/);
        assert.match(r.stderr, /CAP_SYS_PTRACE/);
      }
    };
    if (asRoot) await withProcess(py.path, [fixture('ps_cycle.py')], (p) => check(p.pid));
    else await check(1);
  });

  test('a Python process without asyncio has no tasks', async () => {
    const py = pythons().find((p) => p.version.startsWith('3.15'));
    assert.ok(py, 'CPython 3.15 is in the matrix');
    await withProcess(py.path, ['-c', 'import time; print("ready", flush=True); time.sleep(60)'], async (p) => {
      const r = await tasklens(['ps', '--json', String(p.pid)]);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { tasks: unknown[]; pythonVersion: string };
      assert.deepEqual(doc.tasks, []);
      assert.match(doc.pythonVersion, /^3\.15\./);
    });
  });

  test('a bad pid argument is refused', async () => {
    const r = await tasklens(['ps', 'abc']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /positive integer/);
  });

  test('--wide with --width: refused, status 2, naming both (which should win is not ours to guess)', async () => {
    for (const command of ['ps', 'pstree']) {
      const r = await tasklens([command, String(process.pid), '--wide', '--width', '50']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^tasklens: option '--wide' cannot be used with option '--width <n>'/);
    }
  });

  test('a reader that stops early (`tasklens ps PID | head`) ends tasklens quietly', async () => {
    const py = pythons().find((p) => p.version.startsWith('3.14'));
    assert.ok(py, 'CPython 3.14 is in the matrix');
    // 2,000 tasks: far more output than a pipe holds, so tasklens is still writing when it goes.
    await withProcess(py.path, [fixture('ps_many.py'), '2000'], async (p) => {
      for (const cmd of ['ps', 'pstree']) {
        const child = spawn(process.execPath, [MAIN_JS, cmd, String(p.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.once('data', () => child.stdout.destroy());
        const [code] = (await once(child, 'exit')) as [number | null];
        assert.equal(code, 0, `${cmd}: ${stderr}`);
        assert.equal(stderr, '', cmd);
      }
    });
  });

  test('nobody reading stderr (`COLUMNS=50 tasklens ps PID 2>&1 >/dev/null | true`): the note of columns left out is dropped, the table written, status 0', async () => {
    await withProcess(pythons()[0].path, [fixture('ps_many.py'), '3'], async (p) => {
      const child = spawn(process.execPath, [MAIN_JS, 'ps', String(p.pid)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '50' } });
      // Closed long before tasklens has read the process and writes its note.
      child.stderr.destroy();
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, 'no internal error (70) for a note nobody reads');
      assert.match(stdout, /^task name +state +coroutine stack\n/);
      assert.equal(stdout.split('\n').filter((l) => /\bleaf\b/.test(l)).length, 3, stdout);
    });
  });
});
