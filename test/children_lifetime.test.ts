// How long children and their sessions live: a child killed ends its own session cleanly and
// its parent sees the signal; ending the parent's session ends every child's session and, for
// a launched program, every child process, even one in a session of its own. `tasklens run`
// follows children too: each writes its own discovery file, and `tasklens ps PID` reads it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withTree } from './support/children';
import { isAlive, sleep, survivorsOf } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { BIN, killAll, run, start } from './run_support';

const sleepers = fixture('children_sleepers.py');
const popen = fixture('children_popen.py');

eachPython('child process lifetimes', (py) => {
  it('a killed child ends its session cleanly; its parent sees the signal', async () => {
    await withTree(async () => undefined, async (h, tree) => {
      const since = h.mark();
      await tree.launch(h, py, { program: sleepers, console: 'internalConsole' });
      const grouped = await tree.session(/children_sleeper\.py grouped/);
      const own = await tree.session(/children_sleeper\.py own-session/);
      await h.waitForOutput('stdout', /sleeper grouped ready/);
      await h.waitForOutput('stdout', /sleeper own-session ready/);
      process.kill(grouped.pid, 'SIGKILL');
      await grouped.h.waitFor('terminated', 0);
      assert.ok(!own.h.history.some((e) => e.event === 'terminated'), 'the other child lives on');
      process.kill(own.pid, 'SIGKILL');
      await own.h.waitFor('terminated', 0);
      assert.equal(await h.exitCode(since, 30_000), 0);
      assert.match(h.output('stdout'), /exits \[-9, -9\]/);
      assert.deepEqual(await tree.survivors(), []);
    });
  });

  it('ending the parent session ends every child session and child process', async () => {
    await withTree(async () => undefined, async (h, tree) => {
      await tree.launch(h, py, { program: sleepers, console: 'internalConsole' });
      const grouped = await tree.session(/children_sleeper\.py grouped/);
      const own = await tree.session(/children_sleeper\.py own-session/);
      await h.waitForOutput('stdout', /sleeper own-session ready/);
      await h.dc.disconnectRequest({});
      await grouped.h.waitFor('terminated', 0);
      await own.h.waitFor('terminated', 0);
      assert.deepEqual(await survivorsOf([grouped.pid, own.pid], 10_000), []);
    });
  });

  it('an attached program: children open sessions; detaching ends those sessions, not the children', async () => {
    const s = start(BIN, ['run', '--listen', '127.0.0.1:0', '--python', py.path, sleepers]);
    try {
      const deadline = Date.now() + 20_000;
      let port: number | undefined;
      while (port === undefined && Date.now() < deadline) {
        const m = /attach on 127\.0\.0\.1:(\d+)/.exec(s.stderr());
        if (m) port = Number(m[1]);
        else await sleep(50);
      }
      assert.ok(port !== undefined, s.stderr());
      await withTree(async () => undefined, async (h, tree) => {
        await tree.attach(h, { connect: { host: '127.0.0.1', port } });
        const grouped = await tree.session(/children_sleeper\.py grouped/);
        const own = await tree.session(/children_sleeper\.py own-session/);
        assert.deepEqual(grouped.configuration.parentSession, { pid: s.child.pid, launched: false });
        await h.dc.disconnectRequest({});
        await grouped.h.waitFor('terminated', 0);
        await own.h.waitFor('terminated', 0);
        await sleep(500);
        assert.ok(isAlive(grouped.pid) && isAlive(own.pid), 'the children run on');
        assert.ok(isAlive(s.child.pid!), 'the program runs on');
      });
    } finally {
      killAll();
    }
  });

  it('tasklens run: each child writes its own discovery file and ps reads it', async () => {
    const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-children-'));
    const env = { ...process.env, XDG_RUNTIME_DIR: runtime };
    try {
      const s = start(BIN, ['run', '--python', py.path, sleepers], { env });
      const pids: number[] = [];
      const deadline = Date.now() + 20_000;
      while (pids.length < 2 && Date.now() < deadline) {
        pids.splice(0, pids.length, ...[...s.stdout().matchAll(/ready (\d+)/g)].map((m) => Number(m[1])));
        await sleep(50);
      }
      assert.equal(pids.length, 2, `stdout ${s.stdout()} stderr ${s.stderr()}`);
      const files = fs.readdirSync(path.join(runtime, 'tasklens'));
      for (const pid of [s.child.pid!, ...pids]) assert.ok(files.includes(`${pid}.json`), `${pid} in ${files.join(' ')}`);
      const ps = await run(BIN, ['ps', String(pids[1]), '--json'], { env });
      assert.equal(ps.code, 0, ps.stderr);
      assert.equal((JSON.parse(ps.stdout) as { source: string }).source, 'agent');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const ended = await s.ended;
      assert.equal(ended.code, 0);
      assert.match(ended.stdout, /exits \[-9, -9\]/);
      const plain = await run(BIN, ['run', '--python', py.path, '--no-subprocess', popen], { env });
      assert.match(plain.stdout, /child exit 3/);
    } finally {
      killAll();
      fs.rmSync(runtime, { recursive: true, force: true });
    }
  });
});
