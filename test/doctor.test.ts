// `tasklens doctor`: its /proc readers against fake files (a ptrace scope and capabilities this
// machine does not have), the runtime directory check against real directories, and the
// command itself on this machine and on a PATH with no usable Python.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { hasPtraceCapability, ptraceScopeCheck, pythonCheck, readPtraceScope, runtimeDirCheck } from '../src/cli/doctorChecks';
import { MAIN_JS } from './support/paths';

function fakeProc(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-proc-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

interface Ran { code: number; stdout: string; stderr: string }

function tasklens(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { env, timeout: 150_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('doctor: the /proc readers', () => {
  test('kernel.yama.ptrace_scope: each value, and a kernel without Yama', () => {
    for (const scope of [0, 1, 2, 3]) {
      const root = fakeProc({ 'sys/kernel/yama/ptrace_scope': `${scope}\n` });
      try {
        assert.equal(readPtraceScope(root), scope);
      } finally {
        fs.rmSync(root, { recursive: true });
      }
    }
    const bare = fakeProc({});
    try {
      assert.equal(readPtraceScope(bare), null);
    } finally {
      fs.rmSync(bare, { recursive: true });
    }
  });

  test('CAP_SYS_PTRACE (bit 19) from CapEff', () => {
    const root = fakeProc({
      'self/status': 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000080000\n',
      '42/status': 'Name:\tx\nCapEff:\t000001ffffffffff\n',
      '43/status': 'Name:\tx\nCapEff:\t0000000000000000\n',
      '44/status': 'Name:\tx\nCapEff:\t00000000a80425fb\n',
    });
    try {
      assert.equal(hasPtraceCapability(root), true);
      assert.equal(hasPtraceCapability(root, 42), true);
      assert.equal(hasPtraceCapability(root, 43), false);
      // Docker's default set: no SYS_PTRACE.
      assert.equal(hasPtraceCapability(root, 44), false);
      assert.equal(hasPtraceCapability(root, 45), false);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });

  test('what each scope means for this user, with the fix where it fails', () => {
    assert.equal(ptraceScopeCheck(0, false).ok, true);
    const one = ptraceScopeCheck(1, false);
    assert.equal(one.ok, false);
    assert.match(one.fix ?? '', /ptrace_scope=0/);
    assert.equal(ptraceScopeCheck(1, true).ok, true);
    assert.equal(ptraceScopeCheck(2, true).ok, true);
    assert.equal(ptraceScopeCheck(2, false).ok, false);
    const three = ptraceScopeCheck(3, true);
    assert.equal(three.ok, false);
    assert.match(three.fix ?? '', /reboot/);
    assert.equal(ptraceScopeCheck(null, false).ok, true);
  });
});

describe('doctor: the runtime directory', () => {
  test('private, readable by others, missing', () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-rt-'));
    try {
      const dir = path.join(parent, 'tasklens');
      assert.match(runtimeDirCheck(dir).summary, /created private/);
      fs.mkdirSync(dir, { mode: 0o700 });
      assert.equal(runtimeDirCheck(dir).ok, true);
      fs.chmodSync(dir, 0o755);
      const open = runtimeDirCheck(dir);
      assert.equal(open.ok, false);
      assert.match(open.summary, /mode is 0755, readable by others/);
      assert.equal(open.fix, `chmod 700 ${dir}`);
      const other = runtimeDirCheck(dir, (process.getuid?.() ?? 0) + 1);
      assert.match(other.summary, /belongs to user/);
    } finally {
      fs.rmSync(parent, { recursive: true });
    }
  });
});

describe('doctor: a Python', () => {
  const facts = { version: '3.12.1', implementation: 'cpython', remoteExec: false, remoteDebugEnabled: null, freeThreaded: false, uvloop: false };
  test('the backend and what works, by version', () => {
    const c312 = pythonCheck(['python3.12'], '/x/python3.12', '/x/python3.12', facts, true);
    assert.equal(c312.ok, true);
    assert.match(c312.details!.join('\n'), /tracing backend: monitoring/);
    const c311 = pythonCheck(['python3'], '/x/python3', '/x/python3', { ...facts, version: '3.11.7' }, false);
    assert.match(c311.details!.join('\n'), /tracing backend: hooked/);
    const c314 = pythonCheck(['python3.14'], '/x/p', '/x/p', { ...facts, version: '3.14.8', remoteExec: true, remoteDebugEnabled: false }, false);
    assert.match(c314.details!.join('\n'), /sys\.remote_exec: disabled/);
    const old = pythonCheck(['python3'], '/x/p', '/x/p', { ...facts, version: '3.10.13' }, false);
    assert.equal(old.ok, false);
    assert.match(old.fix ?? '', /3\.11 or newer/);
    const broken = pythonCheck(['python3.9'], '/x/p', '/x/p', 'pyenv: python3.9: command not found', false);
    assert.equal(broken.ok, false);
    assert.match(broken.summary, /does not run \(pyenv: python3\.9: command not found\)/);
  });

  test('ps/pstree/dump from outside: a default build of 3.11 to 3.15 is read from memory; a free-threaded build or a newer Python through the agent', () => {
    const outside = (version: string, freeThreaded = false) =>
      pythonCheck(['python3'], '/x/p', '/x/p', { ...facts, version, freeThreaded }, false).details!.find((d) => d.startsWith('ps/pstree/dump from outside: '));
    for (const version of ['3.11.7', '3.12.1', '3.13.15', '3.14.8', '3.15.0']) {
      assert.equal(outside(version), 'ps/pstree/dump from outside: yes, read from memory (where this user may read the process: see the ptrace checks)', version);
    }
    assert.match(outside('3.13.15', true)!, /through the agent: start the program with `tasklens run` \(a free-threaded build is not read from memory\)/);
    assert.match(outside('3.16.0')!, /through the agent: start the program with `tasklens run` \(memory is read up to 3\.15\)/);
  });
});

describe('tasklens doctor on this machine', () => {
  test('text: every check ✓ or ✗, exit status 0 where tasklens can debug', { timeout: 180_000 }, async () => {
    const r = await tasklens(['doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const line of lines.slice(0, -1)) assert.match(line, /^(✓|✗) |^ {4}\S/, line);
    assert.match(r.stdout, /^✓ Node\.js \d+\.\d+\.\d+$/m);
    assert.match(r.stdout, /^✓ Python 3\.\d+\.\d+ {2}python3 .*\(used by default\)$/m);
    assert.match(r.stdout, /^ {4}tracing backend: (monitoring|hooked)/m);
    assert.match(r.stdout, /ptrace/);
    assert.match(r.stdout, /^(✓|✗) gdb/m);
    assert.match(r.stdout, /^(✓|✗) runtime directory /m);
    assert.equal(lines.at(-1), 'tasklens can debug on this machine.');
  });

  test('--json: the same checks for a script', { timeout: 180_000 }, async () => {
    const r = await tasklens(['doctor', '--json']);
    assert.equal(r.code, 0);
    const doc = JSON.parse(r.stdout) as { schema: number; ok: boolean; checks: Array<{ id: string; ok: boolean; data?: Record<string, unknown> }> };
    assert.equal(doc.schema, 1);
    assert.equal(doc.ok, true);
    const ids = new Set(doc.checks.map((c) => c.id));
    for (const id of ['node', 'python', 'ptrace-scope', 'ptrace-read', 'gdb', 'runtime-dir']) assert.ok(ids.has(id), id);
    const chosen = doc.checks.find((c) => c.id === 'python' && c.data?.default === true);
    assert.ok(chosen, 'the default interpreter is marked');
    assert.ok(['monitoring', 'hooked'].includes(String(chosen.data?.backend)));
  });

  test('a PATH with no usable Python: ✗ and exit status 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-path-'));
    try {
      const r = await tasklens(['doctor'], { ...process.env, PATH: dir });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^✗ no python3 or python3\.N on PATH$/m);
      assert.match(r.stdout, /^ {4}fix: install CPython 3\.11 or newer/m);
      assert.match(r.stdout, /cannot debug on this machine yet/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
