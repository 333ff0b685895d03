// When the agent of a process cannot be asked, `ps` says why and reads memory instead. With a debugger attached, `ps` still gets the agent's
// answer (a read-only visit) and the debugger keeps its breakpoints.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { closedPort, Debugger, lens, withApp, writeDiscovery } from './ps_agent_fixture';
import { fixture } from './support/paths';
import type { PsReport } from '../src/inspect/report';

const APP = 'psagent_app.py';
const MARKED_LINE = fs.readFileSync(fixture(APP), 'utf8').split('\n').findIndex((l) => l.includes('return ticks')) + 1;

for (const py of pythons()) {
  const readable = /^3\.(1[1-9])\./.test(py.version);
  const minor = py.version.split('.').slice(0, 2).join('\\.');

  /** `ps --json` fell back to memory (3.11+) or failed clearly (older), naming `why`. */
  async function expectFallback(pid: number, xdg: string, why: RegExp): Promise<void> {
    const r = await lens(['ps', '--json', String(pid)], xdg);
    assert.match(r.stderr, new RegExp(`the tasklens agent of process ${pid} could not be asked`));
    assert.match(r.stderr, why);
    if (readable) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /read its memory instead/);
      const report = JSON.parse(r.stdout) as PsReport;
      assert.equal(report.source, 'memory');
      assert.ok(report.warnings.some((w) => why.test(w)), `warnings: ${report.warnings.join('; ')}`);
      assert.ok(report.tasks.some((t) => t.name === 'consumer'), 'the memory read lists the tasks');
    } else {
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`runs Python ${minor}`));
      // A script reading stdout gets the failure there too (docs/ps.md).
      const failure = (JSON.parse(r.stdout) as { error: { code: string; exitStatus: number } }).error;
      assert.deepEqual([failure.code, failure.exitStatus], ['unsupported-python', 6]);
    }
  }

  describe(`ps when the agent cannot be asked [${py.label}]`, () => {
    test('a stale discovery file (nothing listens on its port)', { timeout: 60_000 }, () =>
      withApp(py.path, APP, true, async (app, xdg) => {
        const port = await closedPort();
        writeDiscovery(xdg, app.pid, port);
        await expectFallback(app.pid, xdg, new RegExp(`nothing listens on 127\\.0\\.0\\.1:${port}`));
        const only = await lens(['pstree', '--source', 'agent', String(app.pid)], xdg);
        assert.equal(only.code, 8, only.stderr);
        assert.match(only.stderr, /cannot ask the tasklens agent of process \d+: nothing listens/);
      }));

    test('a discovery file older than the process, or readable by others, is not used', { timeout: 60_000 }, () =>
      withApp(py.path, APP, true, async (app, xdg) => {
        const file = writeDiscovery(xdg, app.pid, await closedPort());
        fs.utimesSync(file, new Date(2000, 0, 1), new Date(2000, 0, 1));
        await expectFallback(app.pid, xdg, /is older than process \d+: an earlier process with the same id left it/);
        writeDiscovery(xdg, app.pid, await closedPort(), 0o644);
        await expectFallback(app.pid, xdg, /has mode 0644, not 0600/);
      }));

    test('no agent at all', { timeout: 60_000 }, () =>
      withApp(py.path, APP, true, async (app, xdg) => {
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.doesNotMatch(r.stderr, /agent of process/);
        if (readable) assert.equal((JSON.parse(r.stdout) as PsReport).source, 'memory');
        else assert.match(r.stderr, /tasklens reads CPython 3\.11 and newer from outside/);
        assert.equal(r.code, readable ? 0 : 6, r.stderr);
        const only = await lens(['ps', '--source', 'agent', String(app.pid)], xdg);
        assert.equal(only.code, 8);
        assert.match(only.stderr, /has no tasklens agent \(no discovery file for it\); run the program under `tasklens run`/);
      }));

    test('an agent that does not answer (its process is stopped)', { timeout: 60_000 }, () =>
      withApp(py.path, APP, false, async (app, xdg) => {
        process.kill(app.pid, 'SIGSTOP');
        try {
          const started = Date.now();
          await expectFallback(app.pid, xdg, /no answer within 1 s/);
          assert.ok(Date.now() - started < 5000, 'gave up on the agent after about a second');
        } finally {
          process.kill(app.pid, 'SIGCONT');
        }
        // Once it runs again the agent answers, as if nothing had happened.
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as PsReport).source, 'agent');
      }));

    test('ps asks the agent while a debugger is attached; the debugger keeps its breakpoints', { timeout: 60_000 }, () =>
      withApp(py.path, APP, false, async (app, xdg) => {
        const dbg = await Debugger.attach(xdg, app.pid);
        try {
          await dbg.request('configure', { justMyCode: true, stopOnEntry: false, terminateOnDisconnect: false });
          const bp = await dbg.request('setBreakpoints', { source: { path: fixture(APP) }, breakpoints: [{ line: MARKED_LINE }] });
          assert.equal(bp.success, true, JSON.stringify(bp));
          assert.equal((await dbg.request('start', {})).success, true);
          const visit = await lens(['ps', '--json', String(app.pid)], xdg);
          assert.equal(visit.code, 0, visit.stderr);
          assert.doesNotMatch(visit.stderr, /could not be asked/);
          const report = JSON.parse(visit.stdout) as PsReport;
          assert.equal(report.source, 'agent');
          assert.ok(report.tasks.some((t) => t.name === 'consumer'), 'the agent lists the tasks');
          app.send('hit');
          const stopped = await dbg.next((m) => m.type === 'event' && m.event === 'stopped').catch((err: Error) => {
            throw new Error(`${err.message}; the agent sent: ${JSON.stringify(dbg.messages)}`);
          });
          assert.equal((stopped.body as { reason: string }).reason, 'breakpoint');
          const cont = await dbg.request('continue', {});
          assert.equal(cont.success, true, JSON.stringify(cont));
        } finally {
          dbg.close();
        }
        // The debugger gone, `ps` asks the agent again, and the program runs on to its end.
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as PsReport).source, 'agent');
        app.send('stop');
        assert.equal(await app.exited, 0);
      }));
  });
}
