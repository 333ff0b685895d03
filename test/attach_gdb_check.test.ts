// A gdb that cannot give a process back its registers is never let into a program
// (src/inject/gdbCheck.ts): gdb 13 on an Intel AMX CPU fails to restore the extended register
// state after its call, and the program then crashes at its next system call. The check runs gdb
// once on a throwaway `sleep`. Here a stand-in gdb answers that check as gdb 13 does on such a
// CPU, so these run on every machine: attach by PID to Python 3.11-3.13 is refused with 1070
// and the program runs on untouched; the verdict is kept, not checked at every attach;
// `tasklens doctor` reports it. (test/support/gdb.ts skips the tests that need a working gdb
// on a machine whose real gdb fails the check.)
import * as assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode } from '../src/dap/errors';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import { attachError, attachTo, killAllTargets, startProgram, threadCount } from './attach_pid_support';

after(killAllTargets);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-gdb13-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const calls = path.join(dir, 'calls');
const fakeGdb = path.join(dir, 'gdb');
// Every run is noted; a call into a process fails as gdb 13's does on an AMX CPU.
fs.writeFileSync(fakeGdb, `#!/bin/sh
echo "$*" >> ${calls}
case "$*" in --version) echo "GNU gdb (stand-in) 13.1"; exit 0;; esac
echo "Couldn't write extended state status: Bad address." >&2
exit 1
`, { mode: 0o755 });
/** A runtime folder of its own (where the verdict is kept) for each test, removed after. */
function freshEnv(): NodeJS.ProcessEnv {
  const runtime = fs.mkdtempSync(path.join(dir, 'run-'));
  fs.chmodSync(runtime, 0o700);
  return { ...process.env, TASKLENS_GDB: fakeGdb, XDG_RUNTIME_DIR: runtime };
}

function ranWith(): string[] {
  return fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
}

eachPython('attach by PID with a gdb that would break the program', (py) => {
  const minor = Number(py.version.split('.')[1]);
  if (minor >= 14) {
    it('3.14+ attaches by sys.remote_exec and never runs that gdb, not even its check, when the script runs', async () => {
      const target = await startProgram(py.path, fixture('attach_busy.py'));
      fs.rmSync(calls, { force: true });
      const env = freshEnv();
      await withAdapter(async (h) => {
        await attachTo(h, target.pid);
        await h.dc.disconnectRequest({});
      }, { env });
      assert.deepEqual(ranWith(), [], 'gdb is checked only once it is needed');
      target.kill();
    });
    return;
  }
  it('3.11-3.13: refused with 1070, saying why and what to do; the program runs on untouched; the verdict is kept', async () => {
    const target = await startProgram(py.path, fixture('attach_busy.py'));
    const threads = threadCount(target.pid);
    fs.rmSync(calls, { force: true });
    const env = freshEnv();
    for (let round = 0; round < 2; round++) {
      await withAdapter(async (h) => {
        const err = await attachError(h, { processId: target.pid });
        assert.equal(err.code, ErrorCode.AttachGdbUnusable, err.message);
        assert.match(err.message, new RegExp(`^Attaching to Python 3\\.${minor} \\(process ${target.pid}\\) needs gdb, but gdb \\(${fakeGdb}\\) cannot give a process back its registers on this machine's CPU \\(Couldn't write extended state status: Bad address\\); it would crash the program, so it is not used: gdb 14 or newer handles such CPUs\\.`));
      }, { env });
    }
    const runs = ranWith();
    assert.equal(runs.length, 1, `one check for both attaches, on a sleep of its own: ${runs.join(' | ')}`);
    assert.match(runs[0], /-p \d+ -ex call \(int\)getpid\(\)$/);
    assert.doesNotMatch(runs[0], new RegExp(`-p ${target.pid} `), 'never into the program');
    assert.equal(target.child.exitCode, null, 'the program runs on');
    assert.equal(threadCount(target.pid), threads, 'nothing was loaded into it');
    target.kill();
  });

  it('3.11-3.13: `tasklens attach PID` says so before it serves a port (exit status 1, --json names it)', async () => {
    const target = await startProgram(py.path, fixture('attach_busy.py'));
    const env = freshEnv();
    const run = spawnSync(process.execPath, [MAIN_JS, 'attach', String(target.pid), '--json'], { encoding: 'utf8', timeout: 30_000, env });
    assert.equal(run.status, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).error.code, 'gdb-unusable', run.stdout);
    assert.match(run.stderr, new RegExp(`^tasklens: Attaching to Python 3\\.${minor} \\(process ${target.pid}\\) needs gdb, but gdb \\(${fakeGdb}\\) cannot give a process back its registers`));
    assert.doesNotMatch(run.stdout, /"port"/, 'no port was served');
    const none = spawnSync(process.execPath, [MAIN_JS, 'attach', String(target.pid)], { encoding: 'utf8', timeout: 30_000, env: { ...env, TASKLENS_GDB: '' } });
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /needs gdb, which is not installed: install gdb/);
    assert.equal(target.child.exitCode, null, 'the program runs on');
    target.kill();
  });
});

test('tasklens doctor: a gdb that fails the check is ✗, with the fix', { timeout: 120_000 }, async () => {
  const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [MAIN_JS, 'doctor', '--json'], { env: { ...freshEnv(), PATH: `${dir}:${process.env.PATH}` } }, (err, stdout) => {
      resolve({ code: err ? Number(err.code) : 0, stdout });
    });
  });
  const gdb = (JSON.parse(r.stdout) as { checks: Array<{ id: string; ok: boolean; summary: string; fix?: string; data?: { unusable?: string } }> }).checks.find((c) => c.id === 'gdb');
  assert.ok(gdb, r.stdout);
  assert.equal(gdb.ok, false);
  assert.equal(gdb.data?.unusable, "Couldn't write extended state status: Bad address");
  assert.match(gdb.summary, /^gdb: GNU gdb \(stand-in\) 13\.1 \(\S+\/gdb\) cannot give a process back its registers on this CPU/);
  assert.match(gdb.fix ?? '', /needs gdb 14 or newer here/);
});
