// `--diagnose` on deadlocks, as `tasklens run` passes it to the agent: lock cycles, tasks awaiting
// each other, and whole loops where every task waits, each with what it waits on and why, on
// every interpreter, on uvloop (3.14) and with eager tasks (3.12+). Split from
// diagnose_run.test.ts so that no test file comes near the runner's per-file time limit.
import * as assert from 'node:assert/strict';
import { eachPythonAndLoop } from './async_support';
import { at, blocks, eagerToo, only, runDiagnosed } from './diagnose_support';
import { it } from './support/matrix';
import { fixture } from './support/paths';

const deadlock = fixture('diag_deadlock.py');

eachPythonAndLoop('diagnose: deadlock', true, (py, loop) => {
  const uv = loop.label === 'uvloop';
  const whole = /^tasklens: deadlock: all \d+ tasks of the event loop in thread MainThread are waiting and nothing can wake them/m;
  for (const extra of eagerToo(py)) {
    it(`two locks taken in opposite orders: the cycle first, owners and acquiring lines${extra.length ? ' (eager tasks)' : ''}`, async () => {
      const run = await runDiagnosed(py, deadlock, ['locks', ...loop.args, ...extra], { stuckS: 1, until: /^tasklens: deadlock/m, timeoutMs: 20_000 });
      const [block] = blocks(run.stderr, 'deadlock');
      assert.ok(block, run.stderr);
      if (!uv) assert.match(block, whole);
      const cycle = block.split('\n')[1];
      assert.match(cycle, /^ {2}cycle: /, block);
      assert.match(cycle, /\(second\) → Lock a \(held by [^)]*\(first\) since /);
      assert.match(cycle, /\(first\) → Lock b \(held by [^)]*\(second\) since /);
      assert.ok(block.includes(`since ${at(deadlock, 'FIRST_HOLDS')}`) && block.includes(`since ${at(deadlock, 'SECOND_HOLDS')}`), block);
      assert.ok(block.includes(`waits at ${at(deadlock, 'FIRST_WAITS')} in first on Lock b`), block);
      const [report] = only(run.reports, 'deadlock');
      assert.equal((report.cycles as number[][])[0].length, 2);
    });
  }

  it('two locks taken in opposite orders while another task keeps the loop awake: the two named', async () => {
    const run = await runDiagnosed(py, deadlock, ['locks', '--busy', ...loop.args], { stuckS: 1, until: /^tasklens: deadlock/m, timeoutMs: 20_000 });
    const [block] = blocks(run.stderr, 'deadlock');
    assert.ok(block, run.stderr);
    assert.match(block, /^tasklens: deadlock: tasks Task-\d+, Task-\d+ of the event loop in thread MainThread wait on each other/, block);
    assert.match(block.split('\n')[1], /^ {2}cycle: .*\(first\) → Lock b \(held by [^)]*\(second\) since /, block);
    const [report] = only(run.reports, 'deadlock');
    assert.equal(report.wholeLoop, false);
    assert.equal((report.cycles as number[][])[0].length, 2);
    assert.doesNotMatch(run.stderr, /ticker/);
  });

  it('two tasks awaiting each other form a cycle', async () => {
    const run = await runDiagnosed(py, deadlock, ['tasks', ...loop.args], { stuckS: 1, until: /^tasklens: deadlock/m, timeoutMs: 20_000 });
    const [block] = blocks(run.stderr, 'deadlock');
    assert.ok(block, run.stderr);
    assert.match(block, /cycle: [xy] \(await_other\) → task [xy] \(await_other\) → [xy]/);
    assert.ok(block.includes(at(deadlock, 'AWAIT_OTHER')), block);
  });

  const others: [string, RegExp, string][] = [
    ['events', /Event mine.wait\(\); could be completed by task/, 'EVENT_WAIT'],
    ['queue', /Queue queue.get\(\) \(0 items\); no other live task uses this Queue .*task producer \(producer\), which used it, failed with ValueError: producer broke at .*diag_deadlock.py:\d+/, 'QUEUE_GET'],
    ['condition', /Condition cond.wait\(\); no other live task uses this Condition/, 'COND_WAIT'],
    ['future', /Future object; no other live task uses this Future/, 'FUTURE_WAIT'],
    ['semaphore', /Semaphore sem.acquire\(\); held by a task that has finished without releasing it \(acquired at .*diag_deadlock.py:\d+\)/, 'SEM_WAIT'],
    ['semaphore-zero', /Semaphore zero.acquire\(\); no task holds it while tasklens watches: its counter is 0 .*only a release\(\) frees it/, 'ZERO_WAIT'],
  ];
  for (const [shape, why, marker] of others) {
    it(`${shape}: the whole loop, with what each task waits on and why${uv ? ' ("likely": uvloop hides its timers and I/O)' : ''}`, async () => {
      const run = await runDiagnosed(py, deadlock, [shape, ...loop.args], { stuckS: 1, until: /^tasklens: (likely )?deadlock/m, timeoutMs: 20_000 });
      const [block] = blocks(run.stderr, uv ? 'likely deadlock' : 'deadlock');
      assert.ok(block, run.stderr);
      assert.match(block, uv ? /^tasklens: likely deadlock: all \d+ tasks of the event loop/ : whole);
      assert.ok(block.includes(at(deadlock, marker)), block);
      assert.match(block.replace(/\n\s+/g, '; '), why);
    });
  }
});

eachPythonAndLoop("diagnose: the loop's one task", true, (py, loop) => {
  it('waiting for an Event nobody sets: said of one task, not of "all 1 tasks"', async () => {
    const run = await runDiagnosed(py, deadlock, ['alone', ...loop.args], { stuckS: 1, until: /^tasklens: (likely )?deadlock/m, timeoutMs: 20_000 });
    const [block] = blocks(run.stderr, loop.label === 'uvloop' ? 'likely deadlock' : 'deadlock');
    assert.ok(block, run.stderr);
    assert.match(block, /deadlock: the one task of the event loop in thread MainThread is waiting and nothing can wake it/);
    assert.ok(block.includes(at(deadlock, 'ALONE_WAIT')), block);
  });
});
