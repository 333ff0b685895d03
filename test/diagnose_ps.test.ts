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
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [MAIN_JS, 'ps', String(child.pid), '--json'], { env, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout));
    });
    return JSON.parse(out) as PsJson;
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

  it('a stuck consumer is marked stuck', async () => {
    const stuck = fixture('diag_stuck.py');
    const report = await psWhile(py, stuck, [...loop.args, '30'], /^tasklens: stuck task/m);
    const consumer = report.tasks.find((t) => t.name === 'consumer');
    assert.equal(consumer?.stuck, true, JSON.stringify(consumer));
    assert.ok((consumer?.waitedSeconds ?? 0) >= 1);
    assert.equal(report.tasks.find((t) => t.name === 'Task-1')?.stuck, undefined);
  });
});
