// Every command with each kind of bad input ends with one or two clear lines on stderr and the
// documented exit status, never a stack trace; `--json` gets the failure on stdout as well; a
// real internal error leaves its trace in a file and says where.
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { withAdapter } from './support/harness';
import { fixture, MAIN_JS } from './support/paths';

interface Ran { code: number; stdout: string; stderr: string }

function tasklens(args: string[], env: NodeJS.ProcessEnv = process.env, node: string[] = []): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...node, MAIN_JS, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const STACK_TRACE = /^\s+at .*:\d+:\d+\)?$/m;
const NO_PID = '4194303';

// [arguments, exit status]: 2 usage, 3 no such process, 9 no usable Python (README, `tasklens --help`).
const CASES: Array<[string[], number]> = [
  [['bogus'], 2],
  [['--bogus'], 2],
  [['dap', '--port', '99999'], 2],
  [['dap', '--port', 'abc'], 2],
  [['dap', '--log', '/nonexistent/dir/dap.log'], 2],
  [['dap', 'extra'], 2],
  [['ps'], 2],
  [['ps', 'abc'], 2],
  [['ps', '0'], 2],
  [['ps', '1', '2'], 2],
  [['ps', '--width', '0', '1'], 2],
  [['ps', '--width', 'abc', '1'], 2],
  [['ps', '--width', '10', '1'], 2],
  [['ps', '--max-tasks', '-1', '1'], 2],
  [['ps', '--source', 'bad', '1'], 2],
  [['ps', '--bogus', '1'], 2],
  [['ps', NO_PID], 3],
  [['pstree'], 2],
  [['pstree', '--width', '0', '1'], 2],
  [['pstree', '--width', 'abc', '1'], 2],
  [['pstree', NO_PID], 3],
  [['demo', 'extra'], 2],
  [['demo', '--python'], 2],
  [['demo', '--python', '/nonexistent/python3'], 9],
  [['demo', '--python', '/bin/ls'], 9],
  [['demo', '--python', ''], 9],
  [['demo', '--python', fixture('old_python.sh')], 9],
  [['doctor', '--bogus'], 2],
  [['top', NO_PID, '--once'], 3],
  [['top', NO_PID, '--once', '--sort', 'z'], 2],
  [['top', NO_PID, '--once', '--interval', '0'], 2],
  [['trace', NO_PID, '--for', '1'], 3],
  [['trace', NO_PID, '--for', '1', '--out', '/nonexistent/x.json'], 2],
  [['trace', NO_PID, '--for', '1', '--out', os.tmpdir()], 2],
  [['attach', NO_PID], 3],
];

describe('bad input: one or two clear lines, the documented status, no stack trace', () => {
  for (const [args, status] of CASES) {
    test(`tasklens ${args.join(' ')} → ${status}`, async () => {
      const r = await tasklens(args);
      assert.equal(r.code, status, r.stderr);
      assert.doesNotMatch(r.stderr, STACK_TRACE);
      assert.match(r.stderr, /^tasklens/);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(see tasklens'));
      assert.ok(lines.length <= 2, r.stderr);
    });
  }

  test('tasklens with no command: the help on stderr, status 2', async () => {
    const r = await tasklens([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: tasklens/);
    assert.match(r.stderr, /Exit status: 0 success/);
  });

  test('top --sort: a sort letter or a column\'s name; another is refused in one line that lists them, status 2', async () => {
    const bad = await tasklens(['top', NO_PID, '--once', '--sort', 'z']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.split('\n')[0], "tasklens: option '--sort <key>' argument 'z' is invalid. expected one of n (name), t (state), b (busy), s (sched), i (idle), p (polls), w (wakes), a (age)");
    for (const good of ['p', 'polls']) {
      const r = await tasklens(['top', NO_PID, '--once', '--sort', good]);
      assert.equal(r.code, 3, `--sort ${good} is taken: the missing process is what fails: ${r.stderr}`);
    }
  });

  test('`run` with nothing to run: no stack trace', async () => {
    const r = await tasklens(['run']);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, STACK_TRACE);
  });
});

test('`tasklens demo | head -1`: the reader leaves, tasklens stops quietly with status 0', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [MAIN_JS, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /internal error|EPIPE/);
});

