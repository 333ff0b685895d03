// The packaged extension in a real VS Code (code-server) driven through Chromium as a person
// would: a breakpoint set by clicking the gutter, F5, the Call Stack with tasks as threads and
// the "awaited by" separator, the exception filters, the Async tasks view, the Debug Console, F10
// over an await, Shift+F5, attach by PID through the process picker to a program started with
// plain python, detach, and no process left behind. One VS Code (starting it is most of the
// time) runs the same steps on 3.11 (attach through gdb) and 3.14 (attach through
// sys.remote_exec), each with a launch configuration naming its interpreter.
// Screenshots of the key moments, and of any failure, go to a folder printed at the start.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXCEPTION_FILTERS } from '../../src/session/breakpoints';
import { ROOT } from '../support/paths';
import { pythons, type Python } from '../support/pythons';
import { adapters, ATTACH_BY_PID, debuggees, startVsCode, stopVsCode, unavailable, waitFor, type VsCode } from './codeServer';
import { gdbUnusableHere } from '../support/gdb';
import { startTarget } from './target';
import { Workbench } from './workbench';

const WORKSPACE = path.join(ROOT, 'test', 'vscode', 'workspace');
const STEP_TIMEOUT_MS = 120_000;
// The oldest Python tasklens debugs, and the newest of the matrix's attach ways (PEP 768).
const VERSIONS = ['3.11', '3.14'];
// TASKLENS_README_SHOT=1 writes the 3.14 session's overview over the README's picture.
const README_SHOT = path.join(ROOT, 'docs', 'vscode.png');

function lineOf(file: string, marker: string): number {
  return fs.readFileSync(path.join(WORKSPACE, file), 'utf8').split('\n').findIndex((l) => l.includes(`# ${marker}`)) + 1;
}

/** The matrix's interpreter of each version, or why there is none (a broken one still runs, and fails). */
const rounds = VERSIONS.map((version) => {
  const python = pythons().find((p) => p.version.startsWith(`${version}.`) || (p.problem && p.path.includes(version)));
  return { version, python, skip: python ? undefined : `no Python ${version} in the interpreter matrix (TASKLENS_PYTHONS or scripts/pythons.sh)` };
});
const runnable = rounds.filter((r): r is { version: string; python: Python; skip: undefined } => r.python !== undefined);

