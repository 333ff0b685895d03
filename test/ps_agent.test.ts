// `tasklens ps` / `pstree` on programs run under `tasklens run`: the agent's answer (tasks,
// stacks, awaiter edges, what each task waits on), its agreement with a memory read, the visit
// leaving the program untouched, and the fallbacks when the agent cannot be asked.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture } from './support/paths';
import { lens, withApp } from './ps_agent_fixture';
import type { Task } from '../src/inspect/model';
import type { PsReport, PstreeReport } from '../src/inspect/report';
import type { TreeNode } from '../src/inspect/tree';

const APP = 'psagent_app.py';
const appText = fs.readFileSync(fixture(APP), 'utf8').split('\n');
const lineOf = (text: string): number => appText.findIndex((l) => l.includes(text)) + 1;

/** The last part of a qualified name (`TaskGroup._aexit` → `_aexit`). */
const short = (f: string): string => f.slice(f.lastIndexOf('.') + 1);
const names = (t: Task): string[] => t.stack.map((f) => short(f.function));
/** Unnamed tasks (Task-N, numbered differently on each run) go by their outermost function. */
const label = (t: Task): string => (/^Task-\d+$/.test(t.name) ? names(t)[t.stack.length - 1] : t.name);

function edges(tasks: Task[]): string[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const out: string[] = [];
  for (const t of tasks) for (const a of t.awaitedBy) out.push(`${label(t)} <- ${byId.has(a) ? label(byId.get(a)!) : a}`);
  return out.sort();
}

// Who awaits whom in psagent_app.py, as asyncio has it.
const EXPECTED_EDGES = [
  ...['pair', 'nested', 'shield-owner', 'consumer', 'locker', 'event-waiter', 'sleeper', 'future-waiter'].map((n) => `${n} <- group`),
  'worker <- pair', 'worker <- pair', 'gather_pair <- nested', 'worker <- nested',
  'worker <- gather_pair', 'worker <- gather_pair', 'inner-shielded <- shield-owner',
].sort();

function taskNamed(r: PsReport, name: string): Task {
  const t = r.tasks.find((x) => x.name === name);
  assert.ok(t, `no task ${name} in ${r.tasks.map((x) => x.name).join(', ')}`);
  return t;
}

function treeTasks(nodes: TreeNode[], out: Array<TreeNode & { kind: 'task' }> = []): Array<TreeNode & { kind: 'task' }> {
  for (const n of nodes) {
    if (n.kind === 'task') out.push(n);
    treeTasks(n.children, out);
  }
  return out;
}

