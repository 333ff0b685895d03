import * as path from 'node:path';

/** Compiled tests live in dist/test/support; the sources and fixtures in test/. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const MAIN_JS = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}
