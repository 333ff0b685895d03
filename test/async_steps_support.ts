// What the async stepping tests share (async_stepping.test.ts, async_stepping_ends.test.ts): the
// program of three workers, its markers, and the stop of worker-2 at one of them.
import * as assert from 'node:assert/strict';
import type { Harness, Stopped } from './support/harness';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { assertAt, evaluate, launchAsync, lineOf, type Loop } from './async_support';

export const program = fixture('async_steps.py');
export const L = (marker: string): number => lineOf(program, marker);
export const W2 = 'n == 2';

/** Stops worker-2 at `marker` and checks that the program runs on the loop under test. */
export async function stopWorker2(h: Harness, py: Python, loop: Loop, marker: string): Promise<Stopped> {
  const stop = await launchAsync(h, py, program, [{ line: L(marker), condition: W2 }], { loop });
  assert.equal(stop.body.reason, 'breakpoint');
  const top = await assertAt(h, stop.body.threadId, program, { name: 'scenario', lines: [L(marker)], n: '2' }, 'breakpoint');
  const loopModule = await evaluate(h, top.id, 'type(asyncio.get_running_loop()).__module__');
  assert.match(loopModule, loop.args.length > 0 ? /^'uvloop/ : /^'asyncio/);
  return stop;
}
