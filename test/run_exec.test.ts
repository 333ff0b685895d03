// `tasklens run` through bin/tasklens: the program is the process (same PID, signals and exit
// status as plain python, no Node left), its words are its own, and it leaves no discovery file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { afterEach } from 'node:test';
import { eachPython, it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import { asleep, BIN, type Ended, gone, killAll, privateRuntime, ready, run, start, waitUntil } from './run_support';

afterEach(killAll);

/** What a user compares: status, signal and both streams. */
const seen = (e: Ended) => ({ code: e.code, signal: e.signal, stdout: e.stdout, stderr: e.stderr });

eachPython('tasklens run', (py) => {
  it('is the process: $! is the program\'s PID, ps reads it through the agent, and no Node stays', async () => {
    const rt = privateRuntime();
    try {
      const app = start(BIN, ['run', '--python', py.path, fixture('psagent_app.py')], { env: rt.env });
      const pid = await ready(app);
      assert.equal(pid, app.child.pid, 'the PID the shell knows is the program\'s');
      assert.equal(fs.realpathSync(`/proc/${pid}/exe`), fs.realpathSync(py.path), 'the process is the interpreter, not node');
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.match(argv[1], /agent\/launch\.py$/);
      const ps = await run(process.execPath, [MAIN_JS, 'ps', '--json', String(pid)], { env: rt.env });
      assert.equal(ps.code, 0, ps.stderr);
      const report = JSON.parse(ps.stdout) as { pid: number; source: string; tasks: unknown[] };
      assert.equal(report.pid, pid);
      assert.equal(report.source, 'agent');
      assert.ok(report.tasks.length > 5);
      app.child.stdin!.write('stop\n');
      const end = await app.ended;
      assert.equal(end.code, 0);
      assert.deepEqual(rt.files(), [], 'the discovery file is gone');
    } finally {
      rt.remove();
    }
  });

  it('exit status, stdin, stdout, stderr and the program\'s own options are plain python\'s', async () => {
    const words = [fixture('run_parity.py'), '7', '--help', '-m', 'x', '--listen', 'y', '--'];
    const input = 'some input\n';
    const plain = await run(py.path, words, { input });
    assert.equal(plain.code, 7);
    assert.deepEqual(seen(await run(BIN, ['run', '--python', py.path, ...words], { input })), seen(plain));
    assert.deepEqual(seen(await run(BIN, ['run', '--python', py.path, '--', ...words], { input })), seen(plain), 'after --');
  });

  it('-m: everything after the module is the module\'s, --help included', async () => {
    for (const args of [['--help'], ['--sort-keys']]) {
      const input = '{"b": 1, "a": 2}';
      const plain = await run(py.path, ['-m', 'json.tool', ...args], { input });
      assert.deepEqual(seen(await run(BIN, ['run', '--python', py.path, '-m', 'json.tool', ...args], { input })), seen(plain), args.join(' '));
    }
  });

  it('SIGINT: the KeyboardInterrupt traceback and the death by SIGINT of plain python; no discovery file left', async () => {
    const rt = privateRuntime();
    try {
      const plain = start(py.path, [fixture('run_idle.py')]);
      const under = start(BIN, ['run', '--python', py.path, fixture('run_idle.py')], { env: rt.env });
      for (const s of [plain, under]) {
        const pid = await ready(s);
        await asleep(pid);
        process.kill(pid, 'SIGINT');
      }
      const [p, u] = [await plain.ended, await under.ended];
      assert.equal(p.signal, 'SIGINT');
      assert.match(p.stderr, /KeyboardInterrupt/);
      assert.deepEqual(seen(u), { ...seen(p), stdout: `ready ${under.child.pid}\n` });
      assert.deepEqual(rt.files(), []);
    } finally {
      rt.remove();
    }
  });

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: dies by it as plain python does, and leaves no discovery file`, async () => {
      const rt = privateRuntime();
      try {
        const plain = start(py.path, [fixture('run_idle.py')]);
        const under = start(BIN, ['run', '--python', py.path, fixture('run_idle.py')], { env: rt.env });
        const pid = await ready(under);
        assert.deepEqual(rt.files(), [`${pid}.json`]);
        process.kill(await ready(plain), signal);
        process.kill(pid, signal);
        const [p, u] = [await plain.ended, await under.ended];
        assert.equal(p.signal, signal);
        assert.deepEqual({ ...seen(u), stdout: '' }, { ...seen(p), stdout: '' });
        assert.deepEqual(rt.files(), []);
      } finally {
        rt.remove();
      }
    });
  }

  it('--listen says on stderr where it waits, and a port in use is one clear line with status 2', async () => {
    const rt = privateRuntime();
    try {
      const waiting = start(BIN, ['run', '--listen', '127.0.0.1:0', '--python', py.path, fixture('run_idle.py')], { env: rt.env });
      await waitUntil(() => /waiting/.test(waiting.stderr()), 30_000, 'it says it waits');
      const m = /^tasklens: waiting for a debugger to attach on 127\.0\.0\.1:(\d+) \(pid (\d+)\)\n$/.exec(waiting.stderr());
      assert.ok(m, waiting.stderr());
      assert.equal(Number(m[2]), waiting.child.pid);
      assert.equal(waiting.stdout(), '', 'the program has not started');
      const taken = await run(BIN, ['run', '--listen', `127.0.0.1:${m[1]}`, '--python', py.path, fixture('run_idle.py')], { env: rt.env });
      assert.equal(taken.code, 2);
      assert.equal(taken.stdout, '');
      assert.match(taken.stderr, new RegExp(`^tasklens: cannot listen on 127\\.0\\.0\\.1:${m[1]}: the port is in use; [^\\n]*\\n$`));
      process.kill(waiting.child.pid!, 'SIGTERM');
      assert.equal((await waiting.ended).signal, 'SIGTERM');
      await waitUntil(() => gone(Number(m[2])), 5000, 'the program ended');
    } finally {
      rt.remove();
    }
  });
});
