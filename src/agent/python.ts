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
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', PROBE], { timeout: PROBE_TIMEOUT_MS, env }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES') {
          reject(new UserError(ErrorCode.InterpreterNotFound, `Python interpreter not found: "${python}" (${code === 'ENOENT' ? 'no such file on PATH' : 'not executable'}).`));
        } else if ((err as { killed?: boolean }).killed) {
          reject(new UserError(ErrorCode.InterpreterNotFound, `Python interpreter "${python}" did not answer a version probe within ${PROBE_TIMEOUT_MS / 1000} s.`));
        } else {
          const detail = (String(stderr).trim().split('\n').slice(-1)[0] ?? '').slice(0, 160);
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
