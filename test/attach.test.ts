// `tasklens run --listen` and attach.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { listDiscoveryRecords } from '../src/agent/discovery';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { isAlive, withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { MAIN_JS, fixture } from './support/paths';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function waitForListener(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      // A bare connect would take the agent's one connection; watch the discovery file instead.
      listDiscoveryRecords().then((records) => {
        if (records.some((r) => r.port === port)) resolve();
        else if (Date.now() > deadline) reject(new Error(`no agent listening on ${port} within ${ms} ms`));
        else setTimeout(attempt, 50);
      }, reject);
    };
    attempt();
  });
}

eachPython('attach', (py) => {
  it('attaches to `tasklens run --listen`, stops at a breakpoint, and learns the exit code', async () => {
    const port = await freePort();
    const program = fixture('attach_target.py');
    const run = spawn(process.execPath, [MAIN_JS, 'run', '--listen', `127.0.0.1:${port}`, '--python', py.path, program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const runExit = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    try {
      await waitForListener(port, 10_000);
      assert.equal(stdout, '', 'the program waits for the debugger');
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        await h.dc.attachRequest({ connect: { host: '127.0.0.1', port } } as never);
        await h.waitFor('initialized', 0);
        const proc = await h.waitFor<DebugProtocol.ProcessEvent>('process', 0);
        assert.deepEqual({ ...proc.body, systemProcessId: typeof proc.body.systemProcessId }, { name: program, systemProcessId: 'number', isLocalProcess: true, startMethod: 'attach' });
        assert.equal(isAlive(proc.body.systemProcessId!), true);
        assert.notEqual(proc.body.systemProcessId, run.pid, 'the Python process, not `tasklens run`');
        const answer = await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 5 }] });
        assert.equal(answer.body.breakpoints[0].verified, true);
        await h.dc.configurationDoneRequest();
        const stop = await h.waitStopped(0);
        const top = await h.topFrame(stop.body.threadId);
        assert.equal(top.name, 'compute');
        assert.equal(top.line, 5);
        const since = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(since), 5);
      });
      assert.equal(await runExit, 5, '`tasklens run` exits with the program\'s code');
      assert.equal(stdout, 'attached result 42\n');
    } finally {
      run.kill('SIGKILL');
    }
  });

  it('disconnecting from an attached program while stopped lets it run on', async () => {
    const port = await freePort();
    const program = fixture('attach_target.py');
    const run = spawn(process.execPath, [MAIN_JS, 'run', '--listen', `127.0.0.1:${port}`, '--python', py.path, program], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const runExit = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    try {
      await waitForListener(port, 10_000);
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        await h.dc.attachRequest({ connect: { host: '127.0.0.1', port } } as never);
        await h.waitFor('initialized', 0);
        await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: 5 }] });
        await h.dc.configurationDoneRequest();
        await h.waitStopped(0);
        await h.dc.disconnectRequest({});
      });
      assert.equal(await runExit, 5);
      assert.equal(stdout, 'attached result 42\n');
    } finally {
      run.kill('SIGKILL');
    }
  });

  it('`tasklens run` without --listen runs the program with its exit code and argv', async () => {
    const run = spawn(process.execPath, [MAIN_JS, 'run', '--python', py.path, fixture('argv_probe.py'), '9', '--flag'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.once('exit', (c) => resolve(c)));
    assert.equal(code, 9);
    assert.match(stdout, /'9', '--flag'\]/);
    assert.match(stdout, /__main__/);
  });
});
