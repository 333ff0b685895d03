// Bad input and faults: every one gets a clear answer, and nothing hangs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { isAlive, sleep, withAdapter } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import { RawAdapter } from './support/raw';

test('malformed input and unknown commands get error responses and the adapter stays up', async () => {
  const raw = new RawAdapter();
  try {
    raw.sendBody('this is not json');
    raw.sendBody('{"type":"request","command":"initialize"}');
    raw.sendBody('{"type":"request","seq":3}');
    raw.sendBody('{"type":"request","seq":4,"command":"fly"}');
    raw.sendRaw('Content-Type: nothing\r\n\r\n');
    raw.sendBody('{"type":"request","seq":5,"command":"initialize","arguments":{"adapterID":"x"}}');
    const messages = await raw.waitForCount(6);
    const errors = messages.slice(0, 5);
    for (const message of errors) {
      assert.equal(message.type, 'response');
      assert.equal(message.success, false);
      assert.ok(typeof message.message === 'string' && message.message.length > 10, JSON.stringify(message));
    }
    assert.match(String(errors[0].message), /not valid JSON/);
    assert.match(String(errors[1].message), /seq/);
    assert.match(String(errors[2].message), /command/);
    assert.equal(errors[3].request_seq, 4);
    assert.match(String(errors[3].message), /Unsupported request "fly"/);
    assert.match(String(errors[4].message), /Content-Length/);
    assert.equal(messages[5].success, true, 'still serving after bad input');
    assert.equal(messages[5].request_seq, 5);
  } finally {
    raw.kill();
  }
});

test('requests in the wrong state get error responses', async () => {
  await withAdapter(async (h) => {
    await h.dc.initializeRequest();
    await assert.rejects(h.dc.stackTraceRequest({ threadId: 1 }), /no program is being debugged/);
    await assert.rejects(h.dc.continueRequest({ threadId: 1 }), /no program/);
    await assert.rejects(h.dc.initializeRequest(), /already initialized/);
    assert.deepEqual((await h.dc.threadsRequest()).body.threads, []);
  });
});

test('launch argument errors name the problem', async () => {
  await withAdapter(async (h) => {
    await h.dc.initializeRequest();
    await assert.rejects(h.dc.launchRequest({} as never), /"program".*"module"/);
    await assert.rejects(h.dc.launchRequest({ program: 42 } as never), /"program" must be a string/);
    await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py'), args: 'x' } as never), /"args" must be an array/);
    await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py'), python: '/nonexistent/python3' } as never), /Python interpreter not found: "\/nonexistent\/python3"/);
    await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py'), python: fixture('old_python.sh') } as never), /Python 3\.9\.2 .* too old.*3\.11/);
    await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py'), python: '' } as never), /^Error: The Python interpreter is given as an empty string/);
    // A launcher that fails (a pyenv shim for a version not installed): its first line says why.
    const shim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-shim-')), 'python2');
    fs.writeFileSync(shim, '#!/bin/sh\necho "pyenv: python2: command not found" >&2\necho >&2\necho "Note: See pyenv help global for tips on allowing both" >&2\necho "      python2 and python3 to be found." >&2\nexit 127\n', { mode: 0o755 });
    try {
      await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py'), python: shim } as never), /failed the Python version probe .*: pyenv: python2: command not found\.$/);
    } finally {
      fs.rmSync(path.dirname(shim), { recursive: true, force: true });
    }
    await assert.rejects(h.dc.setExceptionBreakpointsRequest({ filters: 'raised' } as never), /"filters" must be an array of filter names, not "raised"/);
  });
});

test('an attach argument of the wrong type is named as an argument, not a launch argument', async () => {
  await withAdapter(async (h) => {
    await h.dc.initializeRequest();
    const err = await h.dc.attachRequest({ processId: process.pid, justMyCode: 'no' } as never).then(() => '', (e: Error) => e.message);
    assert.match(err, /^Argument "justMyCode" must be a boolean, not "no"\.$/);
  });
});

