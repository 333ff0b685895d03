// Where a launched program runs when the configuration names no `cwd`: the adapter runs a
// script in its own folder (not wherever the editor started the adapter), and the VS Code
// extension fills in the workspace folder first.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { FIXTURES, ROOT, fixture } from './support/paths';
import type { Python } from './support/pythons';

type Config = Record<string, unknown>;
type Folder = { uri: { fsPath: string } };
interface Provider {
  resolveDebugConfiguration(folder: Folder | undefined, config: Config): Config;
  resolveDebugConfigurationWithSubstitutedVariables(folder: Folder | undefined, config: Config): Config;
}

/**
 * Loads editors/vscode/extension.js against a stand-in for the `vscode` module (which exists
 * only inside VS Code) and returns the configuration provider it registers.
 */
function loadExtension(workspaceFolders: string[], activeFile?: string): Provider {
  let provider: Provider | undefined;
  // What activation touches besides the provider (the process picker, the Async tasks view):
  // registered and never used here.
  const disposable = { dispose: () => undefined };
  const event = (): typeof disposable => disposable;
  const fake = {
    debug: {
      registerDebugConfigurationProvider: (type: string, p: Provider) => {
        assert.equal(type, 'tasklens');
        provider = p;
        return disposable;
      },
      registerDebugAdapterTrackerFactory: () => disposable,
      onDidTerminateDebugSession: event,
      onDidStartDebugSession: event,
      onDidChangeActiveDebugSession: event,
    },
    commands: { registerCommand: () => disposable },
    window: {
      activeTextEditor: activeFile ? { document: { languageId: 'python', uri: { fsPath: activeFile } } } : undefined,
      createTreeView: () => ({ ...disposable, onDidChangeSelection: event, reveal: async () => undefined }),
    },
    EventEmitter: class { event = event; fire(): void { /* nothing listens here */ } dispose(): void { /* nothing held */ } },
    workspace: { getWorkspaceFolder: (uri: { fsPath: string }) => {
      const owner = workspaceFolders.find((f) => uri.fsPath.startsWith(f + path.sep));
      return owner ? { uri: { fsPath: owner } } : undefined;
    } },
    Uri: { file: (fsPath: string) => ({ fsPath }) },
  };
  const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const original = loader._load;
  const entry = path.join(ROOT, 'editors', 'vscode', 'extension.js');
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake : original.call(this, request, ...rest);
  };
  try {
    const load = Module.createRequire(__filename);
    delete load.cache[entry];
    const extension = load(entry) as { activate(context: { subscriptions: unknown[] }): void };
    extension.activate({ subscriptions: [] });
  } finally {
    loader._load = original;
  }
  assert.ok(provider, 'the extension registers a configuration provider for tasklens');
  return provider;
}

async function cwdOf(h: Harness, py: Python, config: Config): Promise<string> {
  await h.launch(py, config);
  const text = await h.waitForOutput('stdout', /cwd .*\n/);
  await h.exitCode(0);
  return /cwd (.*)\n/.exec(text)![1];
}

eachPython('launch cwd', (py) => {
  it('without cwd, a program runs in its own folder, not the adapter\'s', async () => {
    assert.notEqual(fs.realpathSync(process.cwd()), fs.realpathSync(FIXTURES), 'the adapter starts outside the fixtures');
    await withAdapter(async (h) => {
      assert.equal(await cwdOf(h, py, { program: fixture('cwd_probe.py') }), fs.realpathSync(FIXTURES));
    });
  });

  it('a relative program without cwd is found from the adapter\'s folder and runs in its own', async () => {
    await withAdapter(async (h) => {
      const relative = path.relative(process.cwd(), fixture('cwd_probe.py'));
      assert.equal(await cwdOf(h, py, { program: relative }), fs.realpathSync(FIXTURES));
    });
  });

  it('an explicit cwd wins', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-cwd-'));
    try {
      await withAdapter(async (h) => {
        assert.equal(await cwdOf(h, py, { program: fixture('cwd_probe.py'), cwd: dir }), fs.realpathSync(dir));
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through the VS Code extension, a launch without cwd runs in the workspace folder', async () => {
    const workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-ws-')));
    try {
      const provider = loadExtension([workspace]);
      const config = provider.resolveDebugConfigurationWithSubstitutedVariables({ uri: { fsPath: workspace } },
        { type: 'tasklens', request: 'launch', name: 'x', program: fixture('cwd_probe.py') });
      assert.equal(config.cwd, workspace);
      await withAdapter(async (h) => {
        assert.equal(await cwdOf(h, py, config), workspace);
      });
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});

it('the extension: the folder holding the program when the configuration has none; cwd and attach left alone', async () => {
  const provider = loadExtension([ROOT]);
  const program = fixture('cwd_probe.py');
  assert.equal(provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, { request: 'launch', program }).cwd, ROOT);
  assert.equal(provider.resolveDebugConfigurationWithSubstitutedVariables(undefined, { request: 'launch', program: '/elsewhere/x.py' }).cwd, undefined);
  assert.equal(provider.resolveDebugConfigurationWithSubstitutedVariables({ uri: { fsPath: ROOT } }, { request: 'launch', program, cwd: '/tmp' }).cwd, '/tmp');
  assert.equal(provider.resolveDebugConfigurationWithSubstitutedVariables({ uri: { fsPath: ROOT } }, { request: 'attach' }).cwd, undefined);
});

it('the extension: F5 without a launch.json debugs the Python file in the editor', async () => {
  const withFile = loadExtension([ROOT], fixture('cwd_probe.py')).resolveDebugConfiguration(undefined, {});
  assert.deepEqual({ type: withFile.type, request: withFile.request, program: withFile.program }, { type: 'tasklens', request: 'launch', program: '${file}' });
  const kept = { type: 'tasklens', request: 'launch', name: 'mine', program: 'a.py' };
  assert.deepEqual(loadExtension([ROOT], fixture('cwd_probe.py')).resolveDebugConfiguration(undefined, { ...kept }), kept);
});
