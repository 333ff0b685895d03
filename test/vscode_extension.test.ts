// The VS Code extension in editors/vscode: its manifest points at an entry that runs the real
// adapter, and a session through that entry hits a breakpoint exactly as through `tasklens dap`,
// from the checkout and from the packaged .vsix unpacked far from it. (In a real VS Code:
// test/vscode/.)
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { ROOT, fixture } from './support/paths';

const extensionDir = path.join(ROOT, 'editors', 'vscode');

interface Manifest {
  contributes: { debuggers: { type: string; program: string; runtime: string;
    configurationAttributes: Record<string, { properties: Record<string, unknown> }> }[] };
}

test('the VS Code manifest declares the tasklens debug type with every launch argument', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8')) as Manifest;
  const [debuggerEntry] = manifest.contributes.debuggers;
  assert.equal(debuggerEntry.type, 'tasklens');
  assert.equal(debuggerEntry.runtime, 'node');
  assert.ok(fs.existsSync(path.join(extensionDir, debuggerEntry.program)), 'the adapter entry exists');
  assert.deepEqual(Object.keys(debuggerEntry.configurationAttributes.launch.properties).sort(),
    ['args', 'awaitTimeout', 'console', 'cwd', 'diagnose', 'env', 'evaluateTimeout', 'justMyCode', 'maxTaskThreads', 'module', 'program', 'python', 'slowMs', 'stopOnEntry', 'stuckS', 'subProcess', 'terminateOnDisconnect', 'trace']);
  assert.deepEqual(Object.keys(debuggerEntry.configurationAttributes.attach.properties).sort(),
    ['awaitTimeout', 'connect', 'diagnose', 'evaluateTimeout', 'justMyCode', 'maxTaskThreads', 'parentSession', 'processId', 'slowMs', 'stuckS', 'subProcess']);
});

async function breakpointAndExit(adapter: string): Promise<void> {
  const dc = new DebugClient(process.execPath, adapter, 'tasklens');
  dc.defaultTimeout = 15_000;
  await dc.start();
  try {
    const program = fixture('basic_add.py');
    await dc.hitBreakpoint({ program, python: 'python3' } as never, { path: program, line: 5 });
    const exited = dc.waitForEvent('exited');
    const stopped = await dc.threadsRequest();
    await dc.continueRequest({ threadId: stopped.body.threads[0].id });
    const exit = await exited;
    assert.equal(exit.body.exitCode, 7);
  } finally {
    await dc.stop();
  }
}

test('a session started through the extension entry hits a breakpoint and exits', async () => {
  await breakpointAndExit(path.join(extensionDir, 'adapter.js'));
});

test('the packaged .vsix carries its adapter: unpacked outside the checkout, a session runs', async () => {
  execFileSync(process.execPath, [path.join(extensionDir, 'pack.js')], { stdio: 'pipe', timeout: 120_000 });
  const { version } = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8')) as { version: string };
  const vsix = path.join(ROOT, 'dist', `tasklens-${version}.vsix`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-vsix-'));
  try {
    // A .vsix is a zip file; the extension's files are under extension/.
    execFileSync('python3', ['-m', 'zipfile', '-e', vsix, dir]);
    assert.ok(fs.existsSync(path.join(dir, 'extension', 'tasklens', 'agent', 'launch.py')), 'the agent is bundled');
    await breakpointAndExit(path.join(dir, 'extension', 'adapter.js'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
