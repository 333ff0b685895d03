// tasklens ps/pstree against CPython's own `python -m asyncio ps|pstree`, on the same live
// process, for every interpreter of the matrix that publishes task lists (3.14+).
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture } from './support/paths';
import { CpyRow, parseCpythonTable, run, Running, startReady, tasklens } from './ps_fixture';
import type { PsReport, PstreeReport } from '../src/inspect/report';
import type { TreeNode } from '../src/inspect/tree';

const readable = pythons().filter((p) => /^3\.(1[4-9])\./.test(p.version));

function key(r: Omit<CpyRow, 'tid'> & { tid?: string }): string {
  return [r.taskId, r.taskName, r.stack, r.awaiterChain, r.awaiterName, r.awaiterId].join(' | ');
}

function ours(report: PsReport): Array<CpyRow> {
  return report.rows.map((r) => ({
    tid: String(r.threadId), taskId: r.taskId, taskName: r.taskName, stack: r.coroutineStack.join(' -> '),
    awaiterChain: r.awaiterChain.join(' -> '), awaiterName: r.awaiterName, awaiterId: r.awaiterId,
  }));
}

async function both(python: string, pid: number): Promise<{ mine: CpyRow[]; theirs: CpyRow[]; report: PsReport }> {
  const [m, c] = await Promise.all([tasklens(['ps', '--json', String(pid)]), run(python, ['-m', 'asyncio', 'ps', String(pid)])]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(c.code, 0, c.stderr);
  const report = JSON.parse(m.stdout) as PsReport;
  return { mine: ours(report), theirs: parseCpythonTable(c.stdout), report };
}

function treeNames(nodes: TreeNode[], out: string[] = []): string[] {
  for (const n of nodes) {
    if (n.kind === 'task') out.push(n.name);
    treeNames(n.children, out);
  }
  return out;
}

const normaliseTree = (s: string): string[] => s.split('\n').map((l) => l.replace(/\s+/g, ' ').trimEnd()).filter((l) => l !== '');

if (readable.length < 2) {
  test('the matrix has CPython 3.14 and 3.15', () => assert.fail(`found only: ${pythons().map((p) => p.version).join(', ')}`));
}

for (const py of readable) {
  describe(`ps against python -m asyncio ps [py${py.version}]`, () => {
    const withFixture = (name: string, args: string[], body: (p: Running) => Promise<void>) => async () => {
      const p = await startReady(py.path, [fixture(name), ...args]);
      try {
        await body(p);
      } finally {
        await p.stop();
      }
    };

    test('TaskGroup fan-out, nested gathers and a shield: same rows, same tree', { timeout: 60_000 },
      withFixture('ps_taskgroup.py', [], async (p) => {
        const { mine, theirs, report } = await both(py.path, p.pid);
        assert.equal(theirs.length, 13);
        assert.deepEqual(mine.map(key).sort(), theirs.map(key).sort());
        assert.deepEqual(mine.map((r) => r.tid), theirs.map((r) => r.tid));
        assert.ok(report.tasks.every((t) => t.state === 'suspended'), 'every task waits');
        const [tm, tc] = await Promise.all([tasklens(['pstree', String(p.pid)]), run(py.path, ['-m', 'asyncio', 'pstree', String(p.pid)])]);
        assert.equal(tm.code, 0, tm.stderr);
        assert.deepEqual(normaliseTree(tm.stdout), normaliseTree(tc.stdout));
      }));

    test('two threads with their own loops and a task left by an ended thread', { timeout: 60_000 },
      withFixture('ps_threads.py', [], async (p) => {
        const { mine, theirs } = await both(py.path, p.pid);
        const theirKeys = new Set(theirs.map((r) => `${r.tid} ${key(r)}`));
        const mineKeys = new Set(mine.map((r) => `${r.tid} ${key(r)}`));
        for (const k of theirKeys) assert.ok(mineKeys.has(k), `CPython lists a row tasklens misses: ${k}`);
        // CPython 3.14's reader skips the second thread's list; 3.15 lists it, and so must we.
        if (!py.version.startsWith('3.14')) assert.equal(mineKeys.size, theirKeys.size);
        const side = mine.filter((r) => r.taskName === 'side-a' || r.taskName === 'side-b');
        assert.equal(side.length, 2);
        for (const r of side) {
          assert.equal(r.stack, 'sleep -> park');
          assert.match(r.awaiterChain, /TaskGroup\.__aexit__ -> side_main$/);
        }
        const orphan = mine.find((r) => r.taskName === 'orphan');
        assert.equal(orphan?.tid, '0', 'a task of an ended thread is on the interpreter list');
        assert.equal(new Set(mine.map((r) => r.tid)).size, 3);
      }));

    test('2,000 tasks in a TaskGroup tree: same rows and tree as CPython', { timeout: 90_000 },
      withFixture('ps_many.py', ['2000'], async (p) => {
        const { mine, theirs } = await both(py.path, p.pid);
        assert.equal(theirs.length, 2000 + 20 + 2);
        assert.deepEqual(mine.map(key).sort(), theirs.map(key).sort());
        const [tm, tc] = await Promise.all([tasklens(['pstree', String(p.pid)]), run(py.path, ['-m', 'asyncio', 'pstree', String(p.pid)])]);
        assert.deepEqual(normaliseTree(tm.stdout), normaliseTree(tc.stdout));
      }));

    test('an await cycle: rows agree, CPython refuses the tree, tasklens draws it and names the cycle', { timeout: 60_000 },
      withFixture('ps_cycle.py', [], async (p) => {
        const { mine, theirs, report } = await both(py.path, p.pid);
        assert.deepEqual(mine.map(key).sort(), theirs.map(key).sort());
        assert.equal(report.cycles.length, 1);
        assert.deepEqual([...report.cycles[0].taskNames].sort(), ['first', 'second']);
        const cpyTree = await run(py.path, ['-m', 'asyncio', 'pstree', String(p.pid)]);
        assert.notEqual(cpyTree.code, 0);
        const tree = await tasklens(['pstree', '--json', String(p.pid)]);
        assert.equal(tree.code, 0, tree.stderr);
        const doc = JSON.parse(tree.stdout) as PstreeReport;
        const names = treeNames(doc.roots);
        for (const t of ['Task-1', 'bystander', 'first', 'second']) assert.ok(names.includes(t), `${t} is drawn`);
        const text = await tasklens(['pstree', String(p.pid)]);
        assert.match(text.stdout, /↺ closes cycle 1/);
        assert.match(text.stdout, /^cycle 1: (first → second → first|second → first → second)$/m);
      }));
  });
}
