// The attach tests' targets run detached (a process group of their own, killed in `finally`);
// a test process killed before its `finally` runs (a runner past its timeout) must still take
// them along: the kernel's parent-death signal that attach_pid_support.ts sets does it.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from './support/matrix';
import { fixture } from './support/paths';
import { pythons } from './support/pythons';

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

it('a target dies with the test process that started it, finally or not', async () => {
  const python = pythons()[0].path;
  const support = path.join(__dirname, 'attach_pid_support.js');
  const script = `require(${JSON.stringify(support)}).startProgram(${JSON.stringify(python)}, ${JSON.stringify(fixture('attach_busy.py'))})` +
    '.then((t) => console.log(t.pid), (e) => { console.error(e); process.exit(1); });';
  const runner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pid = 0;
  try {
    pid = await new Promise<number>((resolve, reject) => {
      let text = '';
      runner.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      runner.once('exit', () => reject(new Error(`the runner exited first: ${text}`)));
    });
    assert.ok(alive(pid), 'the target runs while its test process does');
    runner.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!alive(pid), `target ${pid} outlived its killed test process`);
  } finally {
    runner.kill('SIGKILL');
    if (pid > 0 && alive(pid)) process.kill(-pid, 'SIGKILL');
  }
});
