import * as fs from 'node:fs';
import { errnoCode, noSuchProcess, permissionDenied } from './errors';

export interface Mapping {
  start: number;
  end: number;
  perms: string;
  offset: number;
  path: string;
}

// Addresses on x86-64 Linux user space stay below 2^47, so plain numbers hold them exactly.
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: parseInt(m[1], 16),
      end: parseInt(m[2], 16),
      perms: m[3],
      offset: parseInt(m[4], 16),
      path: m[5].trim(),
    });
  }
  return out;
}

export function readMaps(pid: number): Mapping[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') throw noSuchProcess(pid);
    if (code === 'EACCES' || code === 'EPERM') throw permissionDenied(pid, 'the memory map');
    throw err;
  }
  return parseMaps(text);
}

/** The distinct files mapped into the process, each with the lowest address it is mapped at. */
export function mappedFiles(maps: Mapping[]): Map<string, Mapping[]> {
  const files = new Map<string, Mapping[]>();
  for (const m of maps) {
    if (!m.path.startsWith('/')) continue;
    const list = files.get(m.path) ?? [];
    list.push(m);
    files.set(m.path, list);
  }
  return files;
}

/** Whether `pid` has exited and waits to be reaped (a zombie; also true once it is gone): its
 *  maps are empty, which says nothing about what ran in it. */
export function isZombie(pid: number): boolean {
  try {
    return /\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return true;
  }
}
