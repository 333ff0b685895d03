// The interpreter matrix: TASKLENS_PYTHONS (colon-separated), else scripts/pythons.sh.
// An interpreter that cannot be run still gets its tests, which then fail: a missing
// interpreter is a broken setup, not a reason to skip.
import { execFileSync } from 'node:child_process';
import { ROOT } from './paths';

export interface Python {
  path: string;
  /** "3.13.1", or "unavailable" when the interpreter does not run. */
  version: string;
  label: string;
  problem?: string;
}

function listPaths(): string[] {
  const fromEnv = process.env.TASKLENS_PYTHONS;
  if (fromEnv) return fromEnv.split(':').filter((p) => p !== '');
  const out = execFileSync('bash', [`${ROOT}/scripts/pythons.sh`], { encoding: 'utf8' });
  return out.split('\n').filter((p) => p.trim() !== '');
}

function probe(path: string): Python {
  try {
    const version = execFileSync(path, ['-c', 'import sys; print(".".join(map(str, sys.version_info[:3])))'], {
      encoding: 'utf8',
      timeout: 10_000,
    }).trim();
    return { path, version, label: `py${version}` };
  } catch (err) {
    return { path, version: 'unavailable', label: `py? ${path}`, problem: err instanceof Error ? err.message : String(err) };
  }
}

let cached: Python[] | undefined;

export function pythons(): Python[] {
  if (!cached) {
    let paths: string[];
    try {
      paths = listPaths();
    } catch (err) {
      return [{ path: 'python3', version: 'unavailable', label: 'py? (matrix)', problem: `scripts/pythons.sh failed: ${String(err)}` }];
    }
    cached = paths.map(probe);
  }
  return cached;
}
