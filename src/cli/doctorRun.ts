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
  // The slow parts (starting interpreters, a test process, gdb) run side by side.
  const [pythons, ptraceRead, gdb] = await Promise.all([
    findPython().catch(() => undefined).then((picked) => pythonChecks(picked?.interpreter.path)),
    ptraceReadCheck(),
    gdbCheck(),
  ]);
  const checks: Check[] = [
    nodeCheck(),
    ...pythons,
    ptraceScopeCheck(readPtraceScope(), hasPtraceCapability()),
    ptraceRead,
    gdb,
    runtimeDirCheck(),
  ];
  const ok = verdict(checks);
  if (json) process.stdout.write(`${JSON.stringify({ schema: DOCTOR_SCHEMA, ok, checks }, null, 2)}\n`);
  else process.stdout.write(render(checks, ok));
  return ok;
}
