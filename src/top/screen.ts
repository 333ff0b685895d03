// The `top` screen as text: a pure function of the view, the user's choices and the terminal
// size, so the interactive loop (src/cli/topCommand.ts) only reads keys and writes frames.
// Hand-written ANSI: the screen is a list of lines redrawn whole each refresh; a terminal UI
// library would add a dependency for what is a dozen escape sequences here.
// Every text the program supplies (task and coroutine names, paths, what a task waits on, a
// warning's message) is escaped as `ps` escapes it (src/inspect/text.ts): a task name built from
// request data must neither split a row nor drive the terminal; and it is measured in terminal
// columns as ps measures it, so a CJK or emoji name (two columns a character) keeps its row's
// columns in line.
import { cutEnd, cutStart, escapeText, padTo } from '../inspect/text';
import { duration, filterRows, sortRows, SORT_KEYS, type SortKey, type TopRow, type TopView } from './model';

export interface UiState {
  sort: SortKey;
  reverse: boolean;
  filter: string;
  /** Typing a filter: keys go to it until Enter or Esc. */
  editing: boolean;
  /** The id of the selected task, kept across refreshes. */
  selected: string | null;
  detail: boolean;
  /** First row shown (the list scrolls to keep the selection in view). */
  scroll: number;
}

export const initialUi = (): UiState => ({ sort: 'busy', reverse: false, filter: '', editing: false, selected: null, detail: false, scroll: 0 });

export interface Paint { bold(s: string): string; inverse(s: string): string; warn(s: string): string; dim(s: string): string }

/** No escape sequences at all: text for a pipe or a file (`top --once`). */
export const plain: Paint = { bold: (s) => s, inverse: (s) => s, warn: (s) => s, dim: (s) => s };

export function paint(color: boolean): Paint {
  const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
  // NO_COLOR: no colours; bold and inverse video are kept (they are not colours).
  return { bold: sgr('1'), inverse: sgr('7'), warn: color ? sgr('31') : (s) => s, dim: color ? sgr('2') : (s) => s };
}

function fit(text: string, width: number): string {
  return padTo(cutEnd(escapeText(text), width), width);
}

/** Shortened from the left: the file name and line matter more than the folders. */
function fitLeft(text: string, width: number): string {
  return padTo(cutStart(escapeText(text), width), width);
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const siteText = (s: { path: string; line: number } | undefined): string => (s ? `${base(s.path)}:${s.line}` : '');
const count = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n));

interface Column { title: string; width: number; key?: SortKey; cell(r: TopRow): string; left?: boolean }

function columns(width: number): Column[] {
  const cols: Column[] = [
    { title: 'NAME', width: 12, key: 'name', cell: (r) => r.name },
    { title: 'STATE', width: 7, key: 'state', cell: (r) => r.state },
    { title: 'BUSY', width: 6, key: 'busy', cell: (r) => duration(r.busy) },
    { title: 'SCHED', width: 6, key: 'sched', cell: (r) => duration(r.sched) },
    { title: 'IDLE', width: 6, key: 'idle', cell: (r) => duration(r.idle) },
    { title: 'POLLS', width: 6, key: 'polls', cell: (r) => count(r.polls) },
    { title: 'WAKES', width: 6, key: 'wakes', cell: (r) => count(r.wakes) },
    { title: 'AGE', width: 6, key: 'age', cell: (r) => (r.ageAtLeast ? '≥' : '') + duration(r.age) },
  ];
  if (width >= 110) cols.splice(1, 0, { title: 'COROUTINE', width: 18, cell: (r) => r.coroutine });
  const used = cols.reduce((n, c) => n + c.width + 1, 1);   // 1: the selection mark
  const rest = width - used;
  if (width >= 140) {
    const half = Math.floor((rest - 1) / 2);
    cols.push({ title: 'WAITS AT / ON', width: half, left: true, cell: (r) => `${siteText(r.at)}${r.waitingOn ? ` ${r.waitingOn}` : ''}` });
    cols.push({ title: 'CREATED AT', width: rest - half - 1, left: true, cell: (r) => siteText(r.createdAt) });
  } else {
    cols.push({ title: 'WAITS AT', width: Math.max(8, rest), left: true, cell: (r) => siteText(r.at) });
  }
  return cols;
}

