// Which interpreter to use when none was given: `python3` is often an older system Python
// (Ubuntu 22.04 ships 3.10) while a `python3.11`, `python3.12`… sits beside it. Every entry
// point (demo, run, a DAP launch, the test matrix) asks here, so they all pick the same one and
// say why in the same words.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, UserError } from '../dap/errors';
import { MIN_VERSION, newEnough, probeInterpreter, probeVersion, type Interpreter } from './python';

/** An interpreter file on PATH named `python3` or `python3.N`. */
export interface OnPath {
  name: string;
  path: string;
  /** N of `python3.N`; undefined for the bare `python3`. */
  minor?: number;
}

export interface Picked {
  interpreter: Interpreter;
  /** One line: which interpreter, and why that one; undefined when it was given. */
  note?: string;
}

const NAME = /^python3(?:\.(\d+))?$/;

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const minorOf = (name: string): number => Number(NAME.exec(name)?.[1] ?? -1);
const byVersion = (a: string, b: string): number => minorOf(a) - minorOf(b) || a.localeCompare(b);

/** Every `python3` and `python3.N` on PATH, the first of each name only (as a shell finds it). */
export function pythonsOnPath(env: NodeJS.ProcessEnv = process.env): OnPath[] {
  const seen = new Set<string>();
  const found: OnPath[] = [];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort(byVersion)) {
      const m = NAME.exec(name);
      if (!m || seen.has(name)) continue;
      const file = path.join(dir, name);
      if (!executable(file)) continue;
      seen.add(name);
      found.push({ name, path: file, minor: m[1] === undefined ? undefined : Number(m[1]) });
    }
  }
  return found;
}

const MIN = MIN_VERSION.join('.');
const described = (name: string, i: Interpreter): string => `${name} (Python ${i.version.join('.')}, ${i.path})`;

/**
 * The interpreter named by `requested` (checked), or when it is undefined: `python3` from PATH
 * if it is 3.11 or newer, else the newest `python3.N` (N ≥ 11) that runs. Throws a UserError
 * listing what was found when nothing qualifies.
 */
export async function findPython(requested?: string, env: NodeJS.ProcessEnv = process.env): Promise<Picked> {
  if (requested !== undefined) {
    const interpreter = await probeInterpreter(requested, env);
    return { interpreter };
  }
  const onPath = pythonsOnPath(env);
  const found: string[] = [];
  const python3 = onPath.find((p) => p.minor === undefined);
  let why = 'there is no python3 on PATH';
  if (python3) {
    try {
      const interpreter = await probeVersion(python3.path, env);
      if (newEnough(interpreter)) return { interpreter, note: `using ${described('python3', interpreter)}: python3 on PATH is ${MIN} or newer` };
      found.push(described('python3', interpreter));
      why = `python3 on PATH is ${interpreter.version.join('.')}, older than ${MIN}`;
    } catch (err) {
      found.push(`python3 (${python3.path}: ${reason(err)})`);
      why = 'python3 on PATH does not run';
    }
  }
  const newestFirst = onPath.filter((p) => p.minor !== undefined).sort((a, b) => b.minor! - a.minor!);
  for (const candidate of newestFirst) {
    try {
      const interpreter = await probeVersion(candidate.path, env);
      if (newEnough(interpreter)) {
        return { interpreter, note: `using ${described(candidate.name, interpreter)}: ${why}, and this is the newest python3.N on PATH` };
      }
      found.push(described(candidate.name, interpreter));
    } catch (err) {
      found.push(`${candidate.name} (${candidate.path}: ${reason(err)})`);
    }
  }
  throw new UserError(found.length > 0 && found.every((f) => f.includes('(Python ')) ? ErrorCode.InterpreterTooOld : ErrorCode.InterpreterNotFound,
    `no Python ${MIN} or newer on PATH (found: ${found.length === 0 ? 'no python3 or python3.N' : found.join('; ')}).\n` +
    `Install CPython ${MIN} or newer, or name an interpreter: --python PATH, or the launch argument "python".`);
}

function reason(err: unknown): string {
  // probeVersion's messages are sentences about the interpreter; inside a list, no full stop.
  return (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
}
