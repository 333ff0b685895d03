// The task model alone, on made-up snapshots: cycle naming, trees that must not lose a task,
// and shapes (very deep await chains) that real fixtures make slow to reach.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findCycles } from '../src/inspect/graph';
import { Snapshot, Task } from '../src/inspect/model';
import { psReport, pstreeReport, pstreeText } from '../src/inspect/report';
import { TreeNode } from '../src/inspect/tree';

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
    const text = pstreeText(report);
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
});
