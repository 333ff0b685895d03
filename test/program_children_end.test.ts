// A launched program's children end with it when the session ends it: `restart`, `disconnect`
// (a launch's default is to terminate), and a client that goes away without a word. The
// children here are a shell with a sleep of its own and a Python child, left running by the
// program; none is in a debug session of its own, so only the program's process group ties
// them to it (src/session/lifecycle.ts `endGroup`, agent/tasklens_agent/lifeline.py `end_group`).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Harness, isAlive, sleep, survivorsOf } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';

const program = fixture('children_left_running.py');

/** Every process below `root`, read from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [pid, ppid] of parent) {
      if (ppid !== p) continue;
      out.push(pid);
      queue.push(pid);
    }
  }
  return out;
}

/** The program launched, its children started: its pid and theirs (the shell's sleep too). */
async function launched(h: Harness, py: Python): Promise<{ pid: number; children: number[] }> {
  const since = h.mark();
  await h.launch(py, { program, console: 'internalConsole' });
  const pid = (await h.waitFor<DebugProtocol.ProcessEvent>('process', since)).body.systemProcessId!;
  await h.waitForOutput('stdout', /children \d+ \d+\n/);
  let children: number[] = [];
  for (let i = 0; i < 50 && children.length < 3; i++) {
    await sleep(100);
    children = descendants(pid);
  }
  assert.equal(children.length, 3, `the shell, its sleep and the Python child: ${children.join(' ')}`);
  return { pid, children };
}

eachPython('a launched program\'s children end with it', (py) => {
  for (const [way, end] of [
    ['restart', (h: Harness) => h.dc.send('restart', {})],
    ['disconnect', (h: Harness) => h.dc.disconnectRequest({})],
    ['the client going away (the adapter\'s stdin closed)', (h: Harness) => Promise.resolve(h.adapter.stdin!.end())],
  ] as const) {
    it(`${way}: the program and every process it started are gone`, async () => {
      const h = await Harness.start();
      let left: number[] = [];
      try {
        const { pid, children } = await launched(h, py);
        left = [pid, ...children];
        const since = h.mark();
        await end(h);
        assert.deepEqual(await survivorsOf([pid, ...children], 5000), [], `left running after ${way}`);
        if (way === 'restart') {
          const again = (await h.waitFor<DebugProtocol.ProcessEvent>('process', since)).body.systemProcessId!;
          assert.notEqual(again, pid, 'a new program runs');
          left.push(again, ...descendants(again));
        }
      } finally {
        for (const p of left) if (isAlive(p)) process.kill(p, 'SIGKILL');
        await h.close().catch(() => undefined);
      }
    });
  }
});
