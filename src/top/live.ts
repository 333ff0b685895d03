// What `tasklens top` does once its arguments are read: `--once` (two samples an interval
// apart, printed as JSON or text), or the live screen on the terminal's alternate buffer.
import { CliError } from '../cli/failure';
import { escapeText } from '../inspect/text';
import { connectTop, type TopConnection } from './client';
import { SORT_KEYS, toView, type SortKey, type TopView } from './model';
import { initialUi, paint, plain, render, visibleRows, warningTitle, type UiState } from './screen';
import type { AgentTaskTimes } from './types';

export interface TopOptions {
  once?: boolean;
  json?: boolean;
  interval: number;
  slowMs?: number;
  stuckS?: number;
  sort?: SortKey;
  filter?: string;
  sample?: number | 'auto';
}

const EXIT_NOT_A_TERMINAL = 2;
const ONCE_DETAIL = 1000;

async function twoSamples(c: TopConnection, o: TopOptions): Promise<TopView> {
  const args = { slowMs: o.slowMs, stuckS: o.stuckS, sample: o.sample };
  const first = await c.sample({ ...args, detail: [] });
  await new Promise((r) => setTimeout(r, o.interval * 1000));
  // Full rows cost the program ~70 µs of its GIL each: for thousands of tasks, the oldest
  // ONCE_DETAIL get them and the others their counters only (`compact`).
  const detail = first.tasks.length <= ONCE_DETAIL ? 'all' as const : first.tasks.slice(0, ONCE_DETAIL).map((t) => t.taskId);
  return toView(c.pid, c.pythonVersion, await c.sample({ ...args, detail }), first);
}

export async function top(pid: number, o: TopOptions): Promise<void> {
  if (!o.once && !(process.stdout.isTTY && process.stdin.isTTY)) {
    throw new CliError('top needs an interactive terminal; use `tasklens top PID --once` (with --json for scripts)', EXIT_NOT_A_TERMINAL, 'usage');
  }
  const c = await connectTop(pid);
  try {
    if (o.once) {
      const view = await twoSamples(c, o);
      process.stdout.write(o.json ? `${JSON.stringify(view, null, 2)}\n` : onceText(view, o));
      return;
    }
    await live(c, o);
  } finally {
    await c.close();
  }
}

function onceText(view: TopView, o: TopOptions): string {
  const ui: UiState = { ...initialUi(), sort: o.sort ?? 'busy', filter: o.filter ?? '' };
  // $COLUMNS when set (as ps), else the terminal's width; into a pipe, 120
  const asked = Number(process.env.COLUMNS);
  const width = Number.isInteger(asked) && asked >= 40 ? asked : process.stdout.columns || 120;
  const rows = visibleRows(view, ui).length;
  const lines = render(view, ui, width, rows + view.loops.length + Math.min(view.warnings.length, 4) + 4, plain);
  const more = view.warnings.slice(3).map((w) => escapeText(`! ${warningTitle(w.kind)}: ${w.task ?? ''}: ${w.message}`));
  return `${[...lines.slice(0, -1), ...more].map((l) => l.trimEnd()).join('\n')}\n`;
}

