// The body of `tasklens doctor`: runs the checks (doctorChecks.ts) and prints them.
import { findPython } from '../agent/findPython';
import {
  type Check, gdbCheck, hasPtraceCapability, nodeCheck, ptraceReadCheck, ptraceScopeCheck, pythonChecks, readPtraceScope,
  runtimeDirCheck,
} from './doctorChecks';

export const DOCTOR_SCHEMA = 1;

/** Whether tasklens can debug here: every required check and at least one usable Python. */
export function verdict(checks: Check[]): boolean {
  return checks.every((c) => !c.required || c.ok) && checks.some((c) => c.id === 'python' && c.ok);
}

export function render(checks: Check[], ok: boolean): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? '✓' : '✗'} ${c.summary}`);
    for (const d of c.details ?? []) lines.push(`    ${d}`);
    if (c.fix && !c.ok) lines.push(`    fix: ${c.fix}`);
  }
  lines.push(ok ? 'tasklens can debug on this machine.' : 'tasklens cannot debug on this machine yet: see the fixes above.');
  return `${lines.join('\n')}\n`;
}

export async function runDoctor(json: boolean): Promise<boolean> {
  const picked = await findPython().catch(() => undefined);
  const checks: Check[] = [
    nodeCheck(),
    ...(await pythonChecks(picked?.interpreter.path)),
    ptraceScopeCheck(readPtraceScope(), hasPtraceCapability()),
    await ptraceReadCheck(),
    await gdbCheck(),
    runtimeDirCheck(),
  ];
  const ok = verdict(checks);
  if (json) process.stdout.write(`${JSON.stringify({ schema: DOCTOR_SCHEMA, ok, checks }, null, 2)}\n`);
  else process.stdout.write(render(checks, ok));
  return ok;
}