/** Attach by PID before 3.14 runs gdb in the target. */
function attachSkip(py: Python): string | undefined {
  if (Number(py.version.split('.')[1]) >= 14) return undefined;
  const gdb = process.env.TASKLENS_GDB ?? 'gdb';
  if (gdb === '') return 'attach by PID on Python < 3.14 needs gdb, and TASKLENS_GDB is empty';
  try {
    execFileSync(gdb, ['--version'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return `attach by PID on Python < 3.14 needs gdb, and ${gdb} does not run (apt-get install gdb)`;
  }
  const unusable = gdbUnusableHere();
  return unusable === null ? undefined : `attach by PID on Python < 3.14 needs gdb, which cannot give a process back its registers on this machine's CPU (${unusable})`;
}

const SUITE = 'VS Code: debug sessions in a real VS Code through Chromium';
const skip = unavailable() ?? (runnable.length === 0 ? rounds.map((r) => r.skip).join('; ') : undefined);
// A skipped test (not a skipped suite) so that the runner's closing count shows it.
if (skip) test(SUITE, { skip }, () => undefined);
else describe(SUITE, () => {
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-vscode-shots-'));
  let vs: VsCode;
  let wb: Workbench;
  const BREAKPOINT = lineOf('shop.py', 'BREAKPOINT');
  const AWAIT_LINE = lineOf('shop.py', 'STEP_OVER_AWAIT');
  const POLL_LINE = lineOf('service.py', 'BREAKPOINT');
  const CHILD_LINE = lineOf('child.py', 'CHILD_BREAKPOINT');
  const configName = (py: Python) => `shop ${py.version}`;
  const familyName = (py: Python) => `family ${py.version}`;

  /** A test that leaves a screenshot behind when it fails. */
  function stepOf(round: string, name: string, body: () => Promise<void>, skipped?: string): void {
    test(name, { timeout: STEP_TIMEOUT_MS, skip: skipped }, async () => {
      try {
        await body();
      } catch (err) {
        if (!wb) throw err;
        await wb.screenshot(`failed-${round}-${name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
        const notices = await wb.notices().catch(() => []);
        if (notices.length > 0 && err instanceof Error) err.message += `\nVS Code shows: ${notices.join(' | ')}`;
        throw err;
      }
    });
  }

  before(async () => {
    console.log(`# screenshots: ${shots}`);
    execFileSync(process.execPath, [path.join(ROOT, 'editors', 'vscode', 'pack.js')], { stdio: 'pipe', timeout: 120_000 });
    const vsix = fs.readdirSync(path.join(ROOT, 'dist')).find((f) => /^tasklens-\d+\.\d+\.\d+\.vsix$/.test(f));
    assert.ok(vsix, 'npm run package:vscode made no dist/tasklens-X.Y.Z.vsix');
    const launches = runnable.flatMap((r) => [
      { name: configName(r.python), python: r.python.path },
      { name: familyName(r.python), python: r.python.path, program: 'family.py' },
    ]);
    vs = await startVsCode(path.join(ROOT, 'dist', vsix), WORKSPACE, 'shop.py', launches);
    wb = await Workbench.open(vs.url, path.join(vs.root, 'chromium-profile'), shots);
    await wb.openFile('shop.py');
    await wb.widenSideBar(220);
    await wb.showRunAndDebug();
  }, { timeout: 240_000 });

  after(async () => {
    await wb?.close().catch(() => undefined);
    if (!vs) return;
    const survivors = await stopVsCode(vs);
    fs.rmSync(vs.root, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'every process of code-server and of the session ends with its process group');
  });

  for (const round of rounds) {
    if (!round.python) {
      test(`Python ${round.version}`, { skip: round.skip }, () => undefined);
      continue;
    }
    const py = round.python;
    describe(`Python ${round.version} (${py.path})`, () => {
      const step = (name: string, body: () => Promise<void>, skipped?: string) => stepOf(round.version, name, body, skipped);
      const shot = (name: string) => wb.screenshot(`${round.version}-${name}`);
      const version = `\\(3, ${py.version.split('.')[1]}\\)`;
      if (py.problem) {
        test('interpreter is available', () => assert.fail(`cannot run ${py.path}: ${py.problem}`));
        return;
      }

      step('F5 stops at a breakpoint set by clicking the gutter, and the editor shows the line', async () => {
        await wb.showFile('shop.py');
        await wb.toggleBreakpoint(BREAKPOINT, true);
        await wb.selectConfiguration(configName(py));
        await wb.startDebugging();
        await wb.waitStoppedAt(BREAKPOINT);
        await shot('stopped');
      });

      step('the Call Stack lists tasks as threads and the stopped task continues under "awaited by"', async () => {
        await wb.foldViews('Variables', 'Watch', 'Breakpoints');
        const stack = await wb.view('Call Stack');
        const stopped = await wb.waitForRow(stack, /Task: worker \(worker-0\).*Paused on breakpoint/i);
        assert.ok(stopped.level >= 1);
        for (const thread of [/^MainThread/, /Task: main \(Task-1\)/, /Task: supervise \(supervisor\)/, /Task: worker \(worker-1\)/, /Task: worker \(worker-2\)/]) {
          await wb.waitForRow(stack, thread);
        }
        // The stopped thread is expanded: its coroutine, then the awaiting task's frames.
        await wb.waitForRow(stack, /^worker shop\.py/);
        await wb.waitForRow(stack, /awaited by Task: supervise \(supervisor\)/);
        await wb.waitForRow(stack, /^supervise shop\.py/);
        await wb.waitForRow(stack, /awaited by Task: main \(Task-1\)/);
        await wb.waitForRow(stack, /^main shop\.py/);
        await shot('call-stack');
      });

      step('the Breakpoints view lists the exception filters, the asyncio ones included', async () => {
        const breakpoints = await wb.view('Breakpoints');
        for (const filter of EXCEPTION_FILTERS) await wb.waitForRow(breakpoints, new RegExp(`^${filter.label}$`));
      });

      step('the Async tasks view shows the await tree; selecting a task shows its stack', async () => {
        await wb.foldViews('Call Stack', 'Breakpoints');
        const tasks = await wb.view('Async tasks');
        const main = await wb.waitForRow(tasks, /^Task-1\s*main · waits on task Task: supervise/);
        const supervisor = await wb.waitForRow(tasks, /^supervisor\s*supervise/);
        const stoppedTask = await wb.waitForRow(tasks, /^worker-0\s*worker · stopped here/);
        const other = await wb.waitForRow(tasks, /^worker-2\s*worker/);
        assert.deepEqual([supervisor.level, stoppedTask.level, other.level], [main.level + 1, main.level + 2, main.level + 2]);
        // Folded, a task's stack names where it waits; selected, the task shows every frame.
        await wb.waitForRow(tasks, /^stack\s*main shop\.py:\d+$/);
        await tasks.locator('.monaco-list-row', { hasText: /^worker-2/ }).click();
        const lookup = await wb.waitForRow(tasks, /^lookup\s*shop\.py:7$/);
        const worker = await wb.waitForRow(tasks, /^worker\s*shop\.py:13$/);
        assert.deepEqual([lookup.level, worker.level], [other.level + 2, other.level + 2]);
        await shot('async-tasks');
        // The picture for the README: tasks as threads, a task's stack across awaits, the await tree.
        await wb.view('Call Stack');
        const overview = await shot('overview');
        if (process.env.TASKLENS_README_SHOT && round.version === '3.14') fs.copyFileSync(overview, README_SHOT);
      });

      // The interpreter's version in the answer: the session runs the configuration's Python.
      step('the Debug Console evaluates in the stopped frame', async () => {
        await wb.evaluate('(list(orders), __import__("sys").version_info[:2])', new RegExp(`\\(\\[0, 3, 6\\], ${version}\\)`));
        await shot('debug-console');
      });

      step('F10 over an await stays in the same task', async () => {
        await wb.showFile('shop.py');
        await wb.toggleBreakpoint(BREAKPOINT, false);
        for (const line of [AWAIT_LINE - 1, AWAIT_LINE, BREAKPOINT]) {
          await wb.press('F10');
          await wb.waitForCurrentLine(line);
        }
        const stack = await wb.view('Call Stack');
        await wb.waitForRow(stack, /Task: worker \(worker-0\).*Paused on step/i);
        await wb.evaluate('(order, __import__("sys").version_info[:2])', new RegExp(`\\(3, ${version}\\)`));
        await shot('stepped');
      });

      step('Shift+F5 ends the session and the program', async () => {
        assert.equal(debuggees(vs).length, 1, 'the program runs until the session ends');
        await wb.press('Shift+F5');
        await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
        await waitFor('the program to end', () => debuggees(vs).length === 0);
      });

      step('a Python child is debugged in a session of its own, served by the same adapter (debugServer)', async () => {
        await wb.showFile('child.py');
        await wb.toggleBreakpoint(CHILD_LINE, true);
        await wb.selectConfiguration(familyName(py));
        await wb.startDebugging();
        await wb.waitStoppedAt(CHILD_LINE, 60_000);
        // Two sessions in the Call Stack: the parent, and the child named after its command line.
        const stack = await wb.view('Call Stack');
        await wb.waitForRow(stack, /child\.py 7 \(pid \d+\)/);
        await wb.evaluate('(n, __import__("sys").argv[1:], __import__("sys").version_info[:2])', new RegExp(`\\(7, \\['7'\\], ${version}\\)`));
        await shot('child-session');
        assert.equal(adapters(vs).length, 1, 'VS Code connected to the parent\'s adapter for the child, instead of starting another');
        await wb.toggleBreakpoint(CHILD_LINE, false);
        await wb.press('F5');
        // The child returns, the parent prints and ends: both sessions close.
        await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
        await waitFor('the program and its child to end', () => debuggees(vs).length === 0);
      });

      step('attach by PID: picked in the process picker, it stops in a task; detached, the program runs on', async () => {
        const marker = `tasklens-attach-${py.version}`;
        const target = await startTarget(py.path, path.join(vs.workspace, 'service.py'), marker, vs.workspace);
        try {
          await wb.showFile('service.py');
          await wb.toggleBreakpoint(POLL_LINE, true);
          await wb.selectConfiguration(ATTACH_BY_PID);
          assert.match(await wb.pickProcess(marker), new RegExp(`PID ${target.pid}\\b`));
          await shot('process-picker');
          await wb.press('Enter');
          // Loading the agent waits for the target's loop (or gdb, on 3.11): longer than a step.
          await wb.waitStoppedAt(POLL_LINE, 60_000);
          const stack = await wb.view('Call Stack');
          await wb.waitForRow(stack, /Task: poll \(poller-\d\).*Paused on breakpoint/i);
          for (const n of [0, 1, 2]) await wb.waitForRow(stack, new RegExp(`Task: poll \\(poller-${n}\\)`));
          // The stopped task's own frame, then the task awaiting it.
          await wb.waitForRow(stack, /^poll service\.py/);
          await wb.waitForRow(stack, /awaited by Task: main \(Task-1\)/);
          await wb.evaluate('(name, __import__("sys").version_info[:2])', new RegExp(`\\('poller-\\d', ${version}\\)`));
          await shot('attached');
          // Detached with the breakpoint still set: the program must not stop at it again.
          const printed = target.lines();
          await wb.press('Shift+F5');
          await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
          await waitFor('the program to print on after the detach', () => target.lines() >= printed + 6);
          assert.ok(target.alive(), 'the program runs on after the detach');
        } finally {
          await target.kill();
        }
      }, attachSkip(py));
    });
  }
});
