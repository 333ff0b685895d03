import { detailColumns } from './details';
import { Cycle, indexTasks } from './graph';
import { fitColumns, fitStack, GAP, STACK_JOIN } from './layout';
import { Frame, Snapshot, Task } from './model';
import { cutEnd, cutPath, displayWidth, escapeText, padTo } from './text';

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

/** 3.11–3.13 memory holds no trace of an awaiter behind asyncio.wait, shield…: say so, not "none". */
const unknownAwaiter = (t: Task): string => (t.awaiterUnknown === undefined ? '' : `unknown (${t.awaiterUnknown})`);

const HEADERS = ['tid', 'task id', 'task name', 'state', 'coroutine stack', 'awaiter chain', 'awaiter name', 'awaiter id'];
const CHUNK_LINES = 1024;

/** How a column is fitted: the columns around the details, and how each cell is cut. */
type Kind = 'end' | 'start' | 'stack' | 'chain';
const BASE: Array<{ kind: Kind; min: number; comfortable?: number; dropRank?: number }> = [
  { kind: 'end', min: 3, dropRank: 3 },
  { kind: 'end', min: 10, dropRank: 1 },
  { kind: 'end', min: 10, comfortable: 24 },
  { kind: 'end', min: 9 },
  { kind: 'stack', min: 14, comfortable: 48 },
  { kind: 'chain', min: 14, comfortable: 30, dropRank: 2 },
  { kind: 'end', min: 8, comfortable: 16, dropRank: 8 },
  { kind: 'end', min: 10, dropRank: 0 },
];
// The agent's details, more telling than ids: where the task was created most of all.
const DETAILS: Record<string, { min: number; comfortable?: number; dropRank: number }> = {
  age: { min: 5, dropRank: 4 },
  waited: { min: 6, dropRank: 4.5 },
  'waiting on': { min: 12, comfortable: 30, dropRank: 5 },
  'created at': { min: 14, comfortable: 30, dropRank: 6 },
};

/**
 * The rows of `psRows` as an aligned table at most `lineWidth` columns wide (fitColumns decides
 * which columns stay and how wide; cut cells end or start with "…", stacks lose library frames
 * first). Program-supplied text is escaped. The last column is not padded. What the program's
 * agent adds (details.ts) comes after the state. Returns the headers of the columns left out.
 *
 * Built straight from the snapshot, without row objects: with 10,000 tasks most cells repeat (a
 * stack, an awaiter, a thread id shared by hundreds of rows), so each distinct cell is escaped,
 * cut and padded once, and a line is one concatenation of ready-made cells.
 */
