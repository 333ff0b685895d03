import { Snapshot, Task } from './model';

// What only a program's agent can tell about a task (age, creation site, what it waits on), as
// `ps` columns and `pstree` notes. A memory read has none of it, and then nothing is added.

export interface DetailColumn {
  header: string;
  /** Cut from the start when too wide, so that a path's file name and line survive. */
  cutStart?: boolean;
  cell(t: Task): string;
}

const age = (t: Task): string => (t.ageSeconds === undefined ? '' : `${t.ageSeconds.toFixed(1)} s`);
const created = (t: Task): string => (t.createdAt ? `${t.createdAt.file}:${t.createdAt.line}` : '');
const waiting = (t: Task): string => t.waitingOn ?? '';

const COLUMNS: Array<DetailColumn & { has(t: Task): boolean }> = [
  { header: 'age', cell: age, has: (t) => t.ageSeconds !== undefined },
  { header: 'waiting on', cell: waiting, has: (t) => t.waitingOn !== undefined },
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
  if (t.waitingOn !== undefined) parts.push(`waiting on ${t.waitingOn}`);
  if (t.createdAt) parts.push(`created at ${created(t)}`);
  if (t.ageSeconds !== undefined) parts.push(`age ${age(t)}`);
  return parts.join('; ');
}
