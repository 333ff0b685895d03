// A first try on a machine whose python3 is too old (Ubuntu 22.04's 3.10) with a newer
// python3.N beside it: demo and launch find the newer one and say so; with only old ones, one
// clear error and exit status 9. PATHs are built in temporary directories of symlinks.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter } from './support/harness';
import { eachPython, TEST_TIMEOUT_MS } from './support/matrix';
import { fixture, MAIN_JS, ROOT } from './support/paths';

/** The image's pyenv ships a 3.10; without it these tests cannot build an "old python3". */
function oldPython(): string | undefined {
  const root = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  let versions: string[];
  try {
    versions = fs.readdirSync(path.join(root, 'versions')).filter((v) => /^3\.10\.\d+$/.test(v));
  } catch {
    return undefined;
  }
  const found = versions.map((v) => path.join(root, 'versions', v, 'bin', 'python3.10')).find((p) => fs.existsSync(p));
  return found;
}

const OLD = oldPython();
const NO_OLD = OLD === undefined ? 'no CPython 3.10 on this machine (looked in ~/.pyenv/versions)' : undefined;

/** A directory holding only the given links (name → target), to be the whole PATH. */
function pathOf(links: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-path-'));
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

interface Ran { code: number; stdout: string; stderr: string }

function tasklens(args: string[], env: NodeJS.ProcessEnv, timeout = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { env, timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const STACK_TRACE = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .*:\d+:\d+$/m;

eachPython('interpreter discovery', (py) => {
  const minor = py.version.split('.')[1];
  const links = (): Record<string, string> => ({ python3: OLD!, 'python3.10': OLD!, [`python3.${minor}`]: py.path });
  const said = new RegExp(`using python3\\.${minor} \\(Python ${py.version.replace(/\./g, '\\.')}, .*\\): python3 on PATH is 3\\.10\\.\\d+, older than 3\\.11`);

  test('demo picks the newer python3.N when python3 is too old, and says why on stderr', { timeout: TEST_TIMEOUT_MS, skip: NO_OLD }, async () => {
    const dir = pathOf(links());
    try {
      const r = await tasklens(['demo'], { ...process.env, PATH: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, said);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stdout, new RegExp(`with python3\\.${minor} \\(Python ${py.version.replace(/\./g, '\\.')}\\)`));
      assert.match(r.stdout, /\* the program exited with code 0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a launch without "python" picks the same one and says so in a console output event', { timeout: TEST_TIMEOUT_MS, skip: NO_OLD }, async () => {
    const dir = pathOf(links());
    try {
      await withAdapter(async (h) => {
        const since = h.mark();
        await h.launch(py, { program: fixture('basic_add.py'), python: undefined });
        assert.equal(await h.exitCode(since), 7);
        const note = h.history.find((e) => e.event === 'output' && (e as DebugProtocol.OutputEvent).body.category === 'console') as DebugProtocol.OutputEvent;
        assert.match(note?.body.output ?? '', said);
        assert.equal(h.output('stdout'), 'sum 3\n');
      }, { env: { ...process.env, PATH: dir } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no usable interpreter on PATH', () => {
  const only = (): string => pathOf({ python3: OLD!, 'python3.10': OLD! });
  const listed = /no Python 3\.11 or newer on PATH \(found: python3 \(Python 3\.10\.\d+, .*\); python3\.10 \(Python 3\.10\.\d+, .*\)\)\.\n.*--python PATH.*launch argument "python"/;

  test('demo: what was found and how to name one, exit status 9, no stack trace', { skip: NO_OLD }, async () => {
    const dir = only();
    try {
      const r = await tasklens(['demo'], { ...process.env, PATH: dir });
      assert.equal(r.code, 9, r.stderr);
      assert.match(r.stderr, listed);
      assert.doesNotMatch(r.stderr, STACK_TRACE);
      assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('launch: an error response with the same two lines', { skip: NO_OLD }, async () => {
    const dir = only();
    try {
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py') } as DebugProtocol.LaunchRequestArguments), listed);
      }, { env: { ...process.env, PATH: dir } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty PATH: "no python3 or python3.N", exit status 9', async () => {
    const dir = pathOf({});
    try {
      const r = await tasklens(['demo'], { ...process.env, PATH: dir });
      assert.equal(r.code, 9, r.stderr);
      assert.match(r.stderr, /found: no python3 or python3\.N/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a PATH without the tools bin/tasklens finds itself with', () => {
  test('one line naming readlink and dirname, exit status 2, not "not built"', async () => {
    const r = await new Promise<Ran>((resolve) => {
      execFile('/bin/sh', [path.join(ROOT, 'bin', 'tasklens'), 'ps', '1'], { env: { PATH: '' } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tasklens: needs readlink and dirname on PATH \(coreutils\) to find itself; PATH is: empty\n$/);
  });
});

describe('a checkout that was never built', () => {
  // bin/tasklens copied into a tree of its own with no dist/ beside it: what `./bin/tasklens`
  // meets in a fresh clone before `npm ci` (or after dist/ was removed).
  test('one line saying how to build, exit status 2, no stack trace', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-unbuilt-'));
    try {
      fs.mkdirSync(path.join(root, 'bin'));
      const script = path.join(root, 'bin', 'tasklens');
      fs.copyFileSync(path.join(ROOT, 'bin', 'tasklens'), script);
      fs.chmodSync(script, 0o755);
      for (const args of [['demo'], ['ps', '1'], ['run', 'app.py']]) {
        const r = await new Promise<Ran>((resolve) => {
          execFile(script, args, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
          });
        });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, `tasklens: not built yet (${root}/dist is missing): run \`npm ci\` (or \`npm run build\`) in ${root}\n`);
        assert.doesNotMatch(r.stderr, STACK_TRACE);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
