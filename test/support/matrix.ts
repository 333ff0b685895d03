// Runs a test body once per interpreter; the test name carries the interpreter's version.
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { skippable } from './gdb';
import { pythons, type Python } from './pythons';

export const TEST_TIMEOUT_MS = 45_000;

export function eachPython(suite: string, body: (py: Python) => void): void {
  for (const py of pythons()) {
    describe(`${suite} [${py.label}]`, () => {
      if (py.problem !== undefined) {
        test('interpreter is available', () => assert.fail(`cannot run ${py.path}: ${py.problem}`));
        return;
      }
      body(py);
    });
  }
}

/** One test; a body that finds this machine cannot run it (support/gdb.ts) is skipped, saying why. */
export function it(name: string, body: () => Promise<void>): void {
  test(name, { timeout: TEST_TIMEOUT_MS }, skippable(body));
}
