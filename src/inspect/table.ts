import { Cycle } from './graph';
import { Snapshot, Task, taskIndex } from './model';

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

/** One row per (task, awaiter); a task nothing awaits gets one row with empty awaiter fields. */
export function psRows(s: Snapshot, cycles: Cycle[]): PsRow[] {
  const byId = taskIndex(s);
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const names = new Map<Task, string[]>();
  const namesOf = (t: Task): string[] => {
    let n = names.get(t);
    if (!n) names.set(t, (n = t.stack.map((f) => f.function)));
    return n;
  };
  const rows: PsRow[] = [];
  for (const t of s.tasks) {
    const state = t.error ? `${t.state} (partial)` : t.state;
    const cycle = cycleOf.get(t.id) ?? null;
    const stack = namesOf(t);
    if (t.awaitedBy.length === 0) {
      rows.push(row(t, state, stack, [], '', '0x0', cycle));
      continue;
    }
    for (const a of t.awaitedBy) {
      const awaiter = byId.get(a);
      rows.push(row(t, state, stack, awaiter ? namesOf(awaiter) : [], awaiter ? awaiter.name : 'Unknown', a, cycle));
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

function cells(r: PsRow): string[] {
  return [
    String(r.threadId), r.taskId, r.taskName, r.cycle ? `${r.state} [${r.cycle}]` : r.state,
    r.coroutineStack.join(' -> '), r.awaiterChain.join(' -> '), r.awaiterName, r.awaiterId,
  ];
}

/**
 * A plain aligned table: columns as wide as their widest cell up to `maxWidth`, longer cells cut
 * with "…" so that one deep stack cannot push every other row off the screen.
 */
export function renderTable(rows: PsRow[], maxWidth = Infinity): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.min(maxWidth, Math.max(h.length, ...body.map((c) => c[i].length))));
  const fit = (c: string, w: number): string => (c.length > w ? `${c.slice(0, w - 1)}…` : c.padEnd(w));
  const line = (cs: string[]): string => cs.map((c, i) => fit(c, widths[i])).join('  ').trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}
