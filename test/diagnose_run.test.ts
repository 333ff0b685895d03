// `--diagnose` as `tasklens run` passes it to the agent: each of the five diagnostics on several
// program shapes, as stderr blocks naming `/abs/path.py:line` and as `--diagnose-json` reports,
// on every interpreter, on uvloop (3.14) and with eager tasks (3.12+); bad options stop before
// the program with exit status 2. Deadlocks are in diagnose_deadlock.test.ts, programs that must
// stay quiet in diagnose_quiet.test.ts.
import * as assert from 'node:assert/strict';
import { eachPythonAndLoop, lineOf } from './async_support';
import { at, blocks, eagerToo, kinds, only, runDiagnosed } from './diagnose_support';
import { it } from './support/matrix';
import { fixture } from './support/paths';

const blocked = fixture('diag_blocked.py');
const unawaited = fixture('diag_unawaited.py');
const lost = fixture('diag_lost.py');
const deadlock = fixture('diag_deadlock.py');
const stuck = fixture('diag_stuck.py');
const alikeStuck = fixture('diag_stuck_alike.py');
const common = fixture('diag_common.py');

eachPythonAndLoop('diagnose: blocked loop', true, (py, loop) => {
  const eager = eagerToo(py).slice(1);
  const variants: [string, string[], string][] = [
    ['time.sleep in a task', [], 'SLEEP_LINE'],
    ['a C call (pbkdf2) in a task', [], 'HASH_LINE'],
    ['a loop callback', [], 'CALLBACK_LINE'],
    ['a loop in a second thread', ['--thread'], 'SLEEP_LINE'],
    ...eager.map((e): [string, string[], string] => ['an eager task', e, 'SLEEP_LINE']),
  ];
  for (const [label, extra, marker] of variants) {
    it(`reported while it blocks, at the blocking line, then its final duration: ${label}`, async () => {
      const shape = marker === 'HASH_LINE' ? 'hash' : marker === 'CALLBACK_LINE' ? 'callback' : 'sleep';
      const run = await runDiagnosed(py, blocked, [shape, ...extra, ...loop.args], { slowMs: 100 });
      assert.equal(run.code, 0, run.stderr);
      const [first] = blocks(run.stderr, 'blocked loop:');
      assert.ok(first, run.stderr);
      assert.ok(first.includes(`blocking at ${at(blocked, marker)}`), first);
      assert.match(first, marker === 'CALLBACK_LINE' ? /callback slow_callback/ : /task slow-handler \(handler\)/);
      assert.match(first, extra.includes('--thread') ? /thread loop-thread/ : /thread MainThread/);
      if (marker !== 'CALLBACK_LINE') assert.ok(first.includes(`task created at ${at(blocked, 'CREATE_LINE')}`), first);
      assert.match(run.stderr, /^tasklens: blocked loop ended: .* for \d+\.\d+ s/m);
      const [report] = only(run.reports, 'blockedLoop');
      const [ended] = only(run.reports, 'blockedLoopEnded');
      assert.ok(report && ended, JSON.stringify(run.reports));
      assert.equal((report.stack as { line: number }[])[0].line, lineOf(blocked, marker));
      assert.ok((report.durationSeconds as number) >= 0.1);
      assert.ok((report.durationSeconds as number) < (ended.durationSeconds as number), 'reported before the step ended');
      // The step lasts 0.4 s (the hash: until its last call past 0.4 s ends). On a selector
      // loop its ends are read where the loop leaves and enters select(), not guessed between
      // two of the watchdog's ticks (20-30 ms apart); uvloop shows no iterations: a tick each side.
      const lasted = ended.durationSeconds as number;
      const [low, high] = loop.label === 'uvloop' ? [0.35, 0.5] : [0.395, shape === 'hash' ? 0.45 : 0.42];
      assert.ok(lasted >= low && lasted <= high, `blocked for ${lasted} s, not 0.4 s: ${run.stderr}`);
      assert.equal(only(run.reports, 'blockedLoop').length, 1);
    });
  }

  it('many short steps make a saturated loop, not a blocked one', async () => {
    const run = await runDiagnosed(py, blocked, ['saturated', ...loop.args], { slowMs: 100 });
    assert.equal(run.code, 0, run.stderr);
    if (loop.label === 'uvloop') {
      assert.deepEqual(only(run.reports, 'blockedLoop'), [], run.stderr);
      return;     // uvloop shows no iterations: nothing to call saturated
    }
    assert.ok(only(run.reports, 'saturatedLoop').length >= 1, run.stderr);
    assert.match(run.stderr, /^tasklens: saturated loop: one iteration of the event loop of thread MainThread/m);
  });
});

