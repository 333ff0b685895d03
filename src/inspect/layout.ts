// Fitting a table into a line width: which columns to keep, and how wide each one gets. What a
// user looks for in `ps` (the task, its state, its own frames, where it was created) outlives
// what helps cross-reference (ids, the awaiter's stack).
import type { Frame } from './model';
import { cutEnd, displayWidth, ELLIPSIS, escapeText } from './text';

export interface ColumnSpec {
  /** Widest cell, header included. */
  natural: number;
  /** Narrowest it may get before it is rather left out. */
  min: number;
  /** What it gets before columns of lower rank are let in (default: natural). */
  comfortable?: number;
  /** Optional columns are let in highest rank first while they fit; undefined: always shown. */
  dropRank?: number;
}

export const GAP = 2;

function total(widths: number[]): number {
  let sum = 0;
  let shown = 0;
  for (const w of widths) {
    if (w > 0) {
      sum += w;
      shown++;
    }
  }
  return sum + GAP * Math.max(0, shown - 1);
}

/** Shares out what is left of `width` among the shown columns, evenly, none beyond its target. */
function grow(widths: number[], target: number[], width: number): void {
  let spare = width - total(widths);
  const growing = widths.map((_, i) => i).filter((i) => widths[i] > 0 && target[i] > widths[i])
    .sort((a, b) => target[a] - widths[a] - (target[b] - widths[b]));
  for (let k = 0; k < growing.length && spare > 0; k++) {
    const i = growing[k];
    const give = Math.min(target[i] - widths[i], Math.floor(spare / (growing.length - k)));
    widths[i] += give;
    spare -= give;
  }
}

/**
 * Each column's width, 0 for a column left out: the columns always shown get up to their
 * comfortable width, then optional columns come in by rank while they fit, then whatever is left
 * goes to the columns still cut. Columns always shown never go below their minimum (a very
 * narrow width then gives longer lines).
 */
export function fitColumns(cols: ColumnSpec[], width: number): number[] {
  const natural = cols.map((c) => c.natural);
  if (total(natural) <= width) return natural;
  const min = cols.map((c) => Math.min(c.min, c.natural));
  const want = cols.map((c, i) => Math.max(min[i], Math.min(c.comfortable ?? c.natural, c.natural)));
  const widths = cols.map((c, i) => (c.dropRank === undefined ? min[i] : 0));
  grow(widths, want, width);
  const optional = cols.map((_, i) => i).filter((i) => cols[i].dropRank !== undefined)
    .sort((a, b) => cols[b].dropRank! - cols[a].dropRank!);
  for (const i of optional) {
    const room = width - total(widths) - GAP;
    if (room >= min[i]) widths[i] = Math.min(want[i], room);
  }
  grow(widths, natural, width);
  return widths;
}

const LIBRARY = /\/lib\/python3\.\d+t?\/|\/(?:site|dist)-packages\//;

/** Whether a frame is the standard library's or an installed package's, not the user's. */
export function isLibraryFrame(f: Frame): boolean {
  return f.file.startsWith('<') || LIBRARY.test(f.file);
}

export const STACK_JOIN = ' -> ';

/**
 * A coroutine stack (innermost first) in `width` columns: library frames go first, innermost
 * first; then the user's own frames from the outer end, down to the innermost user frame (where
 * the user's code waits). Each run of frames left out is one "…".
 */
export function fitStack(frames: readonly Frame[], width: number): string {
  const names = frames.map((f) => escapeText(f.function));
  const shown = names.map(() => true);
  const render = (): string => {
    const parts: string[] = [];
    for (let i = 0; i < names.length; i++) {
      if (shown[i]) parts.push(names[i]);
      else if (i === 0 || shown[i - 1]) parts.push(ELLIPSIS);
    }
    return parts.join(STACK_JOIN);
  };
  let text = render();
  let left = names.length;
  while (displayWidth(text) > width && left > 1) {
    let drop = -1;
    for (let i = 0; i < names.length && drop < 0; i++) if (shown[i] && isLibraryFrame(frames[i])) drop = i;
    if (drop < 0) drop = shown.lastIndexOf(true);
    shown[drop] = false;
    left--;
    text = render();
  }
  return displayWidth(text) > width ? cutEnd(text, width) : text;
}