function loopLine(l: TopView['loops'][number]): string {
  const t = l.tasks;
  const longest = l.longestStep > 0 ? `  longest step ${duration(l.longestStep)}${l.longestTask ? ` (${l.longestTask})` : ''}` : '';
  return `loop ${l.thread} [${l.kind}]: ${t.running} running ${t.ready} ready ${t.waiting} waiting ${t.done} done`
    + ` | ${count(l.stepsPerSecond)} steps/s ${Math.round(l.busyShare * 100)}% busy | lag ${duration(l.lag)} max ${duration(l.lagMax)}${longest}`;
}

export function visibleRows(view: TopView, ui: UiState): TopRow[] {
  return sortRows(filterRows(view.tasks, ui.filter), ui.sort, ui.reverse);
}

export function render(view: TopView, ui: UiState, width: number, height: number, p: Paint, clock = ''): string[] {
  const lines: string[] = [];
  const push = (s: string, style?: (x: string) => string) => lines.push(style ? style(fit(s, width)) : fit(s, width));
  const counting = view.sampled > 1 ? `  sampled 1 in ${view.sampled}${view.auto ? ' (auto)' : ''}` : '';
  push(`tasklens top  pid ${view.pid}  Python ${view.pythonVersion}${counting}  ${clock}`, p.bold);
  for (const l of view.loops) push(loopLine(l));
  if (view.loops.length === 0) push('no event loop running yet');
  const rows = visibleRows(view, ui);
  const selected = rows.find((r) => r.id === ui.selected) ?? rows[0];
  if (ui.detail && selected) return [...lines, ...detail(selected, view, width, height - lines.length - 1, p), footer(ui, width, p, true)];
  const listed = view.warnings.filter((w) => w.alikeOf === undefined);
  const shownWarnings = listed.slice(0, 3);
  for (const w of shownWarnings) {
    const who = w.task ? `${w.task}${w.alike ? ` and ${w.alike.toLocaleString('en-US')} more like it` : ''}: ` : '';
    push(`! ${warningTitle(w.kind)}: ${who}${w.message}${w.at ? ` at ${siteText(w.at)}` : ''}`, p.warn);
  }
  const moreWarnings = listed.length - shownWarnings.length + (view.warningsLeftOut ?? 0);
  if (moreWarnings > 0) push(`! and ${moreWarnings} more warnings (top --once shows all)`, p.warn);
  const cols = columns(width);
  push(cols.map((c) => (c.key === ui.sort ? `${c.title}${ui.reverse ? '↑' : '↓'}` : c.title).padEnd(c.width).slice(0, c.width)).join(' '), p.inverse);
  const room = Math.max(1, height - lines.length - 1);
  const at = Math.max(0, rows.indexOf(selected!));
  let scroll = Math.min(ui.scroll, Math.max(0, rows.length - room));
  if (at < scroll) scroll = at;
  if (at >= scroll + room) scroll = at - room + 1;
  ui.scroll = scroll;
  for (const r of rows.slice(scroll, scroll + room)) {
    const text = cols.map((c) => (c.left ? fitLeft : fit)(c.cell(r), c.width)).join(' ');
    push(`${r === selected ? '>' : ' '}${text}`.slice(0, width), r === selected ? p.inverse : undefined);
  }
  if (rows.length === 0) push(ui.filter ? `no task matches "${ui.filter}"` : 'no tasks');
  else if (view.matched !== undefined && view.matched > rows.length && lines.length < height - 1) {
    push(`  … ${view.matched - rows.length} more tasks (move down to see them)`, p.dim);
  }
  while (lines.length < height - 1) lines.push(' '.repeat(width));
  lines.push(footer(ui, width, p, false));
  return lines.slice(0, height);
}