eachPythonAndLoop('diagnose: coroutine never awaited', true, (py, loop) => {
  it('names the coroutine, the dropping line and the creating line; Python still warns', async () => {
    const run = await runDiagnosed(py, unawaited, loop.args, { slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    const found = blocks(run.stderr, 'coroutine never awaited: fetch()');
    assert.equal(found.length, 5, run.stderr);
    assert.ok(found[0].includes(`dropped at ${at(unawaited, 'DROP_PLAIN')} in fire_and_forget`), found[0]);
    assert.ok(!found[0].includes('created at'), found[0]);
    assert.ok(found[1].includes(`dropped at ${at(unawaited, 'DROP_KEPT')} in keep_then_drop`), found[1]);
    assert.ok(found[1].includes(`created at ${at(unawaited, 'CREATE_KEPT')}`), found[1]);
    assert.match(found[2], /dropped by the event loop: .*callback/);
    // made in Holder's constructor: no line of drop_held made it (the call of the same name
    // comes after the drop, outside any loop)
    assert.ok(found[3].includes(`dropped at ${at(unawaited, 'DROP_HELD')} in drop_held`), found[3]);
    assert.ok(!found[3].includes('created at'), found[3]);
    // in a loop, the line after the drop made it on the previous pass
    assert.ok(found[4].includes(`dropped at ${at(unawaited, 'DROP_LOOP')} in loop_drop`), found[4]);
    assert.ok(found[4].includes(`created at ${at(unawaited, 'CREATE_LOOP')}`), found[4]);
    assert.match(run.stderr, /RuntimeWarning: coroutine 'fetch' was never awaited/);
    // Python's own warning names the dropping line, as under plain python, not tasklens' code.
    assert.ok(run.stderr.includes(`${at(unawaited, 'DROP_PLAIN')}: RuntimeWarning: coroutine 'fetch' was never awaited`), run.stderr);
    assert.ok(!/tasklens_agent[^\n]*RuntimeWarning/.test(run.stderr), run.stderr);
    const reports = only(run.reports, 'neverAwaited');
    assert.deepEqual(reports.map((r) => r.coroutine), ['fetch', 'fetch', 'fetch', 'fetch', 'fetch']);
    assert.deepEqual((reports[1].droppedAt as { line: number }).line, lineOf(unawaited, 'DROP_KEPT'));
  });
});

eachPythonAndLoop('diagnose: task exception never retrieved', true, (py, loop) => {
  for (const extra of eagerToo(py)) {
    it(`reported when the task ends, with its traceback and creation line; a later retrieval follows up${extra.length ? ' (eager tasks)' : ''}`, async () => {
      const run = await runDiagnosed(py, lost, [...loop.args, ...extra], { slowMs: 2000 });
      assert.equal(run.code, 0, run.stderr);
      const found = blocks(run.stderr, 'exception never retrieved');
      assert.equal(found.length, 2, run.stderr);
      assert.match(found[0], /task kept \(worker\) failed with ValueError: bad item 'kept'/);
      assert.ok(found[0].includes(`raised at ${at(lost, 'RAISE_LINE')} in parse`), found[0]);
      assert.ok(found[0].includes(`called from ${at(lost, 'CALL_LINE')} in worker`), found[0]);
      assert.ok(found[0].includes(`task created at ${at(lost, 'CREATE_KEPT')}`), found[0]);
      assert.match(found[1], /task late \(worker\)/);
      assert.match(run.stderr, /^tasklens: exception retrieved later: the ValueError of task late \(worker\)/m);
      assert.deepEqual(kinds(run.reports), ['exceptionNotRetrieved', 'exceptionNotRetrieved', 'exceptionRetrievedLater']);
      // Reported when it finished: before the program's end, while `kept` is still referenced.
      assert.match(run.stdout, /finished True/);
      assert.ok(run.stderr.indexOf('task kept') < run.stderr.indexOf('task late'));
    });
  }
});


eachPythonAndLoop('diagnose: a loop with a signal handler', true, (py, loop) => {
  it('waiting only for the signal that stops the program is no deadlock', async () => {
    const run = await runDiagnosed(py, fixture('diag_signal_wait.py'), loop.args, { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /stopped/);
    assert.deepEqual(run.reports, [], run.stderr);
  });

  if (loop.label !== 'uvloop') {
    it('tasks waiting on each other, the handler holding none of it: a likely deadlock, saying why', async () => {
      const run = await runDiagnosed(py, deadlock, ['events', '--signal'], { stuckS: 1, until: /^tasklens: (likely )?deadlock/m, timeoutMs: 20_000 });
      const [block] = blocks(run.stderr, 'likely deadlock');
      assert.ok(block, run.stderr);
      assert.match(block, /^tasklens: likely deadlock: all 3 tasks of the event loop in thread MainThread/);
      assert.match(block, /likely: a signal handler of the loop could still wake it/);
    });
  }
});

eachPythonAndLoop('diagnose: stuck task', true, (py, loop) => {
  it('a consumer whose producer failed, while the loop runs on', async () => {
    const run = await runDiagnosed(py, stuck, [...loop.args, '4'], { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    const [block] = blocks(run.stderr, 'stuck task');
    assert.ok(block, run.stderr);
    assert.match(block, /task consumer \(consumer\) has waited \d+\.\d s at .* and nothing will wake it/);
    assert.ok(block.includes(at(stuck, 'CONSUMER_WAIT')), block);
    assert.match(block, /task producer \(producer\), which used it, failed with ValueError: producer broke/);
    assert.deepEqual(only(run.reports, 'deadlock'), []);
    const [report] = only(run.reports, 'stuckTask');
    assert.ok((report.waitedSeconds as number) >= 1);
  });
});

eachPythonAndLoop('diagnose: tasks stuck alike', true, (py, loop) => {
  it('one report for the tasks that wait alike: counted, named, and whether they share the object', async () => {
    const run = await runDiagnosed(py, alikeStuck, [...loop.args, '4'], { stuckS: 1, slowMs: 2000 });
    assert.equal(run.code, 0, run.stderr);
    const found = blocks(run.stderr, 'stuck task');
    assert.equal(found.length, 2, run.stderr);
    const [listeners, workers] = found;
    assert.match(listeners, /^tasklens: stuck task: task listener-0 \(worker\) and 2 more like it have waited \d+\.\d(-\d+\.\d)? s at .* and nothing will wake them/);
    assert.match(listeners, /waiting on Event ev\.wait\(\), all on the same Event/);
    assert.ok(listeners.includes(`all created at ${at(alikeStuck, 'LISTENERS_MADE')}`), listeners);
    assert.match(listeners, /the others: listener-1, listener-2$/m);
    assert.match(workers, /^tasklens: stuck task: task worker-0 \(worker\) and 29 more like it have waited/);
    assert.ok(workers.includes(at(alikeStuck, 'WORKER_WAIT')), workers);
    assert.match(workers, /waiting on Event ev\.wait\(\), each on an Event of its own/);
    assert.match(workers, /the others: worker-1, worker-2, worker-3, worker-4, worker-5, worker-6, worker-7, worker-8 and 21 more$/m);
    const reports = only(run.reports, 'stuckTask');
    assert.equal(reports.length, 2, JSON.stringify(reports));
    const byCount = new Map(reports.map((r) => [r.count as number, r]));
    const all = byCount.get(30)!;
    assert.ok(all, JSON.stringify(reports));
    assert.equal(all.objects, 30);
    const names = [(all.task as { name: string }).name, ...(all.alike as { name: string }[]).map((a) => a.name)];
    assert.deepEqual(names, Array.from({ length: 30 }, (_, i) => `worker-${i}`));
    assert.ok((all.alike as { waitedSeconds: number }[]).every((a) => a.waitedSeconds >= 1));
    assert.equal(byCount.get(3)?.objects, 1);
  });
});


eachPythonAndLoop('diagnose: bad options', false, (py) => {
  for (const [flags, message] of [
    [['--slow-ms', '0'], /--slow-ms needs a positive number, not '0'/],
    [['--stuck-s', 'soon'], /--stuck-s needs a positive number, not 'soon'/],
    [['--diagnose-json', '/nonexistent-dir/r.json'], /cannot write the diagnostics file \/nonexistent-dir\/r.json/],
  ] as [string[], RegExp][]) {
    it(`${flags.join(' ')}: one line, exit status 2, the program never runs`, async () => {
      const run = await runDiagnosed(py, common, [], { json: false, extra: flags });
      assert.equal(run.code, 2);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    });
  }
});
