import { Cycle, findCycles } from './graph';
import { Snapshot } from './model';
import { psRows, PsRow, renderTable } from './table';
import { buildTree, renderTree, TreeNode } from './tree';

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
}

function header(s: Snapshot, cycles: Cycle[]): Header {
  const names = new Map(cycles.length === 0 ? [] : s.tasks.map((t) => [t.id, t.name]));
  return {
    schema: JSON_SCHEMA_VERSION,
    pid: s.pid,
    source: s.source,
    pythonVersion: s.pythonVersion,
    truncated: s.truncated,
    warnings: s.warnings,
    cycles: cycles.map((c) => ({ ...c, taskNames: c.tasks.map((id) => names.get(id) ?? id) })),
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

function cycleLines(r: Header): string {
  return r.cycles.map((c) => `${c.name}: ${[...c.taskNames, c.taskNames[0]].join(' → ')}\n`).join('');
}

export function psText(r: PsReport, maxWidth?: number): string {
  return renderTable(r.rows, maxWidth) + cycleLines(r);
}

export function pstreeText(r: PstreeReport): string {
  return renderTree(r.roots) + cycleLines(r);
}
