// The lines injected by attach by process id (src/inject/bootstrap.ts) may run twice at once in
// one program (sys.remote_exec and gdb both got in): whatever the order, the program is left
// with the switch interval it had. Here both runs are held at the import lock together, and
// the adapter's port is closed (it gave up), so each gives up after loading the agent; the
// program can then be attached again.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { agentDir } from '../src/agent/paths';
import { listenOnLoopback } from '../src/agent/loopback';
import { bootstrapCode } from '../src/inject/bootstrap';
import { eachPython, TEST_TIMEOUT_MS } from './support/matrix';

async function closedPort(): Promise<number> {
  const { server, port } = await listenOnLoopback();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

eachPython('attach bootstrap', (py) => {
  test('two runs at once, the adapter gone: the program keeps its switch interval and can be attached again', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-boot-'));
    const port = await closedPort();
    const live = await listenOnLoopback();
    try {
      const greeted = new Promise<string>((resolve) => {
        live.server.on('connection', (socket: net.Socket) => {
          let text = '';
          socket.on('data', (chunk) => {
            text += chunk.toString();
            if (text.includes('\n')) {
              resolve(text.split('\n')[0]);
              socket.destroy();
            }
          });
        });
      });
      const program = path.join(dir, 'twice.py');
      fs.writeFileSync(program, [
        'import _imp, sys, threading, time',
        'sys.setswitchinterval(0.007)',
        `first, second = ${JSON.stringify(bootstrapCode(agentDir(), port, 'a'.repeat(48)))}, ${JSON.stringify(bootstrapCode(agentDir(), port, 'b'.repeat(48)))}`,
        '_imp.acquire_lock()      # both runs read the interval, then wait here for the import lock',
        'exec(first, {})',
        'exec(second, {})',
        '_imp.release_lock()',
        'deadline = time.monotonic() + 10',
        'while "tasklens_agent.attach" not in sys.modules or abs(sys.getswitchinterval() - 0.007) > 1e-5:',
        '    if time.monotonic() > deadline:',
        '        break',
        '    time.sleep(0.01)',
        'time.sleep(0.5)          # both runs are over by now',
        'print("interval", round(sys.getswitchinterval(), 5), flush=True)',
        `exec(${JSON.stringify(bootstrapCode(agentDir(), live.port, 'c'.repeat(48)))}, {})`,
        'time.sleep(3)            # the agent greets the adapter that listens',
        '',
      ].join('\n'));
      const out = await new Promise<string>((resolve, reject) => {
        execFile(py.path, [program], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
      });
      assert.match(out, /^interval 0\.007$/m, out);
      const hello = JSON.parse(await greeted) as { event?: string; body?: { token?: string } };
      assert.equal(hello.event, 'hello');
      assert.equal(hello.body?.token, 'c'.repeat(48), 'a later attach is greeted');
    } finally {
      live.server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
