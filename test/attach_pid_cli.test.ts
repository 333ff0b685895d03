// `tasklens attach PID`: serves DAP on 127.0.0.1 for that process; a client attaches with no
// arguments, sees its threads, detaches, and the command exits. A wrong PID fails at once (exit 3).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { eachPython, it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import { killAllTargets, startTarget, tied } from './attach_pid_support';

after(killAllTargets);

eachPython('tasklens attach PID', (py) => {
  it('serves DAP for the process, prints the port, and exits after the session', async () => {
    const target = await startTarget(py.path, fixture('attach_busy.py'));
    const cli = spawn('setpriv', tied(process.execPath, MAIN_JS, 'attach', String(target.pid), '--json'), { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = '';
        cli.stdout!.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('\n')) resolve((JSON.parse(text) as { port: number }).port);
        });
        cli.once('exit', () => reject(new Error(`exited before listening: ${text}`)));
      });
      const dc = new DebugClient(process.execPath, MAIN_JS, 'tasklens');
      await dc.start(port);
      await dc.initializeRequest();
      await dc.attachRequest({} as DebugProtocol.AttachRequestArguments);
      await dc.configurationDoneRequest();
      const threads = (await dc.threadsRequest()).body.threads.map((t) => t.name);
      assert.ok(threads.includes('MainThread'), JSON.stringify(threads));
      await dc.disconnectRequest({});
      assert.equal(await exited, 0);
      assert.equal(target.child.exitCode, null, 'the program runs on');
    } finally {
      cli.kill('SIGKILL');
      target.kill();
    }
  });
});

it('a PID that is not running fails at once as ps, top and trace do: "no process PID", exit status 3', async () => {
  const run = spawnSync(process.execPath, [MAIN_JS, 'attach', '999999999'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 3);
  assert.equal(run.stderr, 'tasklens: no process 999999999\n');
  const top = spawnSync(process.execPath, [MAIN_JS, 'top', '999999999', '--once'], { encoding: 'utf8', timeout: 20_000 });
  assert.deepEqual([top.status, top.stderr], [run.status, run.stderr], 'the same as top');
  const json = spawnSync(process.execPath, [MAIN_JS, 'attach', '999999999', '--json'], { encoding: 'utf8', timeout: 20_000 });
  assert.deepEqual(JSON.parse(json.stdout), { schema: 1, error: { code: 'no-such-process', message: 'no process 999999999', exitStatus: 3 } });
});

it('a process it cannot attach to fails at once with the status ps gives the same process: 5 not Python, 10 exited', async () => {
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  // A zombie: a child that has exited and that its parent (this sh) has not reaped yet.
  const parent = spawn('sh', ['-c', 'sleep 0.1 & exec sleep 60'], { stdio: 'ignore' });
  try {
    const run = spawnSync(process.execPath, [MAIN_JS, 'attach', String(sleeper.pid), '--json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 5, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).error.code, 'not-python');
    assert.match(run.stderr, /^tasklens: Process \d+ \(sleep\) is not a Python process/);
    const ps = spawnSync(process.execPath, [MAIN_JS, 'ps', String(sleeper.pid)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(ps.status, run.status, 'the same status as ps');

    let zombie: number | undefined;
    for (let i = 0; i < 100 && zombie === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const kids = spawnSync('ps', ['-o', 'pid=,stat=', '--ppid', String(parent.pid)], { encoding: 'utf8' }).stdout;
      zombie = kids.split('\n').map((l) => l.trim().split(/\s+/)).find(([, stat]) => stat?.startsWith('Z'))?.map(Number)[0];
    }
    assert.ok(zombie !== undefined, 'the zombie child was never seen');
    const gone = spawnSync(process.execPath, [MAIN_JS, 'attach', String(zombie)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(gone.status, 10, gone.stderr);
    assert.match(gone.stderr, /has exited/);
  } finally {
    sleeper.kill('SIGKILL');
    parent.kill('SIGKILL');
  }
});
