// `tasklens run`'s command line: the interpreter's command line it execs (read back from a
// stand-in interpreter), and every error as one line with status 2 before anything runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { agentLauncher } from '../src/agent/paths';
import { fixture } from './support/paths';
import { BIN, killAll, run } from './run_support';

afterEach(killAll);

const RECORDER = fixture('argv_recorder.sh');

/** The words the interpreter was started with, after its own path. */
async function execd(args: string[]): Promise<string[]> {
  const r = await run(BIN, ['run', '--python', RECORDER, ...args]);
  assert.equal(r.code, 0, r.stderr);
  const words = r.stdout.split('\0').slice(0, -1);
  assert.equal(words[0], RECORDER);
  return words.slice(1);
}

describe('tasklens run: the command line it execs', () => {
  const prog = 'app.py';

  test('tasklens options become launcher options; the program\'s words stay as they came', async () => {
    const odd = ["it's", '', ' two words ', '$HOME', '"q"', '\\', 'a\nb', '-m', '--', '--listen'];
    assert.deepEqual(await execd([prog, ...odd]), [agentLauncher(), '--', prog, ...odd]);
    assert.deepEqual(await execd(['--', '-dash.py', 'x']), [agentLauncher(), '--', '-dash.py', 'x']);
    assert.deepEqual(await execd(['--listen', '127.0.0.1:0', '--no-wait', prog]), [agentLauncher(), '--listen', '127.0.0.1:0', '--no-wait', '--', prog]);
    assert.deepEqual(await execd(['--listen=[::1]:5678', prog]), [agentLauncher(), '--listen', '::1:5678', '--', prog]);
  });

  test('-m NAME, -mNAME and --module=NAME end tasklens\' options', async () => {
    for (const m of [['-m', 'json.tool'], ['-mjson.tool'], ['--module=json.tool']]) {
      assert.deepEqual(await execd([...m, '--help', '-m', 'x']), [agentLauncher(), '--module', 'json.tool', '--', '--help', '-m', 'x'], m.join(' '));
    }
  });

  test('the --diagnose options go to the launcher before `--`; the last three imply --diagnose', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-diag-'));
    try {
      const report = path.join(dir, 'report.json');
      assert.deepEqual(await execd(['--diagnose', prog]), [agentLauncher(), '--diagnose', '--', prog]);
      assert.deepEqual(await execd(['--slow-ms', '100', '--stuck-s', '2.5', '--diagnose-json', report, prog, '--slow-ms', '1']),
        [agentLauncher(), '--diagnose', '--slow-ms', '100', '--stuck-s', '2.5', '--diagnose-json', report, '--', prog, '--slow-ms', '1']);
      assert.deepEqual(await execd(['--stuck-s=3', '-m', 'svc']), [agentLauncher(), '--diagnose', '--stuck-s', '3', '--module', 'svc', '--']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help prints the options, the diagnostics among them, and runs nothing', async () => {
    const r = await run(BIN, ['run', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: tasklens run \[options\] \(program \| -m module\) \[args\.\.\.\]/);
    assert.match(r.stdout, /--diagnose\s+report blocked loops, never-awaited coroutines, lost\s+task exceptions, deadlocks and stuck tasks/);
    assert.equal(r.stderr, '');
  });
});

describe('tasklens run: errors are one line and status 2, before anything runs', () => {
  const prog = fixture('run_parity.py');
  const cases: Array<[string[], RegExp]> = [
    [['--bogus', prog], /unknown option '--bogus'/],
    [[], /give a program to run, or -m MODULE/],
    [['--listen', '127.0.0.1:0'], /give a program to run/],
    [['-m'], /argument missing/],
    [['--python', '/bin/ls', prog], /--python \/bin\/ls: not a Python interpreter/],
    [['--python', '/no/such/python', prog], /no such interpreter/],
    [['--python', fixture('old_cpython.sh'), prog], /is Python 3\.9; tasklens needs CPython 3\.11 or newer/],
    [['--listen', '0.0.0.0:5678', prog], /only loopback addresses .*ssh -L PORT:127\.0\.0\.1:PORT HOST.*--network host/],
    [['--listen', 'localhost:99999', prog], /expected HOST:PORT with a port from 0 to 65535/],
    [['--slow-ms', '0', prog], /--slow-ms <N>' argument '0' is invalid\. expected a positive number/],
    [['--stuck-s', 'soon', prog], /--stuck-s <N>' argument 'soon' is invalid/],
    [['--diagnose-json', '/no/such/dir/r.json', prog], /--diagnose-json \/no\/such\/dir\/r\.json: no such folder \/no\/such\/dir/],
    [['--diagnose-json', os.tmpdir(), prog], /is a folder/],
    [['--no-wait', prog], /--no-wait needs --listen HOST:PORT/],
  ];
  for (const [args, message] of cases) {
    test(`run ${args.join(' ').replace(prog, 'prog.py')}`, async () => {
      const r = await run(BIN, ['run', ...args]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '', 'the program did not run');
      assert.match(r.stderr, /^tasklens run: [^\n]+\n$/);
      assert.match(r.stderr, message);
    });
  }

  test('a folder that takes no files for --diagnose-json', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-ro-'));
    fs.chmodSync(dir, 0o500);
    try {
      const r = await run(BIN, ['run', '--diagnose-json', path.join(dir, 'r.json'), prog]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^tasklens run: --diagnose-json .*: cannot write into .*\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
