// The agent's own socket under `tasklens run --listen`, attacked: no token, a wrong token,
// garbage, a truncated message, a line without end, a flood of connections. Each is refused
// cleanly, the agent's open files come back to what they were, an adapter can still attach,
// and the program prints and exits as it does alone.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { listDiscoveryRecords, type DiscoveryRecord } from '../src/agent/discovery';
import { PROTOCOL_VERSION } from '../src/agent/protocol';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { MAIN_JS, fixture } from './support/paths';

const PROGRAM = fixture('attach_target.py');
const FLOOD = 200;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function record(port: number): Promise<DiscoveryRecord> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (await listDiscoveryRecords()).find((r) => r.port === port);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no agent listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function openFiles(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Connects, writes `data` (if any), and resolves with what came back once the agent closes. */
function visit(port: number, data: string | undefined, endAfterWrite = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the agent kept a connection open; it sent ${JSON.stringify(received.slice(0, 300))}`));
    }, 20_000);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('connect', () => {
      if (data !== undefined) socket.write(data);
      if (endAfterWrite) socket.end();
    });
  });
}

function responses(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((m) => m.type === 'response');
}

eachPython('agent protocol under attack', (py) => {
  it('refuses bad connections cleanly, leaks nothing, and the program is unharmed', async () => {
    const expected = spawnSync(py.path, [PROGRAM], { encoding: 'utf8' });
    const port = await freePort();
    const run = spawn(process.execPath, [MAIN_JS, 'run', '--listen', `127.0.0.1:${port}`, '--python', py.path, PROGRAM], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    run.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    try {
      const agent = await record(port);
      const before = openFiles(agent.pid);
      const handshake = (token: unknown) => JSON.stringify({ type: 'request', seq: 1, command: 'handshake', arguments: { token, protocol: PROTOCOL_VERSION } }) + '\n';
      const visits = [
        visit(port, handshake(undefined)).then((text) => assert.match(String(responses(text)[0]?.message), /token/)),
        visit(port, handshake('not-the-token')).then((text) => assert.match(String(responses(text)[0]?.message), /token/)),
        visit(port, JSON.stringify({ type: 'request', seq: 1, command: 'threads', arguments: {} }) + '\n').then((text) => assert.match(String(responses(text)[0]?.message), /handshake/)),
        visit(port, 'garbage \u0000\u00ff not json\n'),
        visit(port, '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['.repeat(2000) + '\n'),
        visit(port, '{"type": "request", "seq": 1, "command": "handsh', true),
        visit(port, 'x'.repeat(5_000_000)),
        visit(port, undefined),
        ...Array.from({ length: FLOOD }, () => visit(port, undefined, true)),
      ];
      await Promise.all(visits);
      // Every refused connection is closed on the agent's side too.
      const deadline = Date.now() + 15_000;
      while (openFiles(agent.pid) > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(openFiles(agent.pid), before, 'the agent has as many files open as before the attack');
      assert.equal(stdout, '', 'the program still waits for its debugger');
      // A real debugger still gets in, and the program runs as it does alone.
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        await h.dc.attachRequest({ connect: { host: '127.0.0.1', port } } as never);
        await h.waitFor('initialized', 0);
        await h.dc.setBreakpointsRequest({ source: { path: PROGRAM }, breakpoints: [{ line: 5 }] });
        await h.dc.configurationDoneRequest();
        const stop = await h.waitStopped(0);
        const since = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(since), expected.status);
      });
      assert.equal(await exited, expected.status);
      assert.equal(stdout, expected.stdout);
      assert.doesNotMatch(stderr, /Traceback|Error/, 'nothing about the attack reaches the program\'s stderr');
    } finally {
      try {
        process.kill(-run.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
});
