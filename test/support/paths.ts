import * as path from 'node:path';

/** Compiled tests live in dist/test/support; the sources and fixtures in test/. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const MAIN_JS = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** What `tasklens run` execs: the agent's launcher (`-- PROGRAM` after its options). */
export const LAUNCHER = path.join(ROOT, 'agent', 'launch.py');

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}
