import * as path from 'node:path';

/** The Python agent ships next to the compiled code: dist/src/agent → <package root>/agent. */
export function agentDir(): string {
  return path.resolve(__dirname, '..', '..', '..', 'agent');
}

export function agentLauncher(): string {
  return path.join(agentDir(), 'launch.py');
}
