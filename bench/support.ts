// What the benchmarks share: where things are, the interpreter matrix, a DAP client driven
// over an adapter's own pipes, and instructions counted by valgrind's callgrind.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { DebugClient } from '@vscode/debugadapter-testsupport';

export const repoRoot = path.resolve(__dirname, '..', '..');

export class StreamClient extends DebugClient {
  attachStreams(readable: Readable, writable: Writable): void {
    this.connect(readable, writable);
  }
}

/** TASKLENS_PYTHONS (colon-separated), else scripts/pythons.sh. */
export function matrix(): string[] {
  const fromEnv = process.env.TASKLENS_PYTHONS;
  if (fromEnv) return fromEnv.split(':').filter(Boolean);
  const out = spawnSync('bash', [path.join(repoRoot, 'scripts', 'pythons.sh')], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`scripts/pythons.sh failed: ${out.stderr}`);
  return out.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** The 1-based line of `file` marked with the comment `# marker`. */
export function lineOf(file: string, marker: string): number {
  const index = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(`# ${marker}`));
  if (index < 0) throw new Error(`${marker} not in ${file}`);
  return index + 1;
}

/** The middle of `values` (the upper one of two). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The word after `name` on the command line, if it is there. */
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** The version of the interpreter at `python`, as `3.12.1`. */
export function pythonVersion(python: string): string {
  return spawnSync(python, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).stdout.trim();
}

/** Prints a benchmark's table (its lines), and writes it to the file `--out` names, if any. */
export function printTable(lines: string[]): void {
  const table = lines.join('\n') + '\n';
  process.stdout.write(table);
  const out = option('--out');
  if (out) fs.writeFileSync(out, table);
}

/** Ends benchmark `name` with status 2, saying which package has valgrind, when it is missing. */
export function requireValgrind(name: string): void {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stderr.write(`${name}: valgrind is not installed (Debian package valgrind)\n`);
    process.exit(2);
  }
}

/**
 * Instructions executed by `python args…` as callgrind counts them: on every thread, or
 * (`mainOnly`) on the main thread alone, from the per-thread profile callgrind writes first.
 */
export function instructions(python: string, args: string[], o: { env?: NodeJS.ProcessEnv; mainOnly?: boolean } = {}): number {
  const dir = o.mainOnly ? fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-callgrind-')) : undefined;
  try {
    const out = dir ? path.join(dir, 'cg.out') : '/dev/null';
    const run = spawnSync('valgrind', ['--tool=callgrind', ...(dir ? ['--separate-threads=yes'] : []), `--callgrind-out-file=${out}`, python, ...args],
      { encoding: 'utf8', env: o.env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
    const m = /Collected : (\d+)/.exec(run.stderr);
    if (run.status !== 0 || !m) throw new Error(`valgrind ${python} ${args.join(' ')} failed: ${run.stderr.slice(-1500)}`);
    if (!dir) return Number(m[1]);
    const main = /^summary: (\d+)/m.exec(fs.readFileSync(`${out}-01`, 'utf8'));
    if (!main) throw new Error(`no main-thread summary in ${out}-01`);
    return Number(main[1]);
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
