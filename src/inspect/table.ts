import { detailColumns } from './details';
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
  /** From the program's agent only, when it knows them (see Task). */
  waitingOn?: string;
  createdAt?: Task['createdAt'];
  ageSeconds?: number;
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
  const r: PsRow = {
    threadId: t.threadId, taskId: t.id, taskName: t.name, state, coroutineStack: stack,
    awaiterChain: chain, awaiterName, awaiterId, cycle,
  };
  if (t.waitingOn !== undefined) r.waitingOn = t.waitingOn;
  if (t.createdAt) r.createdAt = t.createdAt;
  if (t.ageSeconds !== undefined) r.ageSeconds = t.ageSeconds;
  return r;
}

const HEADERS = ['tid', 'task id', 'task name', 'state', 'coroutine stack', 'awaiter chain', 'awaiter name', 'awaiter id'];
const CHUNK_LINES = 1024;

/**
 * The rows of `psRows` as a plain aligned table: columns as wide as their widest cell up to
 * `maxWidth`, longer cells cut with "…" so that one deep stack cannot push every other row off
 * the screen. The last column is not padded. What the program's agent adds (details.ts) comes
 * after the state.
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

  const details = detailColumns(s);
  const K = details.length;
  const headers = [...HEADERS.slice(0, 4), ...details.map((d) => d.header), ...HEADERS.slice(4)];
  const COLUMNS = headers.length;
  const STACK = 4 + K;
  const CHAIN = STACK + 1;
  const AWAITER = STACK + 2;
  const LAST = COLUMNS - 1;

  // Pass 1: column widths, keeping each task's cells and each awaiter's position for pass 2.
  const widths = headers.map((h) => h.length);
  const widen = (c: number, text: string): void => {
    if (text.length > widths[c]) widths[c] = text.length;
  };
  const n = s.tasks.length;
  const tidCells: string[] = new Array<string>(n);
  const stateCells: string[] = new Array<string>(n);
  const stackCells: string[] = new Array<string>(n);
  const detailCells: string[] = new Array<string>(n * K);
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
    for (let d = 0; d < K; d++) widen(4 + d, (detailCells[ti * K + d] = details[d].cell(t)));
    widen(STACK, (stackCells[ti] = stackOf(t)));
    if (t.awaitedBy.length === 0) widen(LAST, '0x0');
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = index.get(a);
      awaiters[e++] = i === undefined ? -1 : i;
      widen(CHAIN, i === undefined ? '' : stackOf(s.tasks[i]));
      widen(AWAITER, i === undefined ? 'Unknown' : s.tasks[i].name);
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
    headers.map((h, c) => (c === LAST ? end(h) : fit(h, widths[c]))).join('  '),
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
    let head = cell(0, tidCells[ti]) + own(1, t.id) + own(2, t.name) + cell(3, stateCells[ti]);
    for (let d = 0; d < K; d++) head += own(4 + d, detailCells[ti * K + d]);
    head += cell(STACK, stackCells[ti]);
    if (t.awaitedBy.length === 0) {
      out.push(head + cell(CHAIN, '') + cell(AWAITER, '') + end('0x0'));
      continue;
    }
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = awaiters[e++];
      const line = head + cell(CHAIN, i < 0 ? '' : stackOf(s.tasks[i])) + cell(AWAITER, i < 0 ? 'Unknown' : s.tasks[i].name) + end(a);
      // Only an empty last cell could leave blanks at the end of a line.
      out.push(a === '' ? line.trimEnd() : line);
    }
  }
  flush();
}
