// Diagnostics in a child's session: a child gets the diagnostics its parent's session asked for
// (`diagnose`, on by default), started with the child's first event loop (a child that runs
// none, as a pool worker, starts no watchdog). A worker whose task fails unretrieved reports it
// in its own session, for a worker forked from the program and for one forked from a fork
// server (which freezes what it holds before the program: children._freeze_for_workers).
// Under `tasklens run --diagnose`, every child diagnoses itself as its parent does (the options
// travel in its start-up rule), with its first event loop.
import * as assert from 'node:assert/strict';
import { lineOf } from './async_support';
import { blocks, runDiagnosed } from './diagnose_support';
import { withTree } from './support/children';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

const program = fixture('children_diag.py');
const idle = fixture('children_diag_idle.py');

eachPython('diagnostics in child sessions', (py) => {
  for (const method of ['fork', 'forkserver']) {
    it(`a ${method} worker's lost task exception is reported in the worker's session, with its line`, async () => {
      await withTree(async () => undefined, async (h, tree) => {
        const since = h.mark();
        await tree.launch(h, py, { program, args: [method], console: 'internalConsole' });
        const worker = await tree.session(/./, 30_000);
        const report = await worker.h.waitForOutput('important', /tasklens: exception never retrieved/, 20_000);
        assert.match(report, /task kept \(parse\) failed with ValueError/);
        assert.ok(report.includes(`${program}:${lineOf(program, 'WORKER_RAISE')}`), report);
        assert.equal(await h.exitCode(since, 30_000), 0);
        assert.equal(worker.h.output('important').match(/exception never retrieved/g)?.length, 1, 'reported once');
        assert.match(h.output('stdout'), /worker done True[\s\S]*process exit 0/);
        assert.doesNotMatch(h.output('important'), /exception never retrieved/, 'the parent ran no loop: nothing of the worker is reported there');
        assert.deepEqual(await tree.survivors(), []);
      });
    });
  }

  for (const method of ['fork', 'spawn', 'forkserver']) {
    it(`tasklens run --diagnose: a ${method} worker reports on the stderr it shares with its parent, once`, async () => {
      const run = await runDiagnosed(py, program, [method]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /worker done True[\s\S]*process exit 0/);
      const lost = blocks(run.stderr, 'exception never retrieved');
      assert.equal(lost.length, 1, run.stderr);
      assert.ok(lost[0].includes(`raised at ${program}:${lineOf(program, 'WORKER_RAISE')} in parse`), lost[0]);
      assert.match(lost[0], /nothing awaited the task or took its exception when it finished/);
      const reports = run.reports.filter((r) => r.kind === 'exceptionNotRetrieved');
      assert.equal(reports.length, 1, 'the --diagnose-json file gets the worker\'s report too');
      assert.notEqual(reports[0].pid, undefined);
    });
  }

  it('tasklens run --diagnose: a fork worker starts its watchdog with its first loop; a fork made from a task, at once', async () => {
    const run = await runDiagnosed(py, idle, []);
    assert.equal(run.code, 0, run.stderr);
    const worker = /worker threads (\d+) (\d+)/.exec(run.stdout);
    assert.ok(worker, run.stdout);
    const [before, after] = [Number(worker[1]), Number(worker[2])];
    assert.equal(after - before, 1, `one thread more once the worker ran a loop: ${run.stdout}`);
    assert.match(run.stdout, new RegExp(`task fork threads ${after}\\b`), 'the fork of a running loop has its watchdog at once');
  });
});
