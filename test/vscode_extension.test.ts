// The VS Code extension in editors/vscode: its manifest points at an entry that runs the real
// adapter, and a session through that entry hits a breakpoint exactly as through `tasklens dap`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
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
  assert.ok('connect' in debuggerEntry.configurationAttributes.attach.properties);
});

test('a session started through the extension entry hits a breakpoint and exits', async () => {
  const dc = new DebugClient(process.execPath, path.join(extensionDir, 'adapter.js'), 'tasklens');
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
});
