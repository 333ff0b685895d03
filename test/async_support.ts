// Shared by the asyncio end-to-end tests: marker lines, loop variants, task-aware stepping checks.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Harness, Stopped } from './support/harness';
import { pythons, type Python } from './support/pythons';

export const TASK_ID_BASE = 1_000_000;

/** The 1-based line of the fixture line that ends with `# MARKER`. */
export function lineOf(file: string, marker: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.trimEnd().endsWith(`# ${marker}`));
  if (index < 0) throw new Error(`no line marked ${marker} in ${file}`);
  return index + 1;
}

export interface Loop {
  label: string;
  args: string[];
}

const DEFAULT_LOOP: Loop = { label: 'asyncio loop', args: [] };
const UVLOOP: Loop = { label: 'uvloop', args: ['--loop=uvloop'] };

/**
 * One suite per interpreter, and with `uvloop` also on 3.14 (the interpreter of the matrix that
 * ships uvloop). A missing interpreter fails, as in the other suites.
 */
export function eachPythonAndLoop(suite: string, withUvloop: boolean, body: (py: Python, loop: Loop) => void): void {
  for (const py of pythons()) {
    const loops = withUvloop && py.version.startsWith('3.14.') ? [DEFAULT_LOOP, UVLOOP] : [DEFAULT_LOOP];
    for (const loop of loops) {
      describe(`${suite} [${py.label}, ${loop.label}]`, () => {
        if (py.problem !== undefined) {
          test('interpreter is available', () => assert.fail(`cannot run ${py.path}: ${py.problem}`));
          return;
        }
        body(py, loop);
      });
    }
  }
}

export interface Bp {
  line: number;
  condition?: string;
}

/** Launches with breakpoints (and optional exception filters) and waits for the first stop. */
export async function launchAsync(
  h: Harness,
  py: Python,
  program: string,
  bps: Bp[],
  options: { loop?: Loop; filters?: string[]; extra?: Record<string, unknown> } = {},
): Promise<Stopped> {
  const since = h.mark();
  await h.launch(py, { program, args: options.loop?.args ?? [], ...options.extra }, async () => {
    await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: bps });
    if (options.filters) await h.dc.setExceptionBreakpointsRequest({ filters: options.filters });
  });
  return h.waitStopped(since);
}

export async function setBreakpoints(h: Harness, program: string, bps: Bp[]): Promise<void> {
  await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: bps });
}

export async function threads(h: Harness): Promise<DebugProtocol.Thread[]> {
  return (await h.dc.threadsRequest()).body.threads;
}

export async function threadNamed(h: Harness, name: string): Promise<DebugProtocol.Thread> {
  const all = await threads(h);
  const found = all.find((t) => t.name === name);
  assert.ok(found, `no thread named ${JSON.stringify(name)} in ${JSON.stringify(all.map((t) => t.name))}`);
  return found;
}

export async function localValue(h: Harness, frameId: number, name: string): Promise<string | undefined> {
  return (await h.locals(frameId)).get(name)?.value;
}

export interface Where {
  /** The frame's function name; several when CPython versions differ (e.g. a qualified name). */
  name: string | string[];
  lines: number[];
  /** Expected value (repr) of the local `n`, which tells the three workers apart. */
  n?: string;
}

/** The innermost frame of a thread; an empty stack fails with the thread's id. */
export async function topOf(h: Harness, threadId: number): Promise<DebugProtocol.StackFrame> {
  const top = await h.topFrame(threadId);
  assert.ok(top, `thread ${threadId} has an empty stack`);
  return top;
}

/** Where the top frame of `threadId` is, checked against `where` and the fixture file. */
export async function assertAt(h: Harness, threadId: number, program: string, where: Where, context: string): Promise<DebugProtocol.StackFrame> {
  const top = await topOf(h, threadId);
  const at = `${top.name} ${top.source?.path ?? '<no source>'}:${top.line}`;
  assert.equal(top.source?.path, program, `${context}: stopped in ${at}, not in the program (event loop or library?)`);
  const names = typeof where.name === 'string' ? [where.name] : where.name;
  assert.ok(names.includes(top.name), `${context}: stopped in ${at}, expected ${names.join(' or ')}`);
  assert.ok(where.lines.includes(top.line), `${context}: stopped at line ${top.line}, expected ${where.lines.join(' or ')}`);
  if (where.n !== undefined) {
    assert.equal(await localValue(h, top.id, 'n'), where.n, `${context}: stopped in another task's frame (n differs)`);
  }
  return top;
}

/** Sends a step and checks that it ends in the same logical thread, at `where`. */
export async function stepTo(
  h: Harness,
  command: 'next' | 'stepIn' | 'stepOut',
  threadId: number,
  program: string,
  where: Where,
): Promise<Stopped> {
  const since = h.mark();
  await h.dc[`${command}Request`]({ threadId });
  const stop = await h.waitStopped(since);
  const context = `${command} from thread ${threadId}`;
  assert.equal(stop.body.reason, 'step', `${context}: stop reason ${stop.body.reason} (${stop.body.description ?? ''})`);
  assert.equal(stop.body.threadId, threadId, `${context}: the step ended in thread ${stop.body.threadId}`);
  await assertAt(h, stop.body.threadId, program, where, context);
  return stop;
}

/** Evaluates in a frame and returns the result text. */
export async function evaluate(h: Harness, frameId: number, expression: string): Promise<string> {
  return (await h.dc.evaluateRequest({ expression, frameId, context: 'watch' })).body.result;
}
