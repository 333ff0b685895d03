// The text output of `ps` and `pstree` on made-up snapshots: line widths, escaping, wide
// characters, which columns and frames give way first, and the order of the rows.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lineWidth } from '../src/inspect/command';
import { fitColumns, fitStack } from '../src/inspect/layout';
import { Frame, Snapshot, Task } from '../src/inspect/model';
import { orderTasks } from '../src/inspect/order';
import { psText, pstreeText } from '../src/inspect/report';
import { cutEnd, cutPath, cutStart, displayWidth, escapeText } from '../src/inspect/text';

const LIB = '/usr/lib/python3.14/asyncio';
const frame = (fn: string, file = '/srv/app/handlers.py', line = 10): Frame => ({ function: fn, file, line });
const STACK: Frame[] = [frame('sleep', `${LIB}/tasks.py`, 712), frame('handle_request', '/srv/app/handlers.py', 19), frame('serve', '/srv/app/main.py', 40)];
const GROUP: Frame[] = [frame('TaskGroup._aexit', `${LIB}/taskgroups.py`, 121), frame('TaskGroup.__aexit__', `${LIB}/taskgroups.py`, 72), frame('main', '/srv/app/main.py', 63)];

const HOSTILE = ['request-' + 'x'.repeat(150), 'line one\nline two', '\x1b[31mred\x1b[0m', 'evil\u202etxt.exe', '任务-処理-작업', '🐍 snake 🚀'];

function hostileSnapshot(source: Snapshot['source'] = 'memory'): Snapshot {
  const tasks: Task[] = [
    { id: '0x1000', name: 'Task-1', threadId: 77, interpreterId: 0, state: 'suspended', stack: GROUP, awaitedBy: [] },
    ...HOSTILE.map((name, i): Task => ({
      id: `0x2${i}00`, name, threadId: 77, interpreterId: 0, state: 'suspended', stack: STACK, awaitedBy: ['0x1000'],
    })),
  ];
  if (source === 'agent') {
    tasks.forEach((t, i) => {
      t.ageSeconds = 100 - i;
      t.createdAt = { file: `/home/someone/projects/service/src/${'deep/'.repeat(6)}app.py`, line: 60 + i };
      t.waitingOn = i === 0 ? 'TaskGroup' : `asyncio.sleep(3600) until loop time 9.000 (in ${i}.000 s)`;
    });
  }
  return { pid: 1, source, pythonVersion: '3.14.0', tasks, truncated: false, warnings: [] };
}

// Any C0/C1 control character or bidi override left raw would reach the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('terminal text', () => {
  test('control characters, escapes and bidi overrides are shown escaped; joiners are kept', () => {
    assert.equal(escapeText('a\nb\tc\r'), 'a\\nb\\tc\\r');
    assert.equal(escapeText('\x1b[31mred'), '\\e[31mred');
    assert.equal(escapeText('bell\x07 del\x7f c1\x9b'), 'bell\\x07 del\\x7f c1\\x9b');
    assert.equal(escapeText('evil\u202etxt'), 'evil\\u202etxt');
    assert.equal(escapeText('👨‍👩‍👧'), '👨‍👩‍👧');
    assert.equal(escapeText('plain text'), 'plain text');
  });

  test('wide characters take two columns, combining marks none', () => {
    assert.equal(displayWidth('abc'), 3);
    assert.equal(displayWidth('任务'), 4);
    assert.equal(displayWidth('작업'), 4);
    assert.equal(displayWidth('🐍'), 2);
    assert.equal(displayWidth('👨‍👩‍👧'), 2);
    assert.equal(displayWidth('e\u0301'), 1);
    assert.equal(displayWidth('ｗｉｄｅ'), 8);
  });

  test('cuts respect display width and mark the cut', () => {
    assert.equal(cutEnd('abcdefgh', 5), 'abcd…');
    assert.equal(cutEnd('任务处理', 5), '任务…');
    assert.ok(displayWidth(cutEnd('任务处理', 4)) <= 4);
    assert.equal(cutStart('abcdefgh', 5), '…efgh');
    assert.equal(cutEnd('short', 10), 'short');
    assert.equal(cutPath('/usr/lib/python3.14/asyncio/tasks.py:712', 24), '…/asyncio/tasks.py:712');
  });
});