for (const py of pythons()) {
  const readable = /^3\.(1[1-9])\./.test(py.version);
  describe(`ps / pstree ask the agent [${py.label}]`, () => {
    test('a program without asyncio: no tasks, and the warning a memory read gives', { timeout: 60_000 }, () =>
      withApp(py.path, 'psagent_plain.py', false, async (app, xdg) => {
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as PsReport;
        assert.equal(report.source, 'agent');
        assert.deepEqual(report.tasks, []);
        assert.deepEqual(report.warnings, ['asyncio is not loaded in this process: it has no tasks']);
      }));

    test('tasks, stacks and what each task waits on, from the agent; the program runs on', { timeout: 90_000 }, () =>
      withApp(py.path, APP, false, async (app, xdg) => {
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        const report = JSON.parse(r.stdout) as PsReport;
        assert.equal(report.source, 'agent');
        assert.equal(report.pid, app.pid);
        assert.equal(report.pythonVersion, py.version);
        const labels = report.tasks.map(label).sort();
        assert.deepEqual(labels, [
          'consumer', 'event-waiter', 'future-waiter', 'gather_pair', 'group', 'inner-shielded', 'locker', 'main', 'nested',
          'pair', 'shield-owner', 'sleeper', 'ticker', 'worker', 'worker', 'worker', 'worker', 'worker',
        ]);
        assert.ok(report.tasks.every((t) => t.state === 'suspended'), 'every task waits');
        assert.deepEqual(names(taskNamed(report, 'consumer')), ['get', 'consume']);
        assert.deepEqual(names(taskNamed(report, 'locker')), ['acquire', '__aenter__', 'take']);
        assert.deepEqual(names(taskNamed(report, 'sleeper')), ['sleep', 'leaf']);
        assert.deepEqual(names(taskNamed(report, 'inner-shielded')), ['sleep', 'leaf', 'worker']);
        const consume = taskNamed(report, 'consumer').stack[1];
        assert.deepEqual(consume, { function: 'consume', file: fixture(APP), line: lineOf('await queue.get()') });

        assert.equal(taskNamed(report, 'consumer').waitingOn, 'Queue.get() (0 items)');
        assert.equal(taskNamed(report, 'locker').waitingOn, 'Lock.acquire()');
        assert.equal(taskNamed(report, 'event-waiter').waitingOn, 'Event.wait()');
        assert.equal(taskNamed(report, 'future-waiter').waitingOn, 'future Future');
        assert.equal(taskNamed(report, 'pair').waitingOn, 'gather of 2 awaitables');
        assert.match(taskNamed(report, 'group').waitingOn ?? '', /^the end of its TaskGroup \(\d+ tasks? left\)$/);
        const sleep = /^asyncio\.sleep\(3600\) until loop time (\d+\.\d+) \(in (\d+\.\d+) s\)$/.exec(taskNamed(report, 'sleeper').waitingOn ?? '');
        assert.ok(sleep, `sleeper waits on ${taskNamed(report, 'sleeper').waitingOn}`);
        assert.ok(Number(sleep[2]) > 3500 && Number(sleep[2]) <= 3600, 'the deadline is an hour away');
        // Debug mode: asyncio kept where each task was created.
        assert.deepEqual(taskNamed(report, 'consumer').createdAt, { file: fixture(APP), line: lineOf('consume(queue), name="consumer"') });
        // The agent dates every task (the app waited 0.3 s before saying it was ready).
        for (const t of report.tasks) assert.ok((t.ageSeconds ?? -1) >= 0.25 && (t.ageSeconds ?? 0) < 60, `${t.name} age ${t.ageSeconds}`);
        // Native thread ids (the main thread's is the pid); qualified function names.
        assert.ok(report.tasks.every((t) => t.threadId === app.pid), 'every loop runs on the main thread');
        assert.equal(taskNamed(report, 'consumer').stack[0].function, 'Queue.get');
        const row = report.rows.find((x) => x.taskName === 'locker');
        assert.equal(row?.waitingOn, 'Lock.acquire()');

        const text = await lens(['ps', String(app.pid)], xdg);
        assert.equal(text.code, 0, text.stderr);
        const [header] = text.stdout.split('\n');
        assert.match(header, /^tid\s+task id\s+task name\s+state\s+age\s+waiting on\s+created at\s+coroutine stack\s+awaiter chain\s+awaiter name\s+awaiter id$/);
        assert.match(text.stdout, /consumer\s+suspended\s+\d+\.\d s\s+Queue\.get\(\) \(0 items\)\s+\S+psagent_app\.py:\d+\s+Queue\.get -> consume/);

        const tree = await lens(['pstree', '--json', String(app.pid)], xdg);
        assert.equal(tree.code, 0, tree.stderr);
        const treeReport = JSON.parse(tree.stdout) as PstreeReport;
        assert.equal(treeReport.source, 'agent');
        const nodes = treeTasks(treeReport.roots);
        assert.equal(nodes.find((n) => n.name === 'event-waiter')?.waitingOn, 'Event.wait()');
        assert.deepEqual(nodes.find((n) => n.name === 'locker')?.createdAt, { file: fixture(APP), line: lineOf('take(lock), name="locker"') });
        const treeText = await lens(['pstree', String(app.pid)], xdg);
        assert.match(treeText.stdout, /\(T\) consumer {2}\(waiting on Queue\.get\(\) \(0 items\); created at \S+psagent_app\.py:\d+; age \d+\.\d s\)\n/);

        // The visits left the program as it was: it still runs, and ends as it would have.
        app.send('stop');
        assert.equal(await app.exited, 0);
        const ticks = /stopped after (\d+) ticks/.exec(app.output());
        assert.ok(ticks && Number(ticks[1]) > 0, app.output());
      }));

    test('awaiter edges are the program\'s own (TaskGroup, nested gathers, shield)', { timeout: 60_000 }, () =>
      withApp(py.path, APP, false, async (app, xdg) => {
        const r = await lens(['ps', '--json', String(app.pid)], xdg);
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as PsReport;
        assert.equal(report.source, 'agent');
        assert.deepEqual(edges(report.tasks), EXPECTED_EDGES);
      }));

    if (readable) {
      const both = (check: (agent: Task[], memory: Task[]) => void) => () => withApp(py.path, APP, false, async (app, xdg) => {
          const [a, m] = await Promise.all([
            lens(['ps', '--json', String(app.pid)], xdg),
            lens(['ps', '--json', '--source', 'memory', String(app.pid)], xdg),
          ]);
          assert.equal(a.code, 0, a.stderr);
          assert.equal(m.code, 0, m.stderr);
          const agent = JSON.parse(a.stdout) as PsReport;
          const memory = JSON.parse(m.stdout) as PsReport;
          assert.equal(agent.source, 'agent');
          assert.equal(memory.source, 'memory');
          // The ticker may be between two sleeps in one of the reads: compare the parked tasks.
          const parked = (r: PsReport): Task[] => r.tasks.filter((t) => t.name !== 'ticker');
          check(parked(agent), parked(memory));
      });
      const view = (t: Task): string => `${t.id} ${t.name} ${t.threadId} ${t.stack.map((f) => `${f.function} ${f.file}:${f.line}`).join(' | ')}`;
      test('the agent agrees with a memory read on tasks, threads and stacks', { timeout: 60_000 },
        both((agent, memory) => assert.deepEqual(agent.map(view).sort(), memory.map(view).sort())));
      // 3.11-3.13 keep no trace of a shield's awaiter in memory (docs/ps.md): the memory read
      // marks that task "awaiter unknown" where the agent, which watches the program, has the edge.
      const legacy = /^3\.1[1-3]\./.test(py.version);
      test('the agent agrees with a memory read on awaiter edges', { timeout: 60_000 },
        both((agent, memory) => {
          const shielded = 'inner-shielded <- shield-owner';
          assert.ok(edges(agent).includes(shielded));
          assert.deepEqual(edges(agent).filter((e) => !legacy || e !== shielded), edges(memory));
          if (legacy) assert.equal(memory.find((t) => t.name === 'inner-shielded')?.awaiterUnknown, 'asyncio.shield');
        }));
    }
  });
}