export function psTable(
  s: Snapshot, cycles: Cycle[], write: (chunk: string) => void, lineWidth = Infinity, index = indexTasks(s),
): string[] {
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const joined = new Map<readonly Frame[], string>();
  const stackOf = (frames: readonly Frame[]): string => {
    let j = joined.get(frames);
    if (j === undefined) joined.set(frames, (j = frames.map((f) => escapeText(f.function)).join(STACK_JOIN)));
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
  const kinds: Kind[] = [...BASE.slice(0, 4).map((b) => b.kind), ...details.map((d): Kind => (d.cutStart ? 'start' : 'end')),
    ...BASE.slice(4).map((b) => b.kind)];
  const COLUMNS = headers.length;
  const STACK = 4 + K;
  const CHAIN = STACK + 1;
  const AWAITER = STACK + 2;
  const LAST = COLUMNS - 1;

  // Pass 1: natural column widths, keeping each task's cells and each awaiter's position for pass 2.
  const natural = headers.map((h) => h.length);
  const widen = (c: number, text: string): void => {
    const w = displayWidth(text);
    if (w > natural[c]) natural[c] = w;
  };
  const n = s.tasks.length;
  const tidCells: string[] = new Array<string>(n);
  const nameCells: string[] = new Array<string>(n);
  const stateCells: string[] = new Array<string>(n);
  const detailCells: string[] = new Array<string>(n * K);
  let edges = 0;
  for (let ti = 0; ti < n; ti++) edges += s.tasks[ti].awaitedBy.length;
  const awaiters = new Int32Array(edges);
  let e = 0;
  for (let ti = 0; ti < n; ti++) {
    const t = s.tasks[ti];
    widen(0, (tidCells[ti] = tidOf(t)));
    widen(1, t.id);
    widen(2, (nameCells[ti] = escapeText(t.name)));
    widen(3, (stateCells[ti] = stateOf(t)));
    for (let d = 0; d < K; d++) widen(4 + d, (detailCells[ti * K + d] = escapeText(details[d].cell(t))));
    widen(STACK, stackOf(t.stack));
    if (t.awaitedBy.length === 0) {
      widen(LAST, '0x0');
      widen(AWAITER, unknownAwaiter(t));
    }
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = index.get(a);
      awaiters[e++] = i === undefined ? -1 : i;
      widen(CHAIN, i === undefined ? '' : stackOf(s.tasks[i].stack));
      widen(AWAITER, i === undefined ? 'Unknown' : nameCells[i] ?? escapeText(s.tasks[i].name));
      widen(LAST, escapeText(a));
    }
  }
  const specs = headers.map((h, c) => ({ natural: natural[c], ...(c < 4 ? BASE[c] : c >= STACK ? BASE[c - K] : DETAILS[h]) }));
  const widths = fitColumns(specs, lineWidth);
  const shown = widths.map((w) => w > 0);
  const lastShown = shown.lastIndexOf(true);

  // Pass 2: the lines. A cell is cut, padded and followed by its two separating blanks.
  const fit = (c: number, text: string): string => {
    const w = widths[c];
    if (kinds[c] === 'start') return cutPath(text, w);
    return cutEnd(text, w);
  };
  const finish = (c: number, text: string): string => (c === lastShown ? text : `${padTo(text, widths[c])}${' '.repeat(GAP)}`);
  const padded = widths.map(() => new Map<string, string>());
  const cell = (c: number, text: string): string => {
    if (!shown[c]) return '';
    let p = padded[c].get(text);
    if (p === undefined) padded[c].set(text, (p = finish(c, fit(c, text))));
    return p;
  };
  const stackCells = new Map<readonly Frame[], string>();
  const chainCells = new Map<readonly Frame[], string>();
  const frames = (c: number, f: readonly Frame[] | undefined): string => {
    if (!shown[c]) return '';
    if (f === undefined) return cell(c, '');
    const cache = c === STACK ? stackCells : chainCells;
    let p = cache.get(f);
    if (p === undefined) cache.set(f, (p = finish(c, widths[c] >= natural[c] ? stackOf(f) : fitStack(f, widths[c]))));
    return p;
  };
  // Task ids, names and details are each task's own: padding them is not worth remembering.
  const own = (c: number, text: string): string => (shown[c] ? finish(c, fit(c, text)) : '');
  const header = headers.map((h, c) => (shown[c] ? finish(c, cutEnd(h, widths[c])) : '')).join('');
  let out: string[] = [
    header.trimEnd(),
    widths.map((w, c) => (shown[c] ? finish(c, '-'.repeat(w)) : '')).join(''),
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
    let head = cell(0, tidCells[ti]) + own(1, t.id) + own(2, nameCells[ti]) + cell(3, stateCells[ti]);
    for (let d = 0; d < K; d++) head += own(4 + d, detailCells[ti * K + d]);
    head += frames(STACK, t.stack);
    if (t.awaitedBy.length === 0) {
      out.push((head + frames(CHAIN, undefined) + cell(AWAITER, unknownAwaiter(t)) + cell(LAST, '0x0')).trimEnd());
      continue;
    }
    for (let ai = 0; ai < t.awaitedBy.length; ai++) {
      const a = t.awaitedBy[ai];
      const i = awaiters[e++];
      const line = head + frames(CHAIN, i < 0 ? undefined : s.tasks[i].stack) +
        cell(AWAITER, i < 0 ? 'Unknown' : nameCells[i]) + cell(LAST, escapeText(a));
      out.push(line.trimEnd());
    }
  }
  flush();
  return headers.filter((_, c) => !shown[c]);
}
