// gdb's part of attach by process id, run directly: when every thread runs Python, the attach
// code is left as a pending call without calling the program's malloc where its thread stopped
// (which may be inside malloc itself: an attach to a busy allocating program hung).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { findGdb, gdbArgs } from '../src/inject/methods';
import { sleep } from './support/harness';
import { eachPython, TEST_TIMEOUT_MS } from './support/matrix';
import { gdbUnusableHere } from './support/gdb';
import { fixture } from './support/paths';
import { killAllTargets, startTarget } from './attach_pid_support';

after(killAllTargets);

const gdb = findGdb();

/** gdb's output and exit code, the injection run with breakpoints on the program's allocator. */
function injectWatchingMalloc(pid: number, codeFile: string): Promise<{ out: string; code: number | null }> {
  const args = gdbArgs(pid, ['-ex', 'break malloc', '-ex', 'break calloc', '-ex', 'break realloc']);
  return new Promise((resolve) => {
    execFile(gdb!, args, { env: { ...process.env, TASKLENS_INJECT_CODE: codeFile }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ out: `${stdout}\n${stderr}`, code: err ? (typeof err.code === 'number' ? err.code : -1) : 0 });
    });
  });
}

eachPython('gdb injection', (py) => {
  test('a busy program gets the attach code as a pending call, and gdb never calls its malloc', { timeout: TEST_TIMEOUT_MS, skip: gdb === null ? 'gdb is not installed' : gdbUnusableHere() === null ? false : `this machine's gdb cannot give a process back its registers (${gdbUnusableHere()})` }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-inject-'));
    const target = await startTarget(py.path, fixture('attach_busy.py'));
    try {
      const mark = path.join(dir, 'ran');
      const codeFile = path.join(dir, 'code.py');
      // Runs on the program's main thread at its next bytecode, after gdb is gone.
      fs.writeFileSync(codeFile, `import os\nwith open(${JSON.stringify(mark)}, "w") as f:\n    f.write(str(os.getpid()))\n`, { mode: 0o600 });
      const { out, code } = await injectWatchingMalloc(target.pid, codeFile);
      assert.doesNotMatch(out, /stopped while in a function called from GDB|Breakpoint \d+, /, out);
      assert.match(out, /^TASKLENS \{"how": "pending", "result": 0\}$/m, out);
      assert.equal(code, 0, out);
      const deadline = Date.now() + 5_000;
      while (!fs.existsSync(mark) && Date.now() < deadline) await sleep(20);
      assert.equal(fs.readFileSync(mark, 'utf8'), String(target.pid), 'the code ran in the program');
      assert.equal(fs.existsSync(`/proc/${target.pid}`), true, 'the program runs on');
    } finally {
      target.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
