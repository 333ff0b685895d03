import { Cycle, findCycles, indexTasks } from './graph';
import { Snapshot } from './model';
import { psRows, PsRow, psTable } from './table';
import { escapeText } from './text';
import { buildTree, TreeNode, treeText } from './tree';

// The --json documents of `ps` and `pstree` (schema in docs/ps.md). `schema` changes only when a
// field changes meaning or goes away; new fields may be added.
export const JSON_SCHEMA_VERSION = 1;

interface Header {
  schema: number;
  pid: number;
  source: Snapshot['source'];
  pythonVersion: string;
  truncated: boolean;
  warnings: string[];
  cycles: Array<Cycle & { taskNames: string[] }>;
  deadlocks?: Snapshot['deadlocks'];
}

function named(s: Snapshot, cycles: Cycle[]): Header['cycles'] {
  const names = new Map(cycles.length === 0 ? [] : s.tasks.map((t) => [t.id, t.name]));
  return cycles.map((c) => ({ ...c, taskNames: c.tasks.map((id) => names.get(id) ?? id) }));
}

function header(s: Snapshot, cycles: Cycle[]): Header {
  return {
    schema: JSON_SCHEMA_VERSION,
    pid: s.pid,
    source: s.source,
    pythonVersion: s.pythonVersion,
    truncated: s.truncated,
    warnings: s.warnings,
    cycles: named(s, cycles),
    ...(s.deadlocks !== undefined ? { deadlocks: s.deadlocks } : {}),
  };
}

export interface PsReport extends Header {
  tasks: Snapshot['tasks'];
  rows: PsRow[];
}

export interface PstreeReport extends Header {
  roots: TreeNode[];
}

export function psReport(s: Snapshot): PsReport {
  const cycles = findCycles(s);
  return { ...header(s, cycles), tasks: s.tasks, rows: psRows(s, cycles) };
}

export function pstreeReport(s: Snapshot): PstreeReport {
  const cycles = findCycles(s);
  return { ...header(s, cycles), roots: buildTree(s, cycles) };
}

function cycleLines(cycles: Header['cycles']): string {
  return cycles.map((c) => `${c.name}: ${[...c.taskNames, c.taskNames[0]].map(escapeText).join(' → ')}\n`).join('');
}

/** Each deadlock the program's diagnostics reported: its verdict, then its cycles by task name. */
function deadlockLines(s: Snapshot): string {
  if (!s.deadlocks || s.deadlocks.length === 0) return '';
  const names = new Map(s.tasks.map((t) => [t.id, t.name]));
  const name = (id: string): string => escapeText(names.get(id) ?? id);
  return s.deadlocks.map((d) => `${escapeText(d.message)}\n` +
    d.cycles.map((c) => `  cycle: ${[...c, c[0]].map(name).join(' → ')}\n`).join('')).join('');
}

/**
 * The table of `psReport(s).rows` in lines of at most `lineWidth` columns, then one line per
 * cycle and the deadlock verdicts, handed to `write` in pieces. Returns the headers of the columns left out to fit.
 */
export function psWrite(s: Snapshot, write: (chunk: string) => void, lineWidth?: number): string[] {
  const index = indexTasks(s);
  const cycles = findCycles(s, index);
  const hidden = psTable(s, cycles, write, lineWidth, index);
  if (cycles.length > 0) write(cycleLines(named(s, cycles)));
  const verdicts = deadlockLines(s);
  if (verdicts) write(verdicts);
  return hidden;
}

export function psText(s: Snapshot, lineWidth?: number): string {
  const chunks: string[] = [];
  psWrite(s, (c) => chunks.push(c), lineWidth);
  return chunks.join('');
}

export function pstreeText(s: Snapshot, lineWidth?: number): string {
  const index = indexTasks(s);
  const cycles = findCycles(s, index);
  return treeText(s, cycles, index, lineWidth) + cycleLines(named(s, cycles)) + deadlockLines(s);
}
