// Finding and checking the interpreter before anything is spawned, so that a wrong `python`
// gives a clear error response instead of a hang or an agent that dies on a syntax error.
import { execFile } from 'node:child_process';
import { ErrorCode, UserError } from '../dap/errors';

export const MIN_VERSION: readonly [number, number] = [3, 11];
const PROBE_TIMEOUT_MS = 10_000;
const PROBE = 'import sys; print(".".join(map(str, sys.version_info[:3])), sys.implementation.name)';

export interface Interpreter {
  path: string;
  version: [number, number, number];
}

/** `python`'s version, whatever it is; a UserError when it does not run or is not a Python. */
export function probeVersion(python: string, env: NodeJS.ProcessEnv = process.env): Promise<Interpreter> {
  if (python.trim() === '') {
    return Promise.reject(new UserError(ErrorCode.InterpreterNotFound, 'The Python interpreter is given as an empty string: name one on PATH ("python3") or give its path, or leave it out for the default.'));
  }
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', PROBE], { timeout: PROBE_TIMEOUT_MS, env }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES') {
          reject(new UserError(ErrorCode.InterpreterNotFound, `Python interpreter not found: "${python}" (${code === 'ENOENT' ? 'no such file on PATH' : 'not executable'}).`));
        } else if ((err as { killed?: boolean }).killed) {
          reject(new UserError(ErrorCode.InterpreterNotFound, `Python interpreter "${python}" did not answer a version probe within ${PROBE_TIMEOUT_MS / 1000} s.`));
        } else {
          const detail = probeDetail(String(stderr)).slice(0, 160).replace(/\.+$/, '');
          reject(new UserError(ErrorCode.InterpreterNotFound, `"${python}" failed the Python version probe (\`${python} -c …\`)${detail ? `: ${detail}` : ''}.`));
        }
        return;
      }
      const match = /(\d+)\D+(\d+)\D+(\d+)/.exec(String(stdout));
      if (!match) {
        reject(new UserError(ErrorCode.InterpreterNotFound, `"${python}" does not look like a Python interpreter (it printed ${JSON.stringify(String(stdout).slice(0, 80))}).`));
        return;
      }
      const implementation = /\b([a-z]\w*)\s*$/.exec(String(stdout))?.[1] ?? 'cpython';
      if (implementation !== 'cpython') {
        reject(new UserError(ErrorCode.InterpreterNotFound, `"${python}" is ${implementation}, not CPython: tasklens debugs CPython only.`));
        return;
      }
      resolve({ path: python, version: [Number(match[1]), Number(match[2]), Number(match[3])] });
    });
  });
}

export function newEnough(i: Interpreter): boolean {
  const [major, minor] = i.version;
  return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

/** `python`, checked to run and to be recent enough. */
export async function probeInterpreter(python: string, env: NodeJS.ProcessEnv = process.env): Promise<Interpreter> {
  const interpreter = await probeVersion(python, env);
  if (!newEnough(interpreter)) {
    throw new UserError(ErrorCode.InterpreterTooOld, `Python ${interpreter.version.join('.')} at "${python}" is too old: tasklens needs Python ${MIN_VERSION.join('.')} or newer.`);
  }
  return interpreter;
}

/**
 * The line of a failed probe's stderr that says why: a Python traceback's last line (the
 * exception), else the first (a launcher's own complaint, e.g. pyenv's "python2: command not
 * found", whose last lines are advice).
 */
function probeDetail(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return '';
  return lines.some((l) => l.startsWith('Traceback (most recent call last)')) ? lines[lines.length - 1] : lines[0];
}