async function live(c: TopConnection, o: TopOptions): Promise<void> {
  const out = process.stdout;
  const color = !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
  const p = paint(color);
  const ui: UiState = { ...initialUi(), sort: o.sort ?? 'busy', filter: o.filter ?? '' };
  let before: AgentTaskTimes | null = null;
  let view: TopView | null = null;
  let error: string | null = null;
  const draw = () => {
    if (!view) return;
    const clock = new Date().toTimeString().slice(0, 8);
    const lines = render(view, ui, out.columns || 80, out.rows || 24, p, `${clock}  every ${o.interval}s`);
    if (error) lines[lines.length - 1] = p.warn(escapeText(error));
    out.write(`\x1b[H${lines.join('\r\n')}`);
  };
  const refresh = async () => {
    try {
      // Sorted, filtered and cut to the screen by the agent: only the rows it can show come.
      const height = out.rows || 24;
      const s = await c.sample({
        slowMs: o.slowMs, stuckS: o.stuckS, sample: o.sample, sort: ui.sort, reverse: ui.reverse, filter: ui.filter,
        limit: ui.scroll + 2 * height, ...(view ? { detail: wanted(view, ui, height) } : {}),
      });
      view = toView(c.pid, c.pythonVersion, s, before);
      before = s;
      error = null;
    } catch (err) {
      error = `no answer from the agent: ${(err as Error).message}`;
    }
    draw();
  };
  out.write('\x1b[?1049h\x1b[?25l\x1b[2J');
  process.stdin.setRawMode(true);
  process.stdin.resume();
  process.stdin.setEncoding('utf8');
  let quit!: () => void;
  const done = new Promise<void>((r) => { quit = r; });
  const onKey = (chunk: string) => {
    // A paste, or keys sent faster than they are read, arrive in one chunk.
    for (const key of splitKeys(chunk)) {
      if (handleKey(key, ui, view)) return quit();
    }
    draw();
  };
  process.stdin.on('data', onKey);
  out.on('resize', draw);
  let ended = false;
  void c.closed.then(() => { ended = true; quit(); });
  await refresh();
  const timer = setInterval(() => void refresh(), o.interval * 1000);
  try {
    await done;
  } finally {
    clearInterval(timer);
    process.stdin.off('data', onKey);
    out.off('resize', draw);
    process.stdin.setRawMode(false);
    process.stdin.pause();
    out.write('\x1b[?25h\x1b[?1049l');
  }
  if (ended) process.stderr.write(`tasklens: process ${c.pid} ended (or its agent closed the connection)\n`);
}

/**
 * The tasks to ask full rows for: those on screen, and the selected one with its awaiters
 * (the await tree grows by a level each refresh). Thousands of full rows would cost the
 * program's loop a pause per refresh; counters for every task are cheap.
 */
function wanted(view: TopView, ui: UiState, height: number): number[] {
  const rows = visibleRows(view, ui);
  const ids = new Set(rows.slice(ui.scroll, ui.scroll + height).map((r) => r.taskId));
  const byId = new Map(view.tasks.map((t) => [t.id, t]));
  const queue = rows.filter((r) => r.id === ui.selected);
  for (let r = queue.shift(); r !== undefined && ids.size < height + 50; r = queue.shift()) {
    ids.add(r.taskId);
    for (const a of r.awaitedBy) {
      const up = byId.get(a);
      if (up && !ids.has(up.taskId)) queue.push(up);
    }
  }
  return [...ids];
}

/** The keys in what the terminal sent: escape sequences (arrows, Page Up/Down) stay whole. */
export function splitKeys(chunk: string): string[] {
  // eslint-disable-next-line no-control-regex
  return chunk.match(/\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/gu) ?? [];
}

/** Applies one key press; true to quit. */
export function handleKey(key: string, ui: UiState, view: TopView | null): boolean {
  if (key === '\x03') return true;
  if (ui.editing) {
    if (key === '\r') ui.editing = false;
    else if (key === '\x1b') Object.assign(ui, { editing: false, filter: '' });
    else if (key === '\x7f' || key === '\b') ui.filter = ui.filter.slice(0, -1);
    else if (key >= ' ' && !key.startsWith('\x1b')) ui.filter += key;
    return false;
  }
  if (key === 'q') return true;
  if (ui.detail) {
    if (key === '\r' || key === '\x1b') ui.detail = false;
    return false;
  }
  const rows = view ? visibleRows(view, ui) : [];
  const at = Math.max(0, rows.findIndex((r) => r.id === ui.selected));
  const move = (to: number) => { ui.selected = rows[Math.max(0, Math.min(rows.length - 1, to))]?.id ?? null; };
  if (key === '\x1b[A' || key === 'k') move(at - 1);
  else if (key === '\x1b[B' || key === 'j') move(at + 1);
  else if (key === '\x1b[5~') move(at - 10);
  else if (key === '\x1b[6~') move(at + 10);
  else if (key === '\r') { if (rows.length > 0) { move(at); ui.detail = true; } }
  else if (key === '/') Object.assign(ui, { editing: true, filter: '' });
  else if (key === 'r') ui.reverse = !ui.reverse;
  else if (key === '\x1b') ui.filter = '';
  else if (SORT_KEYS[key]) Object.assign(ui, { sort: SORT_KEYS[key], reverse: false });
  return false;
}
