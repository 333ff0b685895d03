// A file the user names for tasklens (or the program) to write later, checked before anything
// runs: `run --trace`/`--diagnose-json` write theirs at the program's exit, `trace --for` at the
// end of its window, and a typo in the folder must not cost the whole run or window.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `file`'s absolute path (the program may change directory), or why it cannot be written there:
 * its folder is missing, not a folder or takes no files of this user, or it is a folder itself.
 */
export function checkOutFile(file: string): { path: string; problem?: string } {
  const full = path.resolve(file);
  const dir = path.dirname(full);
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    return { path: full, problem: `${isDir ? 'cannot write into' : 'no such folder'} ${dir}` };
  }
  if (!isDir) return { path: full, problem: `${dir} is not a folder` };
  if (fs.existsSync(full) && fs.statSync(full).isDirectory()) return { path: full, problem: 'is a folder' };
  return { path: full };
}
