import * as fs from 'node:fs';
import * as path from 'node:path';
import { readElf, readSymbols, Section } from './elf';
import { errnoCode, noSuchProcess, permissionDenied, ProcError } from './errors';
import { isZombie, mappedFiles, Mapping, readMaps } from './maps';
import { checkAgainstDebug, Layout, layoutFromDebug, ROWS } from './layouts';
import { BadRead, ProcessMemory } from './mem';
import {
  ASYNCIO_OFFSETS_SIZE, AsyncioOffsets, DebugOffsets, decodeAsyncioOffsets, decodeDebugOffsets,
  MAX_DEBUG_OFFSETS_SIZE, parseVersion, supportedMinors,
} from './offsets';

export interface Target {
  pid: number;
  mem: ProcessMemory;
  version: string;
  minor: number;
  freeThreaded: boolean;
  executable: string;
  runtimeAddr: number;
  /** 3.14+: the interpreter's own debug offsets; 3.11–3.13: the layout row, in the same shape. */
  debug: DebugOffsets;
  /** Where every object this reader knows lives in this version (layouts.ts). */
  layout: Layout;
  /**
   * 3.14+: the _asyncio module's task-list offsets; null when the module is not loaded (the
   * process has no C tasks at all) and always on 3.11–3.13, which keep no task lists.
   */
  asyncio: AsyncioOffsets | null;
}

interface Located {
  file: string;
  addr: number;
  section: Section;
}

const COOKIE = 'xdebugpy';

// The target may live in another mount namespace (a container): its files are reachable
// through /proc/PID/root, with the plain path as the fallback for when that is not allowed.
function hostPath(pid: number, file: string): string {
  const viaRoot = `/proc/${pid}/root${file}`;
  try {
    fs.accessSync(viaRoot, fs.constants.R_OK);
    return viaRoot;
  } catch {
    return file;
  }
}

const DELETED = ' (deleted)';

/**
 * Where to read a mapped file's ELF headers. A file replaced or removed since it was mapped (a
 * Python upgraded in place under a running service) shows as "(deleted)": its mappings still
 * lead to the original through /proc/PID/map_files, where the path would give the new file.
 */
function elfPath(pid: number, file: string, maps: Mapping[]): string {
  if (!file.endsWith(DELETED) || maps.length === 0) return hostPath(pid, file);
  const m = maps.find((x) => x.offset === 0) ?? maps[0];
  return `/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
}

function findSection(pid: number, file: string, maps: Mapping[], names: string[]): Located | null {
  let elf;
  try {
    elf = readElf(elfPath(pid, file, maps));
  } catch {
    return null;
  }
  const section = names.map((n) => elf.sections.get(n)).find((s) => s !== undefined);
  if (!section || section.addr === 0) return null;
  const base = maps.filter((m) => m.offset === 0).reduce((lo, m) => Math.min(lo, m.start), Infinity);
  if (!Number.isFinite(base)) return null;
  return { file, addr: base + section.addr - elf.firstLoadVaddr, section };
}

function looksLikePython(file: string): RegExpExecArray | null {
  const path = file.endsWith(DELETED) ? file.slice(0, -DELETED.length) : file;
  return /(?:^|\/)(?:lib)?python(\d)\.(\d+)[a-z]*(?:\.so[.\d]*|$)/.exec(path);
}

export function openTarget(pid: number): Target {
  if (!Number.isInteger(pid) || pid <= 0) throw new ProcError('no-such-process', `not a process id: ${pid}`);
  try {
    fs.statSync(`/proc/${pid}`);
  } catch (err) {
    if (errnoCode(err) === 'EACCES') throw permissionDenied(pid, '/proc entry');
    throw noSuchProcess(pid);
  }
  const maps = readMaps(pid);
  if (maps.length === 0 && isZombie(pid)) throw new ProcError('exited', `process ${pid} has exited (its parent has not reaped it yet)`);
  const files = mappedFiles(maps);
  const ordered = [...files.keys()].sort((a, b) => Number(!looksLikePython(a)) - Number(!looksLikePython(b)));

  let runtime: Located | null = null;
  for (const f of ordered) {
    runtime = findSection(pid, f, files.get(f) ?? [], ['.PyRuntime', 'PyRuntime']);
    if (runtime) break;
  }
  if (!runtime) {
    const named = ordered.map(looksLikePython).find((m) => m !== null);
    if (named && named[1] === '3' && Number(named[2]) >= 11) {
      throw unknownBuild(pid, `${named[1]}.${named[2]}`, 'no .PyRuntime section in its interpreter');
    }
    if (named) throw unsupported(pid, `${named[1]}.${named[2]}`);
    throw new ProcError('not-python', `process ${pid} is not a Python process (no CPython runtime is mapped into it)`);
  }

  const mem = new ProcessMemory(pid);
  try {
    let raw: Buffer;
    try {
      raw = mem.read(runtime.addr, Math.min(MAX_DEBUG_OFFSETS_SIZE, runtime.section.size));
    } catch (err) {
      if (err instanceof BadRead) throw new ProcError('read-failed', `cannot read the Python runtime of process ${pid}: ${err.message}`);
      throw err;
    }
    if (raw.toString('latin1', 0, 8) !== COOKIE) return openUndescribed(pid, mem, runtime, files.get(runtime.file) ?? []);
    const v = parseVersion(Number(raw.readBigUInt64LE(8)));
    const freeThreaded = raw.readBigUInt64LE(16) !== 0n;
    if (v.major !== 3 || v.minor < 13) throw unsupported(pid, v.text);
    if (v.minor > Math.max(...supportedMinors())) {
      throw new ProcError('unsupported-python',
        `process ${pid} runs Python ${v.text}, newer than this tasklens knows how to read ` +
        `(it reads 3.11 to 3.${Math.max(...supportedMinors())}). Run the program under \`tasklens run\` instead.`);
    }
    if (freeThreaded) throw freeThreadedBuild(pid, v.text, runtime.file);
    const base = { pid, mem, version: v.text, minor: v.minor, freeThreaded, executable: runtime.file, runtimeAddr: runtime.addr };
    if (v.minor === 13) {
      // 3.13 describes its threads and frames but not its coroutines or tasks: its row must
      // agree with what it does describe, or the rest of the row cannot be trusted either.
      const row = ROWS.get(13)!;
      const mismatch = checkAgainstDebug(row, decodeDebugOffsets(raw, 13));
      if (mismatch.length > 0) throw unknownBuild(pid, v.text, mismatch.join(', '));
      return { ...base, debug: row, layout: row, asyncio: null };
    }
    const debug = decodeDebugOffsets(raw, v.minor);
    return { ...base, debug, layout: layoutFromDebug(debug, v.minor), asyncio: findAsyncio(pid, mem, files, runtime.file) };
  } catch (err) {
    mem.close();
    throw err;
  }
}

