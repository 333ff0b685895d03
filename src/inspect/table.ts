import { Cycle } from './graph';
import { Frame, Snapshot, Task } from './model';

export interface PsRow {
  threadId: number;
  taskId: string;
  taskName: string;
  state: string;
  /** Function names, innermost first. */
  coroutineStack: string[];
  awaiterChain: string[];
  awaiterName: string;
  /** "0x0" when nothing awaits the task, as in CPython's table. */
  awaiterId: string;
  cycle: string | null;
}

const NONE: string[] = [];

/** One row per (task, awaiter); a task nothing awaits gets one row with empty awaiter fields. */
export function psRows(s: Snapshot, cycles: Cycle[]): PsRow[] {
  const byId = new Map<string, Task>();
  for (const t of s.tasks) byId.set(t.id, t);
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  // Tasks parked at the same awaits share their stack array, and then their list of names.
  const names = new Map<readonly Frame[], string[]>();
  const namesOf = (t: Task): string[] => {
    let n = names.get(t.stack);
    if (!n) names.set(t.stack, (n = t.stack.map((f) => f.function)));
    return n;
  };
  const rows: PsRow[] = [];
  for (const t of s.tasks) {
    const state = t.error ? `${t.state} (partial)` : t.state;
    const cycle = cycles.length === 0 ? null : cycleOf.get(t.id) ?? null;
    const stack = namesOf(t);
    if (t.awaitedBy.length === 0) {
      rows.push(row(t, state, stack, NONE, '', '0x0', cycle));
      continue;
    }
    for (const a of t.awaitedBy) {
      const awaiter = byId.get(a);
      rows.push(row(t, state, stack, awaiter ? namesOf(awaiter) : NONE, awaiter ? awaiter.name : 'Unknown', a, cycle));
    }
  }
  return rows;
}

function row(t: Task, state: string, stack: string[], chain: string[], awaiterName: string, awaiterId: string, cycle: string | null): PsRow {
  return {
    threadId: t.threadId, taskId: t.id, taskName: t.name, state, coroutineStack: stack,
    awaiterChain: chain, awaiterName, awaiterId, cycle,
  };
}

const HEADERS = ['tid', 'task id', 'task name', 'state', 'coroutine stack', 'awaiter chain', 'awaiter name', 'awaiter id'];
const COLUMNS = HEADERS.length;

/**
 * A plain aligned table: columns as wide as their widest cell up to `maxWidth`, longer cells cut
 * with "…" so that one deep stack cannot push every other row off the screen.
 *
 * Most cells repeat (a stack, an awaiter, a thread id shared by hundreds of rows), so each
 * distinct cell text is joined and padded once.
 */
export function renderTable(rows: PsRow[], maxWidth = Infinity): string {
  const joined = new Map<string[], string>();
  const join = (names: string[]): string => {
    let j = joined.get(names);
    if (j === undefined) joined.set(names, (j = names.join(' -> ')));
    return j;
  };
  const tids = new Map<number, string>();
  const body: string[] = new Array<string>(rows.length * COLUMNS);
  const widths = HEADERS.map((h) => h.length);
  for (let r = 0; r < rows.length; r++) {
    const x = rows[r];
    let tid = tids.get(x.threadId);
    if (tid === undefined) tids.set(x.threadId, (tid = String(x.threadId)));
    const b = r * COLUMNS;
    body[b] = tid;
    body[b + 1] = x.taskId;
    body[b + 2] = x.taskName;
    body[b + 3] = x.cycle ? `${x.state} [${x.cycle}]` : x.state;
    body[b + 4] = join(x.coroutineStack);
    body[b + 5] = join(x.awaiterChain);
    body[b + 6] = x.awaiterName;
    body[b + 7] = x.awaiterId;
    for (let c = 0; c < COLUMNS; c++) if (body[b + c].length > widths[c]) widths[c] = body[b + c].length;
  }
  for (let c = 0; c < COLUMNS; c++) widths[c] = Math.min(maxWidth, widths[c]);

  const cut = (text: string, w: number): string => (text.length > w ? `${text.slice(0, w - 1)}…` : text.padEnd(w));
  // Task ids and names are unique to their task: not worth remembering.
  const padded = widths.map((_, c) => (c === 1 || c === 2 ? null : new Map<string, string>()));
  const fit = (text: string, c: number): string => {
    const w = widths[c];
    if (text.length === w) return text;
    const cache = padded[c];
    if (!cache) return cut(text, w);
    let p = cache.get(text);
    if (p === undefined) cache.set(text, (p = cut(text, w)));
    return p;
  };
  const last = COLUMNS - 1;
  const line = (cell: (c: number) => string): string => {
    let s = '';
    for (let c = 0; c < last; c++) s += `${fit(cell(c), c)}  `;
    const end = cell(last);
    // The last column is not padded, so a line carries no trailing blanks unless it is empty.
    return end === '' ? s.trimEnd() : s + (end.length > widths[last] ? fit(end, last) : end);
  };
  const out: string[] = [line((c) => HEADERS[c]), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (let r = 0; r < rows.length; r++) {
    const b = r * COLUMNS;
    out.push(line((c) => body[b + c]));
  }
  out.push('');
  return out.join('\n');
}