describe('column fitting', () => {
  const cols = [
    { natural: 5, min: 3, dropRank: 3 },
    { natural: 14, min: 10, dropRank: 1 },
    { natural: 60, min: 10, comfortable: 24 },
    { natural: 9, min: 9 },
    { natural: 80, min: 14, comfortable: 48 },
    { natural: 40, min: 14, comfortable: 30, dropRank: 2 },
  ];
  const total = (ws: number[]): number => ws.filter((w) => w > 0).reduce((a, b) => a + b, 0) + 2 * (ws.filter((w) => w > 0).length - 1);

  test('everything at its natural width when it fits', () => {
    assert.deepEqual(fitColumns(cols, 1000), cols.map((c) => c.natural));
  });

  test('the line never exceeds the width; optional columns go lowest rank first', () => {
    for (const width of [40, 60, 80, 100, 120, 160, 200]) {
      const ws = fitColumns(cols, width);
      assert.ok(total(ws) <= width, `width ${width}: ${ws.join(',')}`);
      for (const i of [2, 3, 4]) assert.ok(ws[i] > 0, `column ${i} always shown at ${width}`);
      // A column of higher rank is never left out while one of lower rank is shown.
      const shownRanks = [0, 1, 5].filter((i) => ws[i] > 0).map((i) => cols[i].dropRank!);
      const hiddenRanks = [0, 1, 5].filter((i) => ws[i] === 0).map((i) => cols[i].dropRank!);
      for (const h of hiddenRanks) for (const s of shownRanks) assert.ok(h < s || ws[[0, 1, 5].find((i) => cols[i].dropRank === s)!] > 0);
    }
    assert.deepEqual(fitColumns(cols, 80).map((w) => w > 0), [false, false, true, true, true, false]);
  });
});

describe('stack shortening', () => {
  test('library frames go first, from the innermost; the user\'s own frames stay', () => {
    assert.equal(fitStack(STACK, 100), 'sleep -> handle_request -> serve');
    assert.equal(fitStack(STACK, 30), '… -> handle_request -> serve');
    assert.equal(fitStack(GROUP, 12), '… -> main');
    // Only user frames left: the outer ones go, the innermost (where the user's code waits) stays.
    assert.equal(fitStack(STACK, 24), '… -> handle_request -> …');
  });
});

describe('the ps table and the pstree lines at a given width', () => {
  for (const source of ['memory', 'agent'] as const) {
    for (const width of [40, 80, 120]) {
      test(`${source} source, ${width} columns`, () => {
        const s = hostileSnapshot(source);
        for (const [what, text] of [['ps', psText(s, width)], ['pstree', pstreeText(s, width)]]) {
          const lines = text.split('\n').filter((l) => l !== '');
          assert.ok(!RAW_CONTROL.test(text), `${what}: a raw control character in ${JSON.stringify(text)}`);
          for (const line of lines) {
            // A tree deeper than the width allows keeps 12 columns for each label, past the width.
            const allowed = what === 'pstree' ? Math.max(width, displayWidth(line.slice(0, line.indexOf('── ') + 3)) + 12) : width;
            assert.ok(displayWidth(line) <= allowed, `${what} line of ${displayWidth(line)} > ${allowed}: ${line}`);
          }
        }
        const table = psText(s, width).split('\n');
        // The user's own frame and the escaped names survive; the columns line up by display width.
        if (width >= 80) assert.ok(table.slice(2).filter((l) => l.includes('handle_request')).length >= HOSTILE.length, table.join('\n'));
        assert.ok(table.some((l) => l.includes('line one\\n')), 'escaped newline shown');
        assert.ok(table.some((l) => l.includes('\\e[31m')), 'escaped ESC shown');
        const stateAt = (l: string): number => displayWidth(l.slice(0, l.indexOf('suspended')));
        const starts = new Set(table.slice(2).filter((l) => l.includes('suspended')).map(stateAt));
        assert.equal(starts.size, 1, `the state column starts at one display column:\n${table.join('\n')}`);
        if (source === 'agent' && width >= 120) assert.ok(table.some((l) => /…\/(?:deep\/)*app\.py:6\d/.test(l)), `created at keeps file:line\n${table.join('\n')}`);
        if (width >= 80) assert.match(pstreeText(s, width), /handle_request (…|\/srv\/app)\/handlers\.py:19\n/);
      });
    }
  }

  test('unlimited width: nothing is cut', () => {
    const s = hostileSnapshot('agent');
    const text = psText(s);
    assert.ok(!text.includes('…'), text);
    assert.ok(text.includes('request-' + 'x'.repeat(150)));
  });
});