eachPython('faults', (py) => {
  it('a missing program gives an error naming the path', async () => {
    await withAdapter(async (h) => {
      await h.dc.initializeRequest();
      const missing = path.join(os.tmpdir(), 'tasklens-no-such-program.py');
      await assert.rejects(h.dc.launchRequest({ program: missing, python: py.path } as never), new RegExp(`Program not found: ${missing.replace(/[.]/g, '\\.')}`));
    });
  });

  it('launch twice and stackTrace while running are refused', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('tight_loop.py') });
      await assert.rejects(h.dc.launchRequest({ program: fixture('basic_add.py') } as never), /already debugs a program/);
      await assert.rejects(h.dc.stackTraceRequest({ threadId: 1 }), /the program is running/);
      await assert.rejects(h.dc.nextRequest({ threadId: 1 }), /the program is running/);
      assert.ok((await h.dc.threadsRequest()).body.threads.length >= 1, 'still serving');
    });
  });

  it('os._exit(3) ends in exited 3 and terminated', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('crash_os_exit.py') });
      assert.equal(await h.exitCode(0), 3);
      assert.equal(h.output('stdout'), 'about to exit\n');
    });
  });

  it('a segfault ends in exited 139 and says which signal', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('crash_segfault.py') });
      assert.equal(await h.exitCode(0), 139);
      assert.match(h.output('important'), /SIGSEGV/);
    });
  });

  it('SIGKILL ends in exited 137 and terminated', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('wait_to_be_killed.py') });
      const pid = Number(/pid (\d+)/.exec(await h.waitForOutput('stdout', /pid \d+\n/))?.[1]);
      process.kill(pid, 'SIGKILL');
      assert.equal(await h.exitCode(0), 137);
      assert.match(h.output('important'), /SIGKILL/);
    });
  });

  it('disconnect while stopped ends a launched program', async () => {
    const marker = tempMarker();
    await withAdapter(async (h) => {
      await h.launchToStop(py, fixture('marker_after_stop.py'), [8], { args: [marker] });
      const pid = Number(/pid (\d+)/.exec(h.output('stdout'))?.[1]);
      assert.ok(isAlive(pid));
      await h.dc.disconnectRequest({});
      await waitUntil(() => !isAlive(pid), 5000, 'the program ended');
      assert.equal(fs.existsSync(marker), false, 'the program did not run on');
    });
  });

  it('disconnect without terminating while stopped lets the program run on', async () => {
    const marker = tempMarker();
    await withAdapter(async (h) => {
      await h.launchToStop(py, fixture('marker_after_stop.py'), [8], { args: [marker] });
      await h.dc.disconnectRequest({ terminateDebuggee: false });
      await waitUntil(() => fs.existsSync(marker), 5000, 'the program ran on');
    });
  });

  // A launched program never outlives its session: the kernel ends it with the adapter.
  it('the program ends when the adapter is killed while it is stopped', async () => {
    const marker = tempMarker();
    await withAdapter(async (h) => {
      await h.launchToStop(py, fixture('marker_after_stop.py'), [8], { args: [marker] });
      const pid = Number(/pid (\d+)/.exec(h.output('stdout'))?.[1]);
      h.adapter.kill('SIGKILL');
      await waitUntil(() => !isAlive(pid), 5000, 'the program ended');
      assert.equal(fs.existsSync(marker), false, 'the program did not run on');
    });
  });

  it('the program ends when the adapter is killed while it runs', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('wait_to_be_killed.py') });
      const pid = Number(/pid (\d+)/.exec(await h.waitForOutput('stdout', /pid \d+\n/))?.[1]);
      h.adapter.kill('SIGKILL');
      await waitUntil(() => !isAlive(pid), 5000, 'the program ended');
    });
  });

  it('the program ends when the client goes away over TCP', async () => {
    const marker = tempMarker();
    await withAdapter(async (h) => {
      await h.launchToStop(py, fixture('marker_after_stop.py'), [8], { args: [marker] });
      const pid = Number(/pid (\d+)/.exec(h.output('stdout'))?.[1]);
      (h.dc as unknown as { _socket: { destroy(): void } })._socket.destroy();
      await waitUntil(() => !isAlive(pid), 5000, 'the program ended');
      assert.equal(fs.existsSync(marker), false, 'the program did not run on');
    }, { tcp: true });
  });

  it('terminate ends a running program with exited and terminated', async () => {
    await withAdapter(async (h) => {
      await h.launch(py, { program: fixture('tight_loop.py') });
      await sleep(200);
      const since = h.mark();
      await h.dc.terminateRequest({});
      const code = await h.exitCode(since);
      assert.ok(code !== 0, `ended by a signal, code ${code}`);
    });
  });

  it('restart relaunches with the same configuration and breakpoints', async () => {
    await withAdapter(async (h) => {
      const first = await h.launchToStop(py, fixture('marker_after_stop.py'), [8], { args: [tempMarker()] });
      const pid1 = Number(/pid (\d+)/.exec(h.output('stdout'))?.[1]);
      const since = h.mark();
      await h.dc.restartRequest({});
      const second = await h.waitStopped(since);
      assert.equal(second.body.reason, 'breakpoint');
      assert.equal((await h.topFrame(second.body.threadId)).line, 8);
      const pid2 = Number(/pid (\d+)/.exec(h.output('stdout', since))?.[1]);
      assert.ok(pid2 > 0 && pid2 !== pid1, `a new process (${pid1} → ${pid2})`);
      assert.equal(isAlive(pid1), false);
      assert.ok(first.body.threadId > 0);
      assert.equal(h.history.slice(since).some((e) => e.event === 'terminated'), false, 'restart is not the end of the session');
    });
  });
});

function tempMarker(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-test-'));
  return path.join(dir, 'marker');
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await sleep(50);
  }
}
