// The check of task names after a walk, shared by the 3.14+ walker and the 3.11-3.13 reader.
//
// A task's name may be made on first use (an int until then), freeing the old object, and the
// new str may sit where a page read earlier in the walk held something else. So once every task
// is read, each name field is read again through a fresh cache; then each name object again,
// through a cache filled after all those fields were read (a few hundred block reads in all,
// instead of reads per task). A task whose field moved, or whose name reads differently now, is
// read again by the caller (field first, then its name through an emptied cache).
import { BadRead, type ProcessMemory } from './mem';

/** What the walk saw of one task's name: the task, the name object its field held, the name shown. */
export interface NameSeen {
  task: number;
  nameObject: number;
  shown: string | undefined;
}

/**
 * The entries of `seen` whose task must be read again. `fieldNow(task)` reads the task's name
 * field (an address), `nameNow(object)` the name of a name object; both may throw BadRead.
 */
export function namesToReadAgain<T extends NameSeen>(
  mem: ProcessMemory, seen: readonly T[],
  fieldNow: (task: number) => number, nameNow: (nameObject: number) => string,
): T[] {
  const again: T[] = [];
  const kept: T[] = [];
  if (seen.length === 0) return again;
  mem.invalidate();
  for (const s of seen) (attempt(() => fieldNow(s.task)) === s.nameObject ? kept : again).push(s);
  mem.invalidate();
  // In address order, the page cache serves the name objects in runs.
  kept.sort((a, b) => a.nameObject - b.nameObject);
  for (const s of kept) if (attempt(() => nameNow(s.nameObject)) !== s.shown) again.push(s);
  return again;
}

/** The value read, or undefined when the read failed. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof BadRead)) throw err;
    return undefined;
  }
}