describe('row order', () => {
  test('by loop, then await tree order, then creation; the same from memory and from the agent', () => {
    const t = (id: string, threadId: number, awaitedBy: string[], ageSeconds: number): Task => ({
      id, name: id, threadId, interpreterId: 0, state: 'suspended', stack: [], awaitedBy, ageSeconds,
    });
    // Creation order: main, a, b, a1, other-thread, b1, orphan; a1 awaited by a, b1 by b.
    const created = [t('main', 1, [], 10), t('a', 1, ['main'], 9), t('b', 1, ['main'], 8), t('a1', 1, ['a'], 7),
      t('x', 2, [], 6), t('b1', 1, ['b'], 5), t('orphan', 1, [], 4), t('gone', 0, [], 3)];
    const want = ['main', 'a', 'a1', 'b', 'b1', 'orphan', 'x', 'gone'];
    const memory: Snapshot = { pid: 1, source: 'memory', pythonVersion: '3.14.0', truncated: false, warnings: [],
      tasks: created.map(({ ageSeconds: _age, ...rest }) => rest) };
    assert.deepEqual(orderTasks(memory).tasks.map((x) => x.id), want);
    const shuffled = [5, 2, 7, 0, 3, 6, 1, 4].map((i) => created[i]);
    const agent: Snapshot = { ...memory, source: 'agent', tasks: shuffled };
    assert.deepEqual(orderTasks(agent).tasks.map((x) => x.id), want);
  });

  test('tasks in an await cycle are all listed, from their oldest', () => {
    const t = (id: string, awaitedBy: string[]): Task => ({ id, name: id, threadId: 1, interpreterId: 0, state: 'suspended', stack: [], awaitedBy });
    const s: Snapshot = { pid: 1, source: 'memory', pythonVersion: '3.14.0', truncated: false, warnings: [],
      tasks: [t('p', ['r']), t('q', ['p']), t('r', ['q'])] };
    assert.deepEqual(orderTasks(s).tasks.map((x) => x.id), ['p', 'q', 'r']);
  });
});

describe('which width', () => {
  test('--width, else --wide, else $COLUMNS, else the terminal, else unlimited', () => {
    const base = { maxTasks: 1, maxFrames: 1 };
    assert.equal(lineWidth({ ...base, width: 50 }, { COLUMNS: '90' }, { isTTY: true, columns: 70 }), 50);
    assert.equal(lineWidth({ ...base, wide: true }, { COLUMNS: '90' }, { isTTY: true, columns: 70 }), Infinity);
    assert.equal(lineWidth(base, { COLUMNS: '90' }, { isTTY: false }), 90);
    assert.equal(lineWidth(base, {}, { isTTY: true, columns: 70 }), 70);
    assert.equal(lineWidth(base, {}, { isTTY: false }), Infinity);
    assert.equal(lineWidth(base, { COLUMNS: 'junk' }, { isTTY: false }), Infinity);
  });
});
