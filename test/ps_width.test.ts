// `ps` and `pstree` at 80 columns on a program with long and hostile task names (a newline, an
// escape sequence, a right-to-left override, CJK, emoji), asked of the agent and, on 3.14+, read
// from memory: every line fits, nothing raw reaches the terminal, the user's own frame survives,
// and both sources list the rows in the same order. Plus the overdue timer.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { withApp } from './ps_agent_fixture';
import { eachPython, it } from './support/matrix';
import { MAIN_JS } from './support/paths';
import { displayWidth } from '../src/inspect/text';

interface Ran { code: number; stdout: string; stderr: string }

function lens(args: string[], xdg: string, columns = '80'): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { timeout: 60_000, env: { ...process.env, XDG_RUNTIME_DIR: xdg, COLUMNS: columns } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const ESCAPED = ['line one\\n', '\\e[31m', 'evil\\u202e', '任务-処理', '🐍 snake'];

function checkFits(what: string, text: string, width: number): void {
  assert.ok(!RAW_CONTROL.test(text), `${what}: a raw control character in ${JSON.stringify(text)}`);
  for (const line of text.split('\n').filter((l) => l !== '')) {
    // A tree deeper than the width allows keeps 12 columns for each label.
    const allowed = what === 'pstree' ? Math.max(width, displayWidth(line.slice(0, line.indexOf('── ') + 3)) + 12) : width;
    assert.ok(displayWidth(line) <= allowed, `${what}: a line of ${displayWidth(line)} columns:\n${text}`);
  }
}

function names(psJson: string): string[] {
  return (JSON.parse(psJson) as { tasks: Array<{ name: string }> }).tasks.map((t) => t.name);
}

eachPython('ps/pstree at 80 columns', (py) => {
  const readsMemory = Number(py.version.split('.')[1]) >= 14;

  for (const source of ['agent', ...(readsMemory ? ['memory'] : [])]) {
    it(`${source}: every line fits, names escaped, the user's frame kept`, async () => {
      await withApp(py.path, 'ps_hostile.py', false, async (app, xdg) => {
        const ps = await lens(['ps', String(app.pid), '--source', source], xdg);
        assert.equal(ps.code, 0, ps.stderr);
        checkFits('ps', ps.stdout, 80);
        for (const e of ESCAPED) assert.ok(ps.stdout.includes(e), `${e} in\n${ps.stdout}`);
        const rows = ps.stdout.split('\n').slice(2).filter((l) => l.includes('handle_request'));
        assert.equal(rows.length, 6, ps.stdout);
        assert.match(ps.stderr, /left out to fit 80 columns: .*--wide shows everything/);
        const tree = await lens(['pstree', String(app.pid), '--source', source], xdg);
        assert.equal(tree.code, 0, tree.stderr);
        checkFits('pstree', tree.stdout, 80);
        assert.match(tree.stdout, /handle_request \S*ps_hostile\.py:\d+\n/);
        // --width is the line's width on both; piped with --wide nothing is cut.
        checkFits('ps', (await lens(['ps', String(app.pid), '--source', source, '--width', '60'], xdg, '')).stdout, 60);
        checkFits('pstree', (await lens(['pstree', String(app.pid), '--source', source, '--width', '60'], xdg, '')).stdout, 60);
        const wide = await lens(['ps', String(app.pid), '--source', source, '--wide'], xdg);
        assert.ok(wide.stdout.includes(`request-${'x'.repeat(150)}-end`));
      });
    });
  }

  if (readsMemory) {
    it('the agent and a memory read list the rows in the same order', async () => {
      await withApp(py.path, 'ps_hostile.py', false, async (app, xdg) => {
        const agent = await lens(['ps', String(app.pid), '--source', 'agent', '--json'], xdg);
        const memory = await lens(['ps', String(app.pid), '--source', 'memory', '--json'], xdg);
        assert.equal(agent.code, 0, agent.stderr);
        assert.equal(memory.code, 0, memory.stderr);
        assert.deepEqual(names(agent.stdout), names(memory.stdout));
        assert.equal(names(memory.stdout)[0], 'Task-1');
      });
    });
  }

  it('an overdue timer shows as "overdue N s"', async () => {
    await withApp(py.path, 'ps_hostile.py', false, async (app, xdg) => {
      // The loop blocks in time.sleep right after "ready"; the 0.2 s timer passes its deadline.
      let waiting = '';
      for (let i = 0; i < 50 && !/overdue/.test(waiting); i++) {
        await new Promise((r) => setTimeout(r, 200));
        const r = await lens(['ps', String(app.pid), '--source', 'agent', '--json'], xdg);
        const task = (JSON.parse(r.stdout) as { tasks: Array<{ name: string; waitingOn?: string }> }).tasks.find((t) => t.name === 'overdue-timer');
        waiting = task?.waitingOn ?? '';
      }
      assert.match(waiting, /^asyncio\.sleep\(0\.2\) until loop time \d+\.\d{3} \(overdue \d+\.\d s\)$/);
    });
  });
});