describe('--json failures', () => {
  test('a process that does not exist: the error object on stdout, the line on stderr', async () => {
    for (const command of ['ps', 'pstree']) {
      const r = await tasklens([command, NO_PID, '--json']);
      assert.equal(r.code, 3);
      assert.deepEqual(JSON.parse(r.stdout), { schema: 1, error: { code: 'no-such-process', message: `no such process: ${NO_PID}`, exitStatus: 3 } });
      assert.match(r.stderr, /^tasklens: no such process/);
    }
  });

  test('bad usage with --json: a usage error object', async () => {
    const r = await tasklens(['ps', 'abc', '--json']);
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as { error: { code: string; exitStatus: number; message: string } };
    assert.equal(doc.error.code, 'usage');
    assert.equal(doc.error.exitStatus, 2);
    assert.match(doc.error.message, /'abc' is invalid/);
  });
});

describe('an internal error', () => {
  test('a short message, where the trace is, exit status 70; the trace file holds the stack', async () => {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-crash-'));
    fs.chmodSync(xdg, 0o700);
    // A bug stood in for by a preloaded module that breaks reading /proc/PID/maps with a TypeError.
    const preload = path.join(xdg, 'break.js');
    fs.writeFileSync(preload, `const fs = require('node:fs'); const read = fs.readFileSync;
fs.readFileSync = function (p, ...rest) { if (String(p).endsWith('/maps')) throw new TypeError('boom in the reader'); return read.call(this, p, ...rest); };`);
    try {
      for (const json of [false, true]) {
        const r = await tasklens(['ps', String(process.pid), ...(json ? ['--json'] : [])], { ...process.env, XDG_RUNTIME_DIR: xdg }, ['--require', preload]);
        assert.equal(r.code, 70, r.stderr);
        const [first, second, ...rest] = r.stderr.trim().split('\n');
        assert.equal(first, 'tasklens: internal error: boom in the reader');
        const m = /^The full trace is in (\S+); please report it with that file\.$/.exec(second);
        assert.ok(m, second);
        assert.deepEqual(rest, []);
        assert.equal(path.dirname(m[1]), path.join(xdg, 'tasklens'));
        assert.match(fs.readFileSync(m[1], 'utf8'), /TypeError: boom in the reader\n\s+at /);
        assert.equal(fs.statSync(m[1]).mode & 0o777, 0o600);
        if (json) assert.equal((JSON.parse(r.stdout) as { error: { trace: string } }).error.trace, m[1]);
      }
    } finally {
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });

  test('in a DAP request: an error response that says where the trace is', async () => {
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-crash-'));
    fs.chmodSync(xdg, 0o700);
    const preload = path.join(xdg, 'break.js');
    fs.writeFileSync(preload, `const fs = require('node:fs'); const exists = fs.existsSync;
fs.existsSync = function (p) { if (p === '/tasklens-breaks-here') throw new TypeError('boom in launch'); return exists.call(this, p); };`);
    try {
      await withAdapter(async (h) => {
        await h.dc.initializeRequest();
        const failure = await h.dc.launchRequest({ program: fixture('basic_add.py'), cwd: '/tasklens-breaks-here' } as never).then(() => null, (e: Error) => e);
        const m = /^Internal error in "launch": boom in launch \(a bug: the full trace is in (\S+); please report it with that file\)$/.exec(failure?.message ?? '');
        assert.ok(m, failure?.message);
        assert.match(fs.readFileSync(m[1], 'utf8'), /TypeError: boom in launch\n\s+at /);
      }, { env: { ...process.env, XDG_RUNTIME_DIR: xdg, NODE_OPTIONS: `--require ${preload}` } });
    } finally {
      fs.rmSync(xdg, { recursive: true, force: true });
    }
  });
});
