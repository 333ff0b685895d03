// The trace files' checks, shared by the trace tests: the file read (gzip too) and checked
// against what Perfetto needs of the Chrome trace event format.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

export interface Event { ph: string; pid?: number; tid?: number; ts?: number; dur?: number; name?: string; cat?: string; id?: number; bp?: string; args?: Record<string, unknown> }
export interface Trace { traceEvents: Event[]; otherData: { steps: number; droppedSteps: number } }

export function load(file: string): Trace {
  const raw = fs.readFileSync(file);
  return JSON.parse((file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8')) as Trace;
}

export const EPS = 0.01;   // µs: timestamps are written rounded to the nanosecond

/** What Perfetto needs of the file; returns the slices of each track, in time order. */
export function validate(t: Trace): Map<string, Event[]> {
  const tracks = new Map<string, Event[]>();
  const last = new Map<string, number>();
  for (const e of t.traceEvents) {
    assert.ok(['X', 'i', 's', 'f', 'C', 'M'].includes(e.ph), `unknown phase ${e.ph}`);
    if (e.ph === 'M') continue;
    assert.ok(Number.isFinite(e.ts) && typeof e.pid === 'number' && typeof e.tid === 'number', JSON.stringify(e));
    const key = `${e.pid}/${e.tid}`;
    assert.ok((last.get(key) ?? -Infinity) <= e.ts! + EPS, `times go back on track ${key}: ${JSON.stringify(e)}`);
    last.set(key, e.ts!);
    if (e.ph === 'X') {
      assert.ok(Number.isFinite(e.dur) && e.dur! >= 0, `slice without an end: ${JSON.stringify(e)}`);
      if (!tracks.has(key)) tracks.set(key, []);
      tracks.get(key)!.push(e);
    }
  }
  for (const [key, slices] of tracks) {
    const open: Event[] = [];
    for (const s of slices) {
      while (open.length > 0 && open[open.length - 1].ts! + open[open.length - 1].dur! <= s.ts! + EPS) open.pop();
      const parent = open[open.length - 1];
      if (parent) assert.ok(s.ts! + s.dur! <= parent.ts! + parent.dur! + EPS, `slices overlap on ${key}: ${JSON.stringify(parent)} and ${JSON.stringify(s)}`);
      open.push(s);
    }
  }
  const starts = new Map(t.traceEvents.filter((e) => e.ph === 's').map((e) => [e.id!, e]));
  const ends = new Map(t.traceEvents.filter((e) => e.ph === 'f').map((e) => [e.id!, e]));
  for (const id of starts.keys()) assert.ok(ends.has(id), `flow ${id} has no end`);
  for (const id of ends.keys()) assert.ok(starts.has(id), `flow ${id} has no start`);
  return tracks;
}

/** The slice of `track` that holds time `ts`. */
export function sliceAt(slices: Event[], ts: number): Event | undefined {
  return slices.find((s) => s.ts! - EPS <= ts && ts <= s.ts! + s.dur! + EPS && s.cat !== undefined);
}

