// Where a process stands between the user and the program: `node main.js run` (Node cannot
// exec) and a program launched from an editor. Neither program outlives that process, `ps`
// finds both, and the exec'd `tasklens run` costs about what plain python costs in memory.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterEach } from 'node:test';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import { BIN, gone, killAll, privateRuntime, ready, rssKb, run, start, waitUntil } from './run_support';
import { discoveryPath } from './ps_agent_fixture';

afterEach(killAll);

const MEMORY_SLACK_KB = 5 * 1024;

eachPython('tasklens run behind a wrapper', (py) => {
  it('node main.js run: ps given the wrapper\'s PID reads the program; kill -9 of the wrapper ends the program', async () => {
    const rt = privateRuntime();
    try {
      const wrapper = start(process.execPath, [MAIN_JS, 'run', '--python', py.path, fixture('psagent_app.py')], { env: rt.env });
      const pid = await ready(wrapper);
      assert.notEqual(pid, wrapper.child.pid);
      const ps = await run(process.execPath, [MAIN_JS, 'ps', '--json', String(wrapper.child.pid)], { env: rt.env });
      assert.equal(ps.code, 0, ps.stderr);
      const report = JSON.parse(ps.stdout) as { pid: number; tasks: unknown[] };
      assert.equal(report.pid, pid);
      assert.ok(report.tasks.length > 5);
      const tree = await run(process.execPath, [MAIN_JS, 'pstree', String(wrapper.child.pid)], { env: rt.env });
      assert.equal(tree.code, 0, tree.stderr);
      assert.match(tree.stdout, /sleeper/);
      process.kill(wrapper.child.pid!, 'SIGKILL');
      await waitUntil(() => gone(pid), 10_000, 'the program ended with its wrapper');
    } finally {
      rt.remove();
    }
  });

  it('a program launched from an editor is found by ps, serves it read-only, and SIGTERM leaves no discovery file', async () => {
    const rt = privateRuntime();
    try {
      await withAdapter(async (h) => {
        await h.launch(py, { program: fixture('psagent_app.py'), env: { XDG_RUNTIME_DIR: rt.env.XDG_RUNTIME_DIR } });
        const pid = Number(/ready (\d+)/.exec(await h.waitForOutput('stdout', /ready \d+/))?.[1]);
        const ps = await run(process.execPath, [MAIN_JS, 'ps', '--json', String(pid)], { env: rt.env });
        assert.equal(ps.code, 0, ps.stderr);
        const report = JSON.parse(ps.stdout) as { source: string; tasks: unknown[] };
        assert.equal(report.source, 'agent');
        assert.ok(report.tasks.length > 5);
        // The editor owns the program: a second debugger with the discovery file's token is refused.
        const d = JSON.parse(fs.readFileSync(discoveryPath(rt.env.XDG_RUNTIME_DIR!, pid), 'utf8')) as { port: number; token: string };
        const answer = JSON.parse(await handshake(d.port, d.token)) as { success: boolean; message: string };
        assert.equal(answer.success, false, answer.message);
        process.kill(pid, 'SIGTERM');
        await h.waitFor('terminated');
        assert.deepEqual(rt.files(), []);
      });
    } finally {
      rt.remove();
    }
  });

  // An asyncio program, the kind tasklens is for, and a bare `time.sleep()` script, which shares
  // none of the agent's imports: the debugger core waits for the first connection (main.py).
  for (const [kind, program] of [['an idle asyncio program', 'run_idle_async.py'], ['a bare sleeping script', 'run_idle_bare.py']]) {
    it(`the exec'd tasklens run of ${kind} is within 5 MB of plain python in resident memory`, async () => {
      const rt = privateRuntime();
      try {
        const plain = start(py.path, [fixture(program)]);
        const under = start(BIN, ['run', '--python', py.path, fixture(program)], { env: rt.env });
        const [p, u] = [await ready(plain), await ready(under)];
        // Both are asleep in the same line: what each holds now is what it keeps.
        const [plainKb, underKb] = [rssKb(p), rssKb(u)];
        assert.ok(underKb - plainKb <= MEMORY_SLACK_KB, `tasklens run ${underKb} kB, plain python ${plainKb} kB`);
      } finally {
        rt.remove();
      }
    });
  }
});

/** A full (not read-only) handshake on an agent's listener; returns its answer. */
function handshake(port: number, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.split('\n').length === 2) {
        socket.write(`${JSON.stringify({ type: 'request', seq: 1, command: 'handshake', arguments: { token, protocol: 1 } })}\n`);
      }
      const answer = text.split('\n').find((line) => line.includes('"response"'));
      if (answer) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
  });
}
