// The task model alone, on made-up snapshots: cycle naming, trees that must not lose a task,
// and shapes (very deep await chains) that real fixtures make slow to reach.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findCycles } from '../src/inspect/graph';
import { Snapshot, Task } from '../src/inspect/model';
import { psReport, psText, pstreeReport, pstreeText } from '../src/inspect/report';
import { TreeNode } from '../src/inspect/tree';
import { quickInspectArgs } from '../src/inspect/options';

function snap(edges: Array<[string, string[]]>): Snapshot {
  const tasks: Task[] = edges.map(([id, awaitedBy]) => ({
    id, name: `n-${id}`, threadId: 1, interpreterId: 0, state: 'suspended',
    stack: [{ function: `f_${id}`, file: 'app.py', line: 3 }], awaitedBy,
  }));
  return { pid: 1, source: 'memory', pythonVersion: '3.14.0', tasks, truncated: false, warnings: [] };
}

function countTasks(nodes: TreeNode[]): Set<string> {
  const seen = new Set<string>();
  const work = [...nodes];
  while (work.length) {
    const n = work.pop()!;
    if (n.kind === 'task') seen.add(n.id);
    work.push(...n.children);
  }
  return seen;
}

describe('task model', () => {
  test('cycles are found, named in listing order, and each is a real loop', () => {
    // a→b→c→a, d awaits itself, e→f acyclic (x awaits y means y.awaitedBy has x).
    const s = snap([['a', ['c']], ['b', ['a']], ['c', ['b']], ['d', ['d']], ['e', []], ['f', ['e']]]);
    const cycles = findCycles(s);
    assert.deepEqual(cycles.map((c) => c.name), ['cycle 1', 'cycle 2']);
    assert.deepEqual(cycles[0].tasks, ['a', 'b', 'c']);
    assert.deepEqual(cycles[1].tasks, ['d']);
  });

  test('a tree made only of cycles still shows every task, marking where each cycle closes', () => {
    const s = snap([['a', ['b']], ['b', ['a']], ['c', ['c']]]);
    const report = pstreeReport(s);
    assert.deepEqual([...countTasks(report.roots)].sort(), ['a', 'b', 'c']);
    const text = pstreeText(s);
    assert.equal(text.match(/↺ closes cycle/g)?.length, 2);
    assert.match(text, /^cycle 1: n-a → n-b → n-a$/m);
  });

  test('an awaiter that is not a listed task keeps its children in the tree and is "Unknown" in rows', () => {
    const s = snap([['a', ['0xdead']]]);
    const rows = psReport(s).rows;
    assert.equal(rows[0].awaiterName, 'Unknown');
    assert.deepEqual([...countTasks(pstreeReport(s).roots)].sort(), ['0xdead', 'a']);
  });

  test('a 20,000-task await chain neither overflows the stack nor loses a task', () => {
    const n = 20_000;
    const s = snap(Array.from({ length: n }, (_, i) => [`t${i}`, i === 0 ? [] : [`t${i - 1}`]] as [string, string[]]));
    assert.deepEqual(findCycles(s), []);
    assert.equal(countTasks(pstreeReport(s).roots).size, n);
    assert.equal(psReport(s).rows.length, n);
  });

  test('the text table shows exactly the cells of the JSON rows, aligned under the headers', () => {
    // Cycles, a task read only in part, an awaiter that is no task, two awaiters, a wide name.
    const s = snap([['a', ['c']], ['b', ['a']], ['c', ['b']], ['d', []], ['e', ['d', '0xfeed']], ['f', ['e']]]);
    s.tasks[3].name = 'dé ünïcode — wide';
    s.tasks[4].error = 'task changed while being read';
    s.tasks[4].stack = [{ function: 'inner', file: 'x.py', line: 1 }, { function: 'outer', file: 'x.py', line: 9 }];
    s.tasks[5].threadId = 12345;
    const report = psReport(s);
    // Unlimited width (a pipe): every cell whole.
    const lines = psText(s).split('\n');
    // Every column starts where its header does; the last runs to the end of the line.
    const starts = [0, ...[...lines[1].matchAll(/ {2}(?=-)/g)].map((m) => m.index + 2)];
    report.rows.forEach((r, i) => {
      const line = lines[i + 2];
      const cells = starts.map((at, c) => line.slice(at, c + 1 < starts.length ? starts[c + 1] - 2 : undefined).trimEnd());
      assert.deepEqual(cells, [
        String(r.threadId), r.taskId, r.taskName, r.cycle ? `${r.state} [${r.cycle}]` : r.state,
        r.coroutineStack.join(' -> '), r.awaiterChain.join(' -> '), r.awaiterName, r.awaiterId,
      ], `row ${i}`);
      assert.equal(line, line.trimEnd());
    });
    assert.equal(lines.length, report.rows.length + 2 + report.cycles.length + 1);
    assert.equal(lines.at(-2), 'cycle 1: n-a → n-b → n-c → n-a');
  });
});


describe('the quick parser of `ps` / `pstree` / `dump` arguments', () => {
  test('takes the plain forms, with the same defaults as the full parser', () => {
    const defaults = { maxTasks: 200_000, maxFrames: 256 };
    assert.deepEqual(quickInspectArgs(['ps', '42']), { command: 'ps', pid: 42, options: defaults });
    assert.deepEqual(quickInspectArgs(['pstree', '--json', '7', '--max-frames', '3']),
      { command: 'pstree', pid: 7, options: { ...defaults, json: true, maxFrames: 3 } });
    assert.deepEqual(quickInspectArgs(['ps', '--width', '40', '--max-tasks', '10', '9']),
      { command: 'ps', pid: 9, options: { ...defaults, width: 40, maxTasks: 10 } });
    assert.deepEqual(quickInspectArgs(['pstree', '--width', '80', '9']), { command: 'pstree', pid: 9, options: { ...defaults, width: 80 } });
    assert.deepEqual(quickInspectArgs(['ps', '--wide', '9']), { command: 'ps', pid: 9, options: { ...defaults, wide: true } });
    assert.deepEqual(quickInspectArgs(['dump', '9', '--locals', '--json']), { command: 'dump', pid: 9, options: { ...defaults, locals: true, json: true } });
  });

  test('leaves everything else to the full parser', () => {
    for (const argv of [
      [], ['ps'], ['run', 'x.py'], ['ps', '--help'], ['ps', '0'], ['ps', '-1'], ['ps', '1', '2'], ['ps', '1x'],
      ['ps', '--width', '0', '1'], ['ps', '--width=5', '1'], ['pstree', '--width', '5', '1'], ['ps', '--width', '39', '1'],
      ['ps', '1', '--max-tasks'], ['ps', '--locals', '1'], ['dump', '--wide', '1'], ['dump', '--width', '80', '1'],
      ['dump', '--source', 'agent', '1'], ['ps', '--wide', '--width', '80', '1'],
    ]) {
      assert.equal(quickInspectArgs(argv), null, argv.join(' '));
    }
  });
});
