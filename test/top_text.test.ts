// `tasklens top` shows the program's text escaped, as `ps` does: a task name, a coroutine name
// or a path with a control or reordering character (an escape sequence, a newline, a
// right-to-left override) is written `\e`, `\n`, `\u202e`, on the live screen (its list, a
// task's details, the warnings, the filter) and in `--once`'s text, so that no row is split
// and nothing drives the terminal. Text is measured in terminal columns, so names of CJK or emoji
// characters keep the columns in line. `--json` carries the text unchanged. And `--sort` takes
// the sort letters only.
import * as assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { BIN, killAll, privateRuntime, ready, run, start } from './run_support';
import { eachPython, it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import type { TopRow, TopView } from '../src/top/model';
import { initialUi, plain, render, type UiState } from '../src/top/screen';
import { displayWidth } from '../src/inspect/text';

const rt = privateRuntime();
after(rt.remove);
afterEach(killAll);

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW = /[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const RED = '\x1b[31mred\nline';
const CORO = 'co\x1b[1mro\nutine';
const ODD_FILE = '/tmp/odd\x1b[2Jdir\n/mod\u202e.py';

function task(id: number, name: string, coroutine: string, path: string): TopRow {
  const site = { path, line: 3 };
  return {
    id: `0x${id.toString(16)}`, taskId: id, name, coroutine, coroutineAt: site, state: 'waiting',
    busy: 0.5 / id, sched: 0, idle: 1, polls: 3, wakes: 3, selfWakes: 0, age: 5,
    at: { ...site, name: coroutine }, waitingOn: `Event.wait() of ${name}`, createdAt: site,
    stepTimes: { p50: 0.001, p90: 0.002, p99: 0.003, max: 0.004, histogram: [0, 1, 2] },
    stack: [{ ...site, name: coroutine }], awaitedBy: [], loop: '0x1',
  };
}

const VIEW: TopView = {
  schema: 1, pid: 42, pythonVersion: '3.11.7', interval: 1,
  loops: [{
    id: '0x1', thread: 'Main\x1bThread', kind: 'asyncio', tasks: { running: 0, ready: 0, waiting: 2, done: 0 },
    stepsPerSecond: 3, busyShare: 0.1, lag: 0, lagMax: 0, longestStep: 0.004, longestTask: RED, runningFor: 0,
  }],
  tasks: [task(1, RED, CORO, ODD_FILE), task(2, 'evil\u202etxt', 'handle', '/app/main.py')],
  finished: [],
  warnings: [{ kind: 'stuck', task: RED, taskId: 1, id: '0x1', at: { path: ODD_FILE, line: 3 }, message: `waiting on ${CORO}` }],
  sampled: 1,
  auto: true,
};

function screen(ui: Partial<UiState>, width = 160, height = 30): string[] {
  return render(VIEW, { ...initialUi(), ...ui }, width, height, plain);
}

function assertEscaped(what: string, lines: string[], width: number): void {
  for (const line of lines) {
    assert.ok(!RAW.test(line), `${what}: a raw control character in ${JSON.stringify(line)}`);
    assert.ok([...line].length <= width, `${what}: a line wider than ${width}: ${JSON.stringify(line)}`);
  }
}

test('the live screen\'s list: names, coroutines, paths, warnings and the loop header escaped, each row one line', () => {
  const lines = screen({ selected: '0x1' });
  assertEscaped('list', lines, 160);
  const text = lines.join('\n');
  assert.match(text, /^>\\e\[31mred\\n… /m, 'the selected row begins with the escaped name, cut to its column');
  assert.match(text, /^ evil\\u202et… /m);
  assert.ok(text.includes('co\\e[1mro\\nutine'), text);
  assert.ok(text.includes('mod\\u202e.py:3'), text);
  assert.ok(text.includes('loop Main\\eThread'), text);
  assert.match(text, /^! stuck: \\e\[31mred\\nline: waiting on co\\e\[1mro\\nutine at mod\\u202e\.py:3/m);
});

test('the header says when the counters are estimates (sampled counting), and says nothing when every step is timed', () => {
  assert.doesNotMatch(screen({})[0], /sampled/);
  const sampled = render({ ...VIEW, sampled: 32, auto: false }, initialUi(), 120, 30, plain);
  assert.match(sampled[0], /pid 42 {2}Python 3\.11\.7 {2}sampled 1 in 32 {2}/);
  const switched = render({ ...VIEW, sampled: 64, auto: true }, initialUi(), 80, 24, plain);
  assert.match(switched[0], /sampled 1 in 64 \(auto\)/, 'auto counting that turned to sampling says so');
});

test('names that take two columns a character (CJK, emoji) keep every row the width of the screen, its columns in line', () => {
  const wide: TopView = { ...VIEW, tasks: [task(1, '注文処理タスク一二三', 'handle', '/app/ファイル/mod.py'), task(2, 'ok 🙂🙂', 'handle', '/app/main.py'), task(3, 'plain', 'handle', '/app/main.py')] };
  for (const width of [80, 120]) {
    const lines = render(wide, { ...initialUi(), selected: '0x1' }, width, 20, plain);
    for (const line of lines) assert.equal(displayWidth(line), width, `a line not ${width} columns wide: ${JSON.stringify(line)}`);
    const rows = lines.filter((l) => /^[> ]\S.* waiting \d/.test(l));
    assert.equal(rows.length, 3, lines.join('\n'));
    // The STATE column begins at the same terminal column in every row.
    const stateAt = rows.map((l) => displayWidth(l.slice(0, l.indexOf(' waiting'))));
    assert.deepEqual(stateAt, [stateAt[0], stateAt[0], stateAt[0]], rows.join('\n'));
    assert.match(rows[0], /^>注文処理タ… +[a-z]/, 'a wide name is cut to its column, at a character boundary');
  }
});

test('the live screen\'s details of a task, and a filter being typed: escaped too', () => {
  const detail = screen({ selected: '0x1', detail: true });
  assertEscaped('details', detail, 160);
  const text = detail.join('\n');
  assert.ok(text.includes('task \\e[31mred\\nline (0x1)  co\\e[1mro\\nutine'), text);
  assert.ok(text.includes('created at /tmp/odd\\e[2Jdir\\n/mod\\u202e.py:3'), text);
  const typing = screen({ editing: true, filter: 'a\x1bb' }, 80);
  assertEscaped('filter', typing, 80);
  assert.match(typing.at(-1)!, /^filter: a\\eb/);
});

eachPython('tasklens top --once on a program with hostile names', (py) => {
  it('the text is escaped, one row per task; --json keeps the names as they are', async () => {
    const pid = await ready(start(BIN, ['run', '--python', py.path, fixture('top_hostile.py')], { env: rt.env }));
    const once = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--interval', '0.3'], { env: { ...rt.env, COLUMNS: '160' } });
    assert.equal(once.code, 0, once.stderr);
    assert.ok(!RAW.test(once.stdout.replace(/\n/g, '')), `a raw control character in:\n${JSON.stringify(once.stdout)}`);
    const rows = once.stdout.split('\n').filter((l) => /^[> ]\S/.test(l));
    assert.deepEqual(rows.map((r) => r.slice(1, 8)).sort(), ['Task-1 ', '\\e[31mr', 'evil\\u2'], once.stdout);
    assert.ok(once.stdout.includes('co\\e[1mro\\nutine'), once.stdout);
    assert.ok(once.stdout.includes('mod\\u202e.py:3'), once.stdout);
    // $COLUMNS is the width, as for ps (into a pipe it is 120 otherwise): 80 leave COROUTINE out
    const narrow = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--interval', '0.3'], { env: { ...rt.env, COLUMNS: '80' } });
    assert.equal(narrow.code, 0, narrow.stderr);
    assert.ok(narrow.stdout.split('\n').every((l) => l.length <= 80), narrow.stdout);
    assert.match(once.stdout, /COROUTINE/);
    assert.doesNotMatch(narrow.stdout, /COROUTINE/);
    const json = await run(process.execPath, [MAIN_JS, 'top', String(pid), '--once', '--json', '--interval', '0.3'], { env: rt.env });
    assert.equal(json.code, 0, json.stderr);
    const view = JSON.parse(json.stdout) as TopView;
    assert.deepEqual(view.tasks.map((t) => t.name).sort(), ['Task-1', RED, 'evil\u202etxt'].sort());
    assert.equal(view.tasks.find((t) => t.name === 'evil\u202etxt')?.coroutine, CORO);
    assert.equal(view.tasks.find((t) => t.name === 'evil\u202etxt')?.at?.path, ODD_FILE);
  });
});
