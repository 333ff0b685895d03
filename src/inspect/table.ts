import { Cycle, indexTasks } from './graph';
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
  for (let ti = 0; ti < s.tasks.length; ti++) {
    const t = s.tasks[ti];
    const state = t.error ? `${t.state} (partial)` : t.state;
    const cycle = cycles.length === 0 ? null : cycleOf.get(t.id) ?? null;
    const stack = namesOf(t);
    if (t.awaitedBy.length === 0) {
      rows.push(row(t, state, stack, NONE, '', '0x0', cycle));
      continue;
    }
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
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
const LAST = COLUMNS - 1;
const CHUNK_LINES = 1024;

/**
 * The rows of `psRows` as a plain aligned table: columns as wide as their widest cell up to
 * `maxWidth`, longer cells cut with "…" so that one deep stack cannot push every other row off
 * the screen. The last column is not padded.
 *
 * Built straight from the snapshot, without row objects: with 10,000 tasks most cells repeat (a
 * stack, an awaiter, a thread id shared by hundreds of rows), so each distinct cell is joined
 * and padded once, and a line is one concatenation of ready-made cells.
 */
export function psTable(
  s: Snapshot, cycles: Cycle[], write: (chunk: string) => void, maxWidth = Infinity, index = indexTasks(s),
): void {
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const joined = new Map<readonly Frame[], string>();
  const stackOf = (t: Task): string => {
    let j = joined.get(t.stack);
    if (j === undefined) joined.set(t.stack, (j = t.stack.map((f) => f.function).join(' -> ')));
    return j;
  };
  const tids = new Map<number, string>();
  const tidOf = (t: Task): string => {
    let x = tids.get(t.threadId);
    if (x === undefined) tids.set(t.threadId, (x = String(t.threadId)));
    return x;
  };
  const stateOf = (t: Task): string => {
    const state = t.error ? `${t.state} (partial)` : t.state;
    const cycle = cycles.length === 0 ? undefined : cycleOf.get(t.id);
    return cycle ? `${state} [${cycle}]` : state;
  };

  // Pass 1: column widths, keeping each task's cells and each awaiter's position for pass 2.
  const widths = HEADERS.map((h) => h.length);
  const widen = (c: number, text: string): void => {
    if (text.length > widths[c]) widths[c] = text.length;
  };
  const n = s.tasks.length;
  const tidCells: string[] = new Array<string>(n);
  const stateCells: string[] = new Array<string>(n);
  const stackCells: string[] = new Array<string>(n);
  let edges = 0;
  for (let ti = 0; ti < n; ti++) edges += s.tasks[ti].awaitedBy.length;
  const awaiters = new Int32Array(edges);
  let e = 0;
  for (let ti = 0; ti < n; ti++) {
    const t = s.tasks[ti];
    widen(0, (tidCells[ti] = tidOf(t)));
    widen(1, t.id);
    widen(2, t.name);
    widen(3, (stateCells[ti] = stateOf(t)));
    widen(4, (stackCells[ti] = stackOf(t)));
    if (t.awaitedBy.length === 0) widen(LAST, '0x0');
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = index.get(a);
      awaiters[e++] = i === undefined ? -1 : i;
      widen(5, i === undefined ? '' : stackOf(s.tasks[i]));
      widen(6, i === undefined ? 'Unknown' : s.tasks[i].name);
      widen(LAST, a);
    }
  }
  for (let c = 0; c < COLUMNS; c++) widths[c] = Math.min(maxWidth, widths[c]);

  // Pass 2: the lines. A cell is padded and followed by its two separating blanks.
  const fit = (text: string, w: number): string => (text.length > w ? `${text.slice(0, w - 1)}…` : text.padEnd(w));
  const padded = widths.map(() => new Map<string, string>());
  const cell = (c: number, text: string): string => {
    let p = padded[c].get(text);
    if (p === undefined) padded[c].set(text, (p = `${fit(text, widths[c])}  `));
    return p;
  };
  // Task ids and names are each task's own: padding them is not worth remembering.
  const own = (c: number, text: string): string => `${fit(text, widths[c])}  `;
  const end = (text: string): string => (text.length > widths[LAST] ? fit(text, widths[LAST]) : text);
  let out: string[] = [
    HEADERS.map((h, c) => (c === LAST ? end(h) : fit(h, widths[c]))).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
  ];
  const flush = (): void => {
    out.push('');
    write(out.join('\n'));
    out = [];
  };
  e = 0;
  for (let ti = 0; ti < n; ti++) {
    // Written out every thousand lines or so: the lines then die young, and the garbage
    // collector does not copy the whole table again at every pass.
    if (out.length >= CHUNK_LINES) flush();
    const t = s.tasks[ti];
    const head = cell(0, tidCells[ti]) + own(1, t.id) + own(2, t.name) + cell(3, stateCells[ti]) + cell(4, stackCells[ti]);
    if (t.awaitedBy.length === 0) {
      out.push(head + cell(5, '') + cell(6, '') + end('0x0'));
      continue;
    }
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = awaiters[e++];
      const line = head + cell(5, i < 0 ? '' : stackOf(s.tasks[i])) + cell(6, i < 0 ? 'Unknown' : s.tasks[i].name) + end(a);
      // Only an empty last cell could leave blanks at the end of a line.
      out.push(a === '' ? line.trimEnd() : line);
    }
  }
  flush();
}
