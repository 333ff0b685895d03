// The packaged extension in a real VS Code (code-server) driven through Chromium as a person
// would: a breakpoint set by clicking the gutter, F5, the Call Stack with tasks as threads and
// the "awaited by" separator, the exception filters, the Async tasks view, the Debug Console, F10
// over an await, Shift+F5, and no process left behind. One interpreter (3.14 when the matrix has
// it): this suite tests the extension; the adapter's own suites cover the interpreters.
// Screenshots of the key moments, and of any failure, go to a folder printed at the start.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXCEPTION_FILTERS } from '../../src/session/breakpoints';
import { ROOT } from '../support/paths';
import { pythons } from '../support/pythons';
import { debuggees, startVsCode, stopVsCode, unavailable, waitFor, type VsCode } from './codeServer';
import { Workbench } from './workbench';

const PROGRAM = path.join(ROOT, 'test', 'vscode', 'workspace', 'shop.py');
const STEP_TIMEOUT_MS = 120_000;

function lineOf(marker: string): number {
  return fs.readFileSync(PROGRAM, 'utf8').split('\n').findIndex((l) => l.includes(`# ${marker}`)) + 1;
}

function pickPython(): string | undefined {
  const usable = pythons().filter((p) => p.problem === undefined);
  return (usable.find((p) => p.version.startsWith('3.14.')) ?? usable[0])?.path;
}

const python = pickPython();
const skip = unavailable() ?? (python ? undefined : 'no usable interpreter in the matrix');

const SUITE = 'VS Code: a debug session in a real VS Code through Chromium';
// A skipped test (not a skipped suite) so that the runner's closing count shows it.
if (skip) test(SUITE, { skip }, () => undefined);
else describe(SUITE, () => {
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-vscode-shots-'));
  let vs: VsCode;
  let wb: Workbench;
  const BREAKPOINT = lineOf('BREAKPOINT');
  const AWAIT_LINE = lineOf('STEP_OVER_AWAIT');

  /** A test that leaves a screenshot behind when it fails. */
  function step(name: string, body: () => Promise<void>): void {
    test(name, { timeout: STEP_TIMEOUT_MS }, async () => {
      try {
        await body();
      } catch (err) {
        if (wb) await wb.screenshot(`failed-${name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
        throw err;
      }
    });
  }

  before(async () => {
    console.log(`# screenshots: ${shots}`);
    execFileSync(process.execPath, [path.join(ROOT, 'editors', 'vscode', 'pack.js')], { stdio: 'pipe', timeout: 120_000 });
    const vsix = fs.readdirSync(path.join(ROOT, 'dist')).find((f) => /^tasklens-\d+\.\d+\.\d+\.vsix$/.test(f));
    assert.ok(vsix, 'npm run package:vscode made no dist/tasklens-X.Y.Z.vsix');
    vs = await startVsCode(path.join(ROOT, 'dist', vsix), python!, PROGRAM);
    wb = await Workbench.open(vs.url, path.join(vs.root, 'chromium-profile'), shots);
    await wb.openFile('shop.py');
    await wb.widenSideBar(220);
  }, { timeout: 240_000 });

  after(async () => {
    await wb?.close().catch(() => undefined);
    if (!vs) return;
    const survivors = await stopVsCode(vs);
    fs.rmSync(vs.root, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'every process of code-server and of the session ends with its process group');
  });

  step('F5 stops at a breakpoint set by clicking the gutter, and the editor shows the line', async () => {
    await wb.toggleBreakpoint(BREAKPOINT, true);
    await wb.showRunAndDebug();
    await wb.startDebugging('shop');
    await wb.waitStoppedAt(BREAKPOINT);
    await wb.screenshot('stopped');
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
    await wb.screenshot('call-stack');
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
    await wb.screenshot('async-tasks');
    // The picture for the README: tasks as threads, a task's stack across awaits, the await tree.
    await wb.view('Call Stack');
    await wb.screenshot('overview');
  });

  step('the Debug Console evaluates in the stopped frame', async () => {
    await wb.evaluate('list(orders)', /\[0, 3, 6\]/);
    await wb.screenshot('debug-console');
  });

  step('F10 over an await stays in the same task', async () => {
    await wb.page.locator('.tabs-container .tab', { hasText: 'shop.py' }).click();
    await wb.toggleBreakpoint(BREAKPOINT, false);
    for (const line of [lineOf('STEP_OVER_AWAIT') - 1, AWAIT_LINE, BREAKPOINT]) {
      await wb.press('F10');
      await wb.waitForCurrentLine(line);
    }
    const stack = await wb.view('Call Stack');
    await wb.waitForRow(stack, /Task: worker \(worker-0\).*Paused on step/i);
    await wb.evaluate('order', /^3$/m);
    await wb.screenshot('stepped');
  });

  step('Shift+F5 ends the session and the program', async () => {
    assert.equal(debuggees(vs).length, 1, 'the program runs until the session ends');
    await wb.press('Shift+F5');
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
    await waitFor('the program to end', () => debuggees(vs).length === 0);
  });

  step('attach by PID asks which Python process, listing their command lines', async () => {
    const probe = spawn(python!, ['-c', 'import time; time.sleep(120)', 'tasklens-picker-probe'], { stdio: 'ignore' });
    try {
      await wb.startConfiguration('shop', 'attach by PID');
      const item = wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: 'tasklens-picker-probe' });
      await item.waitFor({ timeout: 30_000 });
      assert.match((await item.innerText()).replace(/\s+/g, ' '), new RegExp(`PID ${probe.pid}\\b`));
      await wb.screenshot('process-picker');
      await wb.press('Escape');
      await item.waitFor({ state: 'hidden' });
    } finally {
      probe.kill('SIGKILL');
    }
  });
});
