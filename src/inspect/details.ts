import { Snapshot, Task } from './model';

// What only a program's agent can tell about a task (age, creation site, what it waits on and
// who holds it, how long it has waited and whether it is stuck under `--diagnose`), as `ps`
// columns and `pstree` notes; and what memory alone cannot tell on 3.11–3.13 (an awaiter it
// holds no trace of). A memory read has none of the agent's, and then nothing is added.

export interface DetailColumn {
  header: string;
  /** Cut from the start when too wide, so that a path's file name and line survive. */
  cutStart?: boolean;
  cell(t: Task): string;
}

const age = (t: Task): string => (t.ageSeconds === undefined ? '' : `${t.ageSeconds.toFixed(1)} s`);
const place = (at: { file: string; line: number }): string => `${at.file}:${at.line}`;
const created = (t: Task): string => (t.createdAt ? place(t.createdAt) : '');
/** "Lock.acquire(); held by Task-3 since app.py:21", the holders as diagnostics name them. */
const waiting = (t: Task): string => {
  const holders = (t.lockHolders ?? []).map((h) =>
    `${h.finished ? 'finished task ' : ''}${h.name ?? h.task ?? 'a task'}${h.acquiredAt ? ` since ${place(h.acquiredAt)}` : ''}`);
  const on = t.waitingOn ?? '';
  return holders.length === 0 ? on : `${on}${on ? '; ' : ''}held by ${holders.join(', ')}`;
};
const waited = (t: Task): string =>
  t.waitedSeconds === undefined ? (t.stuck ? 'stuck' : '') : `${t.waitedSeconds.toFixed(1)} s${t.stuck ? ' stuck' : ''}`;

const COLUMNS: Array<DetailColumn & { has(t: Task): boolean }> = [
  { header: 'age', cell: age, has: (t) => t.ageSeconds !== undefined },
  { header: 'waited', cell: waited, has: (t) => t.waitedSeconds !== undefined || t.stuck === true },
  { header: 'waiting on', cell: waiting, has: (t) => t.waitingOn !== undefined || (t.lockHolders?.length ?? 0) > 0 },
  { header: 'created at', cutStart: true, cell: created, has: (t) => t.createdAt !== undefined },
];

/** The columns some task of `s` has a value for, in a fixed order. */
export function detailColumns(s: Snapshot): DetailColumn[] {
  if (s.source !== 'agent') return [];
  return COLUMNS.filter((c) => s.tasks.some((t) => c.has(t)));
}

/** `waiting on …; created at file:line; age N s`, or '' when the task has none of them. */
export function detailNote(t: Task): string {
  const parts: string[] = [];
  const on = waiting(t);
  if (on) parts.push(`waiting on ${on}`);
  if (t.waitedSeconds !== undefined) parts.push(`waited ${waited(t)}`);
  else if (t.stuck) parts.push('stuck');
  if (t.awaiterUnknown !== undefined) parts.push(`awaiter unknown (${t.awaiterUnknown})`);
  if (t.createdAt) parts.push(`created at ${created(t)}`);
  if (t.ageSeconds !== undefined) parts.push(`age ${age(t)}`);
  return parts.join('; ');
}
