// Reads race the program: on a process creating and finishing some 400 tasks a second, 100
// snapshots in a row through one open memory source all succeed, and every task they list is
// either whole (a name and a stack this program can have) or marked unreadable with a reason —
// never garbage. A process that exits between two snapshots gives its own error.
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture } from './support/paths';
import { startReady } from './ps_fixture';
import { openMemory } from '../src/inspect/memorySource';
import { ProcError } from '../src/procmem/errors';

// `sleep(0)` (every seventh task) yields once through asyncio's `__sleep0` generator.
const FUNCTIONS = new Set(['main', 'short', 'sleep', '__sleep0']);

for (const py of pythons()) {
  describe(`memory snapshots of a changing process [${py.label}]`, () => {
    test('100 snapshots of a churning program: each succeeds or degrades per task', { timeout: 120_000 }, async () => {
      const p = await startReady(py.path, [fixture('ps_churn.py')]);
      const open = openMemory(p.pid);
      try {
        let seen = 0;
        let unreadable = 0;
        for (let i = 0; i < 100; i++) {
          const snap = await open.snapshot();
          seen += snap.tasks.length;
          for (const t of snap.tasks) {
            assert.match(t.id, /^0x[0-9a-f]+$/);
            if (t.error !== undefined) {
              unreadable++;
              assert.match(t.error, /changed while being read|could not be read/);
              continue;
            }
            // 3.14+ may read a task before it has a name (`Task-N` is made when first asked).
            assert.match(t.name, /^(Task-\d+)?$/, `task name ${t.name}`);
            for (const f of t.stack) assert.ok(FUNCTIONS.has(f.function), `frame ${f.function} ${f.file}:${f.line}`);
            for (const f of t.stack) assert.ok(f.line > 0 || f.line === -1, `line ${f.line}`);
          }
        }
        assert.ok(seen > 100, `the snapshots saw the churning tasks (${seen})`);
        assert.ok(unreadable <= seen / 10, `${unreadable} of ${seen} tasks unreadable`);
      } finally {
        open.close();
        await p.stop();
      }
    });

    test('a process that exits between snapshots: "exited while it was being read"', { timeout: 60_000 }, async () => {
      const child = spawn(py.path, ['-c', 'import asyncio, sys; print("ready", flush=True); sys.stdin.read()'], { stdio: ['pipe', 'pipe', 'ignore'] });
      await once(child.stdout, 'data');
      const open = openMemory(child.pid!);
      try {
        await open.snapshot();
        child.kill('SIGKILL');
        await once(child, 'exit');
        await assert.rejects(open.snapshot(), (err: unknown) => {
          assert.ok(err instanceof ProcError);
          assert.equal(err.code, 'exited');
          assert.match(err.message, /exited while it was being read/);
          return true;
        });
      } finally {
        open.close();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
}