/** 3.11 and 3.12 carry no description of themselves: `Py_Version` names the version. */
function openUndescribed(pid: number, mem: ProcessMemory, runtime: Located, maps: Mapping[]): Target {
  const file = elfPath(pid, runtime.file, maps);
  let hex: number | undefined;
  try {
    const sym = readSymbols(file, ['Py_Version']).get('Py_Version');
    if (sym !== undefined) hex = mem.u32(runtime.addr - runtime.section.addr + sym);
  } catch (err) {
    if (!(err instanceof BadRead)) throw err;
  }
  const named = looksLikePython(runtime.file);
  if (hex === undefined) throw unsupported(pid, named ? `${named[1]}.${named[2]}` : 'older than 3.11');
  const v = parseVersion(hex);
  if (v.major !== 3 || v.minor < 11) throw unsupported(pid, v.text);
  const row = ROWS.get(v.minor);
  if (!row) throw unknownBuild(pid, v.text, 'no layout for this version');
  return {
    pid, mem, version: v.text, minor: v.minor, freeThreaded: false, executable: runtime.file,
    runtimeAddr: runtime.addr, debug: row, layout: row, asyncio: null,
  };
}

function unsupported(pid: number, version: string): ProcError {
  return new ProcError('unsupported-python',
    `process ${pid} runs Python ${version}: tasklens reads CPython 3.11 and newer from outside.`);
}

function unknownBuild(pid: number, version: string, why: string): ProcError {
  return new ProcError('bad-layout', `unsupported CPython build ${version} in process ${pid} (${why})`);
}

function freeThreadedBuild(pid: number, version: string, file: string): ProcError {
  return new ProcError('free-threaded',
    `process ${pid} runs a free-threaded build of Python ${version} (${path.basename(file)}): ` +
    'its object layout differs and tasklens cannot read it from outside yet. ' +
    'Run the program under `tasklens run` to inspect its tasks.');
}

function findAsyncio(pid: number, mem: ProcessMemory, files: Map<string, Mapping[]>, runtimeFile: string): AsyncioOffsets | null {
  const candidates = [runtimeFile, ...[...files.keys()].filter((f) => f !== runtimeFile && /_asyncio/.test(path.basename(f)))];
  for (const f of candidates) {
    const loc = findSection(pid, f, files.get(f) ?? [], ['.AsyncioDebug', 'AsyncioDebug']);
    if (!loc) continue;
    return decodeAsyncioOffsets(mem.read(loc.addr, ASYNCIO_OFFSETS_SIZE));
  }
  return null;
}
