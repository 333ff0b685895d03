// `--diagnose` must not cry wolf: programs that wait for good reasons (a server, a long sleep, an
// executor job, a future another thread sets, ...) and the test fixtures that run as before, with
// no report, on every interpreter, on uvloop (3.14) and with eager tasks (3.12+).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { eachPythonAndLoop } from './async_support';
import { runDiagnosed } from './diagnose_support';
import { it } from './support/matrix';
import { fixture, ROOT } from './support/paths';

const quiet = fixture('diag_quiet.py');

eachPythonAndLoop('diagnose: no false alarms', true, (py, loop) => {
  it('a long sleep, a server, an executor job, a future set from a thread, a lock held across a sleep, an event and a queue a timer callback completes, a queue and a condition a thread completes, an event another loop\'s reader sets', async () => {
    const run = await runDiagnosed(py, quiet, loop.args, { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /finished \[1, 7\]/);
    assert.deepEqual(run.reports, [], run.stderr);
    assert.doesNotMatch(run.stderr, /tasklens:/);
  });

  it('waits only the loop\'s own callbacks end, no other thread about: an RPC client\'s future its protocol completes, an fd\'s reader, a signal handler, a timer', async () => {
    const run = await runDiagnosed(py, fixture('diag_quiet_io.py'), loop.args, { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /finished \[7, b'x'\]/);
    assert.deepEqual(run.reports, [], run.stderr);
  });

  for (const name of ['async_many.py', 'async_awaiters.py', 'async_steps.py']) {
    it(`the fixture ${name} runs as before, with no report`, async () => {
      const run = await runDiagnosed(py, fixture(name), loop.args, { stuckS: 2, slowMs: 2000, timeoutMs: 30_000 });
      assert.deepEqual(run.reports.filter((r) => r.kind !== 'exceptionNotRetrieved'), [], run.stderr);
    });
  }

  it('a program building tuples from generators while its waits are judged: the heap walks never break one', async () => {
    // Before the walks ran on the loop's own thread, this program died of "SystemError: bad
    // argument to internal function" at BUILD_LINE in most runs of 4 s.
    const run = await runDiagnosed(py, fixture('diag_tuples.py'), [...loop.args, '4'], { stuckS: 0.5, slowMs: 2000 });
    assert.doesNotMatch(run.stderr, /SystemError/);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /built \d{2,} tuples/);
    assert.deepEqual(run.reports, [], run.stderr);
  });

  it('the bundled example (examples/orders.py) runs as before, with no report', async () => {
    const run = await runDiagnosed(py, path.join(ROOT, 'examples', 'orders.py'), [], { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /total revenue: 88/);
    assert.deepEqual(run.reports, [], run.stderr);
  });
});
