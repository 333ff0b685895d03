// `tasklens ps|pstree` from memory on every interpreter of the matrix, 3.11 to 3.15: every task
// shape draws the edge its memory holds (and 3.11-3.13 say "awaiter unknown" where it holds
// none), a known TaskGroup tree comes out exact, loops in several threads keep their tasks
// apart, and an await deadlock names both waiting lines.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture } from './support/paths';
import { Running, startReady, tasklens } from './ps_fixture';
import type { PsReport } from '../src/inspect/report';
import type { Task } from '../src/inspect/model';

const legacy = (version: string): boolean => /^3\.1[1-3]\./.test(version);

async function psJson(pid: number): Promise<PsReport> {
  const r = await tasklens(['ps', '--json', '--source', 'memory', String(pid)]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PsReport;
}

/** Child name → awaiter names, for the named tasks. */
function edges(report: PsReport): Map<string, string[]> {
  const byId = new Map(report.tasks.map((t) => [t.id, t]));
  return new Map(report.tasks.map((t) => [t.name, t.awaitedBy.map((id) => byId.get(id)?.name ?? id).sort()]));
}

function lineOf(file: string, marker: string): number {
  return fs.readFileSync(fixture(file), 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
}

async function withFixture(py: string, args: string[], body: (p: Running) => Promise<void>): Promise<void> {
  const p = await startReady(py, args);
  try {
    await body(p);
  } finally {
    await p.stop();
  }
}

for (const py of pythons()) {
  describe(`ps from memory [${py.label}]`, () => {
    const loops = [{ label: 'asyncio', args: [] as string[] }];
    if (py.version.startsWith('3.14')) loops.push({ label: 'uvloop', args: ['uvloop'] });
    for (const loop of loops) {
      test(`each task shape draws its awaiter (${loop.label})`, { timeout: 60_000 }, () =>
        withFixture(py.path, [fixture('ps_shapes.py'), ...loop.args], async (p) => {
          const report = await psJson(p.pid);
          const e = edges(report);
          const expected: Array<[string, string[]]> = [
            ['awaited', ['awaiter']], ['g-a', ['gatherer']], ['g-b', ['gatherer']], ['tg-a', ['group']], ['tg-b', ['group']],
            ['subclass-child', ['subclass-awaiter']], ['awaiter', []], ['gatherer', []], ['group', []],
          ];
          if (!py.version.startsWith('3.11')) expected.push(['eager', ['eager-awaiter']]);
          for (const [child, by] of expected) assert.deepEqual(e.get(child), by, `awaiters of ${child}`);
          const waited = report.tasks.find((t) => t.name === 'waited') as Task;
          if (legacy(py.version)) {
            assert.deepEqual(waited.awaitedBy, []);
            assert.equal(waited.awaiterUnknown, 'asyncio.wait');
            assert.ok(report.warnings.some((w) => /asyncio\.wait.*awaiter unknown/.test(w)), report.warnings.join('; '));
          } else {
            assert.equal(waited.awaiterUnknown, undefined);
          }
          for (const name of ['awaited', 'g-a', 'tg-a', 'subclass-child', 'waited']) {
            const t = report.tasks.find((x) => x.name === name) as Task;
            assert.deepEqual(t.stack.map((f) => f.function), ['sleep', 'leaf'], `stack of ${name}`);
            assert.equal(t.state, 'suspended');
            assert.equal(t.threadId, p.pid, `${name} runs on the main thread's loop`);
          }
        }));
    }

    test('a TaskGroup tree of 300 leaves: every task and edge, nothing more', { timeout: 90_000 }, () =>
      withFixture(py.path, [fixture('ps_many.py'), '300'], async (p) => {
        const report = await psJson(p.pid);
        const byId = new Map(report.tasks.map((t) => [t.id, t]));
        assert.equal(report.tasks.length, 300 + 3 + 2, 'leaves, branches, top and main');
        assert.equal(byId.size, report.tasks.length, 'no task twice');
        const fns = (t: Task): string => t.stack.map((f) => f.function).join(' -> ');
        const leaves = report.tasks.filter((t) => fns(t) === 'sleep -> leaf');
        const branches = report.tasks.filter((t) => /^TaskGroup\._?_?aexit.* -> branch$/.test(fns(t)));
        const top = report.tasks.filter((t) => t.name === 'top');
        const main = report.tasks.filter((t) => fns(t) === 'main');
        assert.deepEqual([leaves.length, branches.length, top.length, main.length], [300, 3, 1, 1]);
        for (const l of leaves) {
          assert.equal(l.awaitedBy.length, 1);
          assert.ok(branches.includes(byId.get(l.awaitedBy[0]) as Task), 'a leaf is awaited by its branch');
        }
        const perBranch = branches.map((b) => leaves.filter((l) => l.awaitedBy[0] === b.id).length).sort();
        assert.deepEqual(perBranch, [100, 100, 100]);
        for (const b of branches) assert.deepEqual(b.awaitedBy, [top[0].id]);
        assert.deepEqual(top[0].awaitedBy, [main[0].id]);
        assert.deepEqual(main[0].awaitedBy, []);
        assert.ok(report.tasks.every((t) => t.error === undefined && t.awaiterUnknown === undefined));
      }));

    test('loops in two threads keep their tasks; a task of an ended thread has none', { timeout: 60_000 }, () =>
      withFixture(py.path, [fixture('ps_threads.py')], async (p) => {
        const report = await psJson(p.pid);
        const tid = (name: string): number => (report.tasks.find((t) => t.name === name) as Task).threadId;
        assert.equal(tid('main-child'), p.pid);
        assert.notEqual(tid('side-a'), p.pid);
        assert.notEqual(tid('side-a'), 0);
        assert.equal(tid('side-b'), tid('side-a'));
        assert.equal(tid('orphan'), 0);
        const e = edges(report);
        assert.deepEqual(e.get('side-a'), e.get('side-b'));
        assert.equal(e.get('side-a')?.length, 1);
      }));

    test('an await deadlock: pstree names the cycle and both waiting lines', { timeout: 60_000 }, () =>
      withFixture(py.path, [fixture('ps_cycle.py')], async (p) => {
        const r = await tasklens(['pstree', '--source', 'memory', String(p.pid)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^cycle 1: (first → second → first|second → first → second)$/m);
        assert.match(r.stdout, new RegExp(`first \\S*ps_cycle\\.py:${lineOf('ps_cycle.py', 'await tasks["second"]')}`));
        assert.match(r.stdout, new RegExp(`second \\S*ps_cycle\\.py:${lineOf('ps_cycle.py', 'await tasks["first"]')}`));
      }));
  });
}
