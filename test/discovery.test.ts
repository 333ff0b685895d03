// The one reader of discovery files (src/agent/discovery.ts), as DAP attach and `ps` use it: only
// a private file of this user, written by the process that holds its PID now, is trusted; `ps`
// removes the files of processes that are gone.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { findListener, listDiscoveryRecords, removeStaleDiscoveryFiles } from '../src/agent/discovery';
import { closedPort, discoveryPath, lens, runtimeDir, writeDiscovery } from './ps_agent_fixture';
import { withAdapter } from './support/harness';

const xdg = runtimeDir();
const saved = process.env.XDG_RUNTIME_DIR;

before(() => {
  // The adapter started by withAdapter inherits it too.
  process.env.XDG_RUNTIME_DIR = xdg;
});

after(() => {
  if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = saved;
  fs.rmSync(xdg, { recursive: true, force: true });
});

/** The id of a process that has just ended. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

test('attach finds the token of a trusted file by its port, on any loopback name', async () => {
  const port = await closedPort();
  const file = writeDiscovery(xdg, process.pid, port);
  try {
    assert.deepEqual(findListener('127.0.0.1', port), { token: 'x'.repeat(32) });
    assert.deepEqual(findListener('localhost', port), { token: 'x'.repeat(32) });
    assert.equal(findListener('127.0.0.1', port + 1), null);
    assert.equal(findListener('10.0.0.1', port), null, 'an agent never listens beyond loopback');
    assert.deepEqual((await listDiscoveryRecords()).map((r) => [r.pid, r.port]), [[process.pid, port]]);
  } finally {
    fs.rmSync(file);
  }
});

test('a file readable by others, or left by an earlier process with the same id, is not trusted', async () => {
  const port = await closedPort();
  const file = writeDiscovery(xdg, process.pid, port, 0o644);
  try {
    assert.match(findListener('127.0.0.1', port)?.problem ?? '', /has mode 0644, not 0600/);
    assert.deepEqual(await listDiscoveryRecords(), []);
    fs.chmodSync(file, 0o600);
    fs.utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
    assert.match(findListener('127.0.0.1', port)?.problem ?? '', /is older than process \d+: an earlier process with the same id left it/);
  } finally {
    fs.rmSync(file);
  }
});

test('the file of a process that is gone names no listener, and is removed', async () => {
  const port = await closedPort();
  const gone = writeDiscovery(xdg, deadPid(), port);
  const live = writeDiscovery(xdg, process.pid, await closedPort());
  const other = path.join(path.dirname(live), 'notes.txt');
  fs.writeFileSync(other, '');
  try {
    assert.equal(findListener('127.0.0.1', port), null);
    assert.deepEqual(removeStaleDiscoveryFiles(), [gone]);
    assert.ok(!fs.existsSync(gone));
    assert.ok(fs.existsSync(live) && fs.existsSync(other), 'files of live processes and other files stay');
  } finally {
    fs.rmSync(live, { force: true });
    fs.rmSync(other, { force: true });
  }
});

test('`tasklens ps` removes the discovery files of processes that are gone', async () => {
  const pid = deadPid();
  writeDiscovery(xdg, pid, await closedPort());
  // The process asked about needs no agent: the files are tidied before anything is read.
  await lens(['ps', String(process.pid)], xdg);
  assert.ok(!fs.existsSync(discoveryPath(xdg, pid)), 'the stale file is gone');
});

test('attach says why it does not use a discovery file that names the port', async () => {
  const port = await closedPort();
  const file = writeDiscovery(xdg, process.pid, port, 0o644);
  try {
    await withAdapter(async (h) => {
      await h.dc.initializeRequest();
      await assert.rejects(
        h.dc.attachRequest({ connect: { host: '127.0.0.1', port } } as never),
        (err: Error) => err.message.includes(`Cannot attach to 127.0.0.1:${port}: ${file} has mode 0644, not 0600; pass "connect.token" to attach anyway.`),
      );
    });
  } finally {
    fs.rmSync(file);
  }
});