function footer(ui: UiState, width: number, p: Paint, inDetail: boolean): string {
  if (ui.editing) return p.inverse(fit(`filter: ${ui.filter}▏  (Enter keeps it, Esc clears it)`, width));
  if (inDetail) return p.inverse(fit('Esc/Enter back to the list   q quit', width));
  const keys = Object.entries(SORT_KEYS).map(([k, v]) => `${k} ${v}`).join(' ');
  return p.inverse(fit(`sort: ${keys}  r reverse  / filter${ui.filter ? ` "${ui.filter}"` : ''}  ↑↓ Enter task  q quit`, width));
}

export function warningTitle(kind: string): string {
  return ({
    neverYields: 'never yields', blockedLoop: 'blocked loop', stuck: 'stuck', selfWaking: 'self-waking',
    exceptionNotRetrieved: 'exception not retrieved', cancelledRunning: 'cancelled but running',
  } as Record<string, string>)[kind] ?? kind;
}

const BUCKET_LABEL = (i: number): string => (i === 0 ? '<1µs' : `<${duration((1 << i) / 1e6)}`);

function detail(r: TopRow, view: TopView, width: number, room: number, p: Paint): string[] {
  const out: string[] = [];
  const push = (s: string, style?: (x: string) => string) => out.push(style ? style(fit(s, width)) : fit(s, width));
  push(`task ${r.name} (${r.id})  ${r.coroutine}${r.coroutineAt ? ` at ${siteText(r.coroutineAt)}` : ''}  ${r.state}`, p.bold);
  push(`busy ${duration(r.busy)}  sched ${duration(r.sched)}  idle ${duration(r.idle)}  polls ${r.polls}  wakes ${r.wakes} (self ${r.selfWakes})  age ${r.ageAtLeast ? 'at least ' : ''}${duration(r.age)}`);
  if (r.createdAt) push(`created at ${r.createdAt.path}:${r.createdAt.line}`);
  if (r.at) push(`${r.state === 'running' ? 'runs' : 'waits'} at ${r.at.path}:${r.at.line} in ${r.at.name}${r.waitingOn ? ` on ${r.waitingOn}` : ''}`);
  for (const w of view.warnings.filter((x) => x.id === r.id)) push(`! ${warningTitle(w.kind)}: ${w.message}`, p.warn);
  const s = r.stepTimes;
  push(`step times: p50 ${duration(s.p50)}  p90 ${duration(s.p90)}  p99 ${duration(s.p99)}  max ${duration(s.max)}`, p.bold);
  const most = Math.max(1, ...s.histogram);
  const bars = s.histogram.map((n, i) => ({ n, i })).filter(({ n }) => n > 0);
  for (const { n, i } of bars.slice(-8)) {
    push(`  ${BUCKET_LABEL(i).padStart(7)} ${'█'.repeat(Math.max(1, Math.round((n / most) * Math.max(1, width - 24))))} ${n}`);
  }
  if (r.compact) push('(its stack and await tree come with the next refresh)');
  push('stack (innermost first):', p.bold);
  for (const f of r.stack.slice(0, 6)) push(`  ${f.name}  ${f.path}:${f.line}`);
  push('await tree (awaited by):', p.bold);
  const byId = new Map(view.tasks.map((t) => [t.id, t]));
  const seen = new Set<string>([r.id]);
  const walk = (t: TopRow, depth: number): void => {
    for (const a of t.awaitedBy) {
      if (seen.has(a) || out.length >= room) continue;
      seen.add(a);
      const up = byId.get(a);
      push(`${'  '.repeat(depth)}└ ${up ? `${up.name} (${up.coroutine}) at ${siteText(up.at)}` : a}`);
      if (up) walk(up, depth + 1);
    }
  };
  walk(r, 1);
  if (r.awaitedBy.length === 0) push('  (nobody awaits it)');
  while (out.length < room) out.push(' '.repeat(width));
  return out.slice(0, room);
}
