// Runs a fixture under `python agent/launch.py --diagnose …` (what `tasklens run --diagnose`
// execs) and collects its stderr, stdout, exit status and `--diagnose-json` reports. The
// program runs in its own process group, killed when the run ends, pass or fail.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lineOf } from './async_support';
import type { Python } from './support/pythons';
import { LAUNCHER } from './support/paths';

export interface Report {
  kind: string;
  message: string;
  text: string;
  [key: string]: unknown;
}

export interface Run {
  stdout: string;
  stderr: string;
  /** Exit status, or null when the run was ended by `until` or the timeout. */
  code: number | null;
  reports: Report[];
}

export interface RunOptions {
  slowMs?: number;
  stuckS?: number;
  json?: boolean;
  /** End the run (kill the program) once stderr matches. */
  until?: RegExp;
  timeoutMs?: number;
  extra?: string[];
}

export const LAUNCH = LAUNCHER;

export async function runDiagnosed(py: Python, program: string, args: string[], options: RunOptions = {}): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-diag-'));
  const jsonPath = path.join(dir, 'reports.json');
  const flags = ['--diagnose', ...(options.extra ?? [])];
  if (options.slowMs !== undefined) flags.push('--slow-ms', String(options.slowMs));
  if (options.stuckS !== undefined) flags.push('--stuck-s', String(options.stuckS));
  if (options.json !== false) flags.push('--diagnose-json', jsonPath);
  const child = spawn(py.path, [LAUNCH, ...flags, '--', program, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), options.timeoutMs ?? 30_000);
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (options.until?.test(stderr)) {
          // Let the rest of the block (and its JSON line) arrive first.
          setTimeout(() => {
            clearTimeout(timer);
            resolve(null);
          }, 300);
        }
      });
      child.once('exit', (status) => {
        clearTimeout(timer);
        setTimeout(() => resolve(status), 50);
      });
    });
    const reports = fs.existsSync(jsonPath)
      ? fs.readFileSync(jsonPath, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Report)
      : [];
    return { stdout, stderr, code, reports };
  } finally {
    killGroup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The blocks of stderr that start with `tasklens: <kind>`. */
export function blocks(stderr: string, kind: string): string[] {
  const out: string[] = [];
  const lines = stderr.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith(`tasklens: ${kind}`)) continue;
    const block = [lines[i]];
    while (i + 1 < lines.length && lines[i + 1].startsWith('  ')) block.push(lines[++i]);
    out.push(block.join('\n'));
  }
  return out;
}

export function kinds(reports: Report[]): string[] {
  return reports.map((r) => r.kind);
}

/** `file:line` of the line carrying `marker`, as reports name it. */
export function at(file: string, marker: string): string {
  return `${file}:${lineOf(file, marker)}`;
}

/** [[]] and, where asyncio has eager tasks (3.12+), [['--eager']] too. */
export function eagerToo(py: { version: string }): string[][] {
  return Number(py.version.split('.')[1]) >= 12 ? [[], ['--eager']] : [[]];
}

export function only(reports: Report[], kind: string): Report[] {
  return reports.filter((r) => r.kind === kind);
}
