// `tasklens dump`: the text an operator reads when a process hangs, and the --json document a
// script reads (schema in docs/ps.md). Thread after thread: who it is, what the kernel says it
// waits in, its Python stack innermost first, and the tasks of the event loop it runs, drawn as
// `pstree` draws them.
import type { DumpThread, RawDump } from '../procmem/dump';
import { fromRaw } from './memorySource';
import { frameLabel, Snapshot } from './model';
import { JSON_SCHEMA_VERSION } from './report';
import { treeText } from './tree';
import { findCycles, indexTasks } from './graph';

export interface DumpReport {
  schema: number;
  pid: number;
  source: 'memory';
  pythonVersion: string;
  warnings: string[];
  threads: DumpThread[];
  tasks: Snapshot['tasks'];
}

export function dumpReport(d: RawDump): DumpReport {
  const snap = fromRaw(d.tasks);
  return {
    schema: JSON_SCHEMA_VERSION, pid: snap.pid, source: 'memory', pythonVersion: snap.pythonVersion,
    warnings: snap.warnings, threads: d.threads, tasks: snap.tasks,
  };
}

function kernelNote(t: DumpThread): string {
  const k = t.kernel;
  if (!k) return 'kernel: gone';
  const parts = [k.state];
  if (k.syscall) parts.push(`in ${k.syscall}`);
  if (k.wchan) parts.push(`wchan ${k.wchan}`);
  return `kernel: ${parts.join(', ')}`;
}

function threadTitle(t: DumpThread): string {
  const names = [t.name, t.kernel?.name].filter((n, i, all): n is string => !!n && all.indexOf(n) === i);
  const title = `Thread ${t.threadId}${names.length > 0 ? ` "${names.join('" / "')}"` : ''}`;
  const notes = [t.holdsGil ? 'holds the GIL' : '', kernelNote(t)].filter((n) => n !== '');
  return `${title} (${notes.join('; ')})`;
}

export function dumpText(d: RawDump): string {
  const snap = fromRaw(d.tasks);
  const out: string[] = [`Process ${snap.pid}: Python ${snap.pythonVersion}, ${d.threads.length} thread(s)`];
  for (const t of d.threads) {
    out.push('', threadTitle(t));
    if (t.error) out.push(`  stack unreadable: ${t.error}`);
    else if (t.stack.length === 0) out.push('  (no Python frames)');
    for (const f of t.stack) {
      out.push(`  ${frameLabel(f)}`);
      for (const l of f.locals ?? []) out.push(`      ${l.name} = ${l.value}`);
    }
    const tasks = snap.tasks.filter((x) => x.threadId === t.threadId && x.threadId !== 0);
    if (t.loop !== undefined || tasks.length > 0) {
      out.push(`  event loop${t.loop !== undefined ? ` ${t.loop}` : ''}: ${tasks.length} task(s)`);
      if (tasks.length > 0) {
        const sub: Snapshot = { ...snap, tasks };
        const index = indexTasks(sub);
        for (const line of treeText(sub, findCycles(sub, index), index).trimEnd().split('\n')) out.push(`    ${line}`);
      }
    }
  }
  const orphans = snap.tasks.filter((x) => x.threadId === 0 || !d.threads.some((t) => t.threadId === x.threadId));
  if (orphans.length > 0) out.push('', `${orphans.length} task(s) of no running loop (see \`tasklens pstree\`)`);
  return `${out.join('\n')}\n`;
}
