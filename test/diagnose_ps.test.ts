// `tasklens ps --json` of a program run with `--diagnose`: how long each task has waited, stuck
// marks, who holds the lock a task waits for (and since which line), and the deadlock verdict.
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eachPythonAndLoop, lineOf } from './async_support';
import { LAUNCH } from './diagnose_support';
import { it } from './support/matrix';
import { fixture, MAIN_JS } from './support/paths';
import type { Python } from './support/pythons';

interface PsTask {
  id: string;
  name: string;
  waitedSeconds?: number;
  stuck?: boolean;
  lockHolders?: { task?: string; name: string | null; finished: boolean; acquiredAt?: { file: string; line: number } }[];
}
interface PsJson {
  tasks: PsTask[];
  deadlocks?: { message: string; likely: boolean; wholeLoop: boolean; tasks: string[]; cycles: string[][] }[];
}

/** Runs `program` under launch.py --diagnose until stderr matches `ready`, then asks `ps --json`. */
async function psWhile(py: Python, program: string, args: string[], ready: RegExp): Promise<PsJson> {
  const [out] = await askWhile(py, program, args, ready, [['ps', '--json']]);
  return JSON.parse(out) as PsJson;
}

/** The same, asking each of `commands` (e.g. `['ps', '--wide']`) in turn; their stdout. */
async function askWhile(py: Python, program: string, args: string[], ready: RegExp, commands: string[][]): Promise<string[]> {
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-diagps-'));
  fs.chmodSync(xdg, 0o700);
  const env = { ...process.env, XDG_RUNTIME_DIR: xdg };
  const child = spawn(py.path, [LAUNCH, '--diagnose', '--stuck-s', '1', '--', program, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${ready} in 30 s: ${err}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (ready.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}): ${err}`)));
    });
    const outs: string[] = [];
    for (const [command, ...options] of commands) {
      outs.push(await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [MAIN_JS, command, String(child.pid), ...options], { env, timeout: 30_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout));
      }));
    }
    return outs;
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    fs.rmSync(xdg, { recursive: true, force: true });
  }
}

eachPythonAndLoop('diagnose: ps fields', true, (py, loop) => {
  const deadlock = fixture('diag_deadlock.py');
  it('a lock deadlock: the verdict, lock holders with their acquiring lines, waited seconds', async () => {
    const report = await psWhile(py, deadlock, ['locks', ...loop.args], /^tasklens: deadlock/m);
    assert.equal(report.deadlocks?.length, 1, JSON.stringify(report.deadlocks));
    const [verdict] = report.deadlocks!;
    assert.match(verdict.message, /deadlock/);
    assert.equal(verdict.cycles[0].length, 2);
    const byName = new Map(report.tasks.map((t) => [t.name, t]));
    const [first, second] = [byName.get('Task-2'), byName.get('Task-3')];
    assert.ok(first && second, JSON.stringify(report.tasks.map((t) => t.name)));
    assert.deepEqual(first.lockHolders?.map((h) => [h.task, h.finished, h.acquiredAt?.line]), [[second.id, false, lineOf(deadlock, 'SECOND_HOLDS')]]);
    assert.deepEqual(second.lockHolders?.map((h) => [h.task, h.acquiredAt?.line]), [[first.id, lineOf(deadlock, 'FIRST_HOLDS')]]);
    assert.ok(verdict.tasks.includes(first.id) && verdict.tasks.includes(second.id));
    assert.ok((first.waitedSeconds ?? -1) >= 0, JSON.stringify(first));
  });

  it('ps and pstree text: the lock holders with their lines, waited times, the verdict and its cycle', async () => {
    const [table, tree] = await askWhile(py, deadlock, ['locks', ...loop.args], /^tasklens: deadlock/m, [['ps', '--wide'], ['pstree']]);
    const [header, , ...rows] = table.split('\n');
    assert.match(header, /\bwaited\b.*\bwaiting on\b/);
    const row = (name: string): string => rows.find((r) => r.split(/ {2,}/)[2] === name) ?? '';
    assert.match(row('Task-2'), new RegExp(`held by Task-3 since \\S*diag_deadlock\\.py:${lineOf(deadlock, 'SECOND_HOLDS')}`));
    assert.match(row('Task-3'), new RegExp(`held by Task-2 since \\S*diag_deadlock\\.py:${lineOf(deadlock, 'FIRST_HOLDS')}`));
    assert.match(row('Task-2'), /\d+\.\d s/);
    for (const text of [table, tree]) {
      // uvloop hides whether anything is ready: there only the cycle is certain.
      assert.match(text, /^deadlock: (all 3 tasks of the event loop .* nothing can wake them|tasks Task-\d, Task-\d of the event loop .* wait on each other)$/m, text);
      assert.match(text, /^ {2}cycle: Task-(2|3) → Task-(3|2) → Task-\1$/m, text);
    }
    assert.match(tree, /\(T\) Task-2 .*held by Task-3 since .*; waited \d+\.\d s/);
  });

  it('a stuck consumer is marked stuck', async () => {
    const stuck = fixture('diag_stuck.py');
    const report = await psWhile(py, stuck, [...loop.args, '30'], /^tasklens: stuck task/m);
    const consumer = report.tasks.find((t) => t.name === 'consumer');
    assert.equal(consumer?.stuck, true, JSON.stringify(consumer));
    assert.ok((consumer?.waitedSeconds ?? 0) >= 1);
    assert.equal(report.tasks.find((t) => t.name === 'Task-1')?.stuck, undefined);
    // waited past the threshold too, but a timer will wake it: looked at, not stuck
    const sleeper = report.tasks.find((t) => t.name === 'sleeper');
    assert.ok((sleeper?.waitedSeconds ?? 0) >= 1, JSON.stringify(sleeper));
    assert.equal(sleeper?.stuck, undefined, JSON.stringify(sleeper));
    const [table] = await askWhile(py, stuck, [...loop.args, '30'], /^tasklens: stuck task/m, [['ps', '--wide']]);
    assert.match(table.split('\n').find((r) => r.split(/ {2,}/)[2] === 'consumer') ?? '', /\d+\.\d s stuck/, table);
  });
});
