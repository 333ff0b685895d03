// Launch basics: capabilities, a breakpoint hit with stack and variables, the exit code, the
// program's output, and a program that runs exactly as under plain python.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { FIXTURES, fixture } from './support/paths';

test('initialize returns honest capabilities', async () => {
  await withAdapter(async (h) => {
    const caps = (await h.dc.initializeRequest()).body ?? {};
    for (const name of [
      'supportsConfigurationDoneRequest', 'supportsFunctionBreakpoints', 'supportsConditionalBreakpoints',
      'supportsHitConditionalBreakpoints', 'supportsLogPoints', 'supportsEvaluateForHovers', 'supportsSetVariable',
      'supportsExceptionInfoRequest', 'supportsLoadedSourcesRequest', 'supportsCompletionsRequest',
      'supportsDelayedStackTraceLoading', 'supportsTerminateRequest', 'supportsRestartRequest',
    ] as const) {
      assert.equal(caps[name], true, name);
    }
    assert.equal(caps.supportsValueFormattingOptions, false);
    assert.deepEqual(
      caps.exceptionBreakpointFilters?.map((f) => [f.filter, f.label, f.default]),
      [['raised', 'Raised Exceptions', false], ['uncaught', 'Uncaught Exceptions', true], ['taskUnhandled', 'Unhandled Task Exceptions', false],
        ['blockedLoop', 'Blocked Event Loop', false], ['neverAwaited', 'Coroutine Never Awaited', false], ['deadlock', 'Asyncio Deadlock', false]],
    );
  });
});

eachPython('launch', (py) => {
  it('stops at a breakpoint, shows stack and variables, then exits with the code', async () => {
    await withAdapter(async (h) => {
      const program = fixture('basic_add.py');
      const stop = await h.launchToStop(py, program, [5]);
      assert.equal(stop.body.reason, 'breakpoint');
      assert.equal(stop.body.hitBreakpointIds?.length, 1);
      const trace = await h.dc.stackTraceRequest({ threadId: stop.body.threadId });
      const names = trace.body.stackFrames.map((f) => f.name);
      assert.deepEqual(names.slice(0, 3), ['add', 'main', '<module>'], `user frames only: ${names}`);
      assert.equal(trace.body.stackFrames[0].line, 5);
      assert.equal(trace.body.stackFrames[0].source?.path, program);
      assert.equal(trace.body.totalFrames, trace.body.stackFrames.length);
      const scopes = await h.dc.scopesRequest({ frameId: trace.body.stackFrames[0].id });
      assert.deepEqual(scopes.body.scopes.map((s) => s.name), ['Locals', 'Globals']);
      const locals = await h.locals(trace.body.stackFrames[0].id);
      assert.equal(locals.get('a')?.value, '1');
      assert.equal(locals.get('b')?.value, '2');
      const mainLocals = await h.locals(trace.body.stackFrames[1].id);
      assert.equal(mainLocals.get('label')?.value, "'sum'");
      assert.ok((mainLocals.get('numbers')?.variablesReference ?? 0) > 0, 'a list can be expanded');
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 7);
      assert.equal(h.output('stdout'), 'sum 3\n');
    });
  });

  it('delivers all output in order, including output written just before os._exit', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('output_then_os_exit.py') });
      assert.equal(await h.exitCode(0), 3);
      const expected = Array.from({ length: 3000 }, (_, i) => `line ${i}\n`).join('');
      assert.equal(h.output('stdout'), expected);
      const errs = Array.from({ length: 6 }, (_, i) => `err ${i * 500}\n`).join('') + 'last words\n';
      assert.equal(h.output('stderr'), errs);
    });
  });

  it('runs the program exactly as plain python does (argv, sys.path[0], __name__, exit code)', async () => {
    const program = fixture('argv_probe.py');
    let plain = '';
    try {
      execFileSync(py.path, [program, '4', '--flag'], { cwd: FIXTURES, encoding: 'utf8' });
    } catch (err) {
      plain = String((err as { stdout: string }).stdout);
    }
    await withAdapter(async (h) => {
      await h.launch(py, { program, args: ['4', '--flag'], cwd: FIXTURES });
      assert.equal(await h.exitCode(0), 4);
      assert.equal(h.output('stdout'), plain);
      assert.match(plain, /__main__/);
    });
  });

  it('runs a module with -m semantics and passes env', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { module: 'module_target', args: ['x', 'y'], cwd: FIXTURES, env: { TASKLENS_TEST_ENV: '1' } });
      assert.equal(await h.exitCode(0), 0);
      assert.equal(h.output('stdout'), "module main __main__ ['x', 'y']\n");
    });
  });

  it('--log records DAP and agent traffic with timestamps', async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-log-')), 'dap.log');
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('crash_os_exit.py') });
      assert.equal(await h.exitCode(0), 3);
    }, { log });
    const text = fs.readFileSync(log, 'utf8');
    assert.match(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z dap <- \{.*"command":"launch"/m);
    assert.match(text, /^\S+ agent <- \{.*"event":"hello"/m);
    assert.match(text, /^\S+ agent -> \{.*"command":"start"/m);
    assert.match(text, /^\S+ dap -> \{.*"event":"exited"/m);
  });

  it('stops on entry when asked', async () => {
    await withAdapter(async (h) => {
      const program = fixture('basic_add.py');
      await h.launch(py, { program, stopOnEntry: true });
      const stop = await h.waitStopped(0);
      assert.equal(stop.body.reason, 'entry');
      const top = await h.topFrame(stop.body.threadId);
      assert.equal(top.source?.path, program);
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 7);
    });
  });
});
