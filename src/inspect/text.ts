// Program-supplied text on a terminal: task names often come from request data, so a name with a
// newline must not break a row and one with an escape sequence must not drive the terminal; and
// a CJK or emoji name takes two columns per character, which padding has to know.
//
// Widths are measured here rather than with the npm package string-width: its current versions
// are ES modules only, which this CommonJS build could load only on Node 20.19 and later; Unicode
// property escapes and Intl.Segmenter (both in Node 20) cover what a task table needs.

const PLAIN = /^[\x20-\x7e]*$/;
// C0 and C1 controls, DEL, and the invisible characters that reorder or hide text (bidi
// overrides and isolates, the zero-width space, the BOM; not the joiners that build emoji and
// scripts): each shown as an escape.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

/** `text` with every control or invisible character written as an escape (`\n`, `\e`, `\x07`, `\u202e`). */
export function escapeText(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth.txt, the ranges that matter for
// text people type), and emoji shown as pictures by default.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f000}-\u{1faff}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}|\ufe0f/u;
const ZERO = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;

let segmenter: Intl.Segmenter | undefined;

function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

function clusterWidth(g: string): number {
  if (WIDE.test(g)) return 2;
  return ZERO.test(g) ? 0 : 1;
}

/** Columns `text` takes on a terminal (escape it first: control characters count as 1 here). */
export function displayWidth(text: string): number {
  if (PLAIN.test(text)) return text.length;
  let w = 0;
  for (const g of graphemes(text)) w += clusterWidth(g);
  return w;
}

export const ELLIPSIS = '…';

/** `text` cut at the end to at most `width` columns, "…" marking the cut. */
export function cutEnd(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  if (PLAIN.test(text)) return `${text.slice(0, width - 1)}${ELLIPSIS}`;
  let out = '';
  let w = 0;
  for (const g of graphemes(text)) {
    const gw = clusterWidth(g);
    if (w + gw > width - 1) break;
    out += g;
    w += gw;
  }
  return out + ELLIPSIS;
}

/** `text` cut at the start (for paths: the file name and line survive), "…" marking the cut. */
export function cutStart(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  if (PLAIN.test(text)) return `${ELLIPSIS}${text.slice(text.length - (width - 1))}`;
  const gs = graphemes(text);
  let out = '';
  let w = 0;
  for (let i = gs.length - 1; i >= 0; i--) {
    const gw = clusterWidth(gs[i]);
    if (w + gw > width - 1) break;
    out = gs[i] + out;
    w += gw;
  }
  return ELLIPSIS + out;
}

/** A path (or `path:line`) cut at its start, at a directory boundary where one is left: `…/pkg/mod.py:12`. */
export function cutPath(text: string, width: number): string {
  const cut = cutStart(text, width);
  if (cut === text) return cut;
  const slash = cut.indexOf('/', 2);
  return slash > 0 ? ELLIPSIS + cut.slice(slash) : cut;
}

/** `text` padded with blanks to `width` columns (never cut). */
export function padTo(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}
