// `tasklens dump` on every interpreter of the matrix, against a stuck program: two threads
// deadlocked on locks (both `acquire` lines named, both in a futex), a spinning thread holding
// the GIL, the main thread in its event loop with its task; --locals and --json; the errors.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture, LAUNCHER } from './support/paths';
import { Running, startReady, tasklens } from './ps_fixture';
import type { DumpReport } from '../src/inspect/dumpReport';

const FIXTURE = 'dump_deadlock.py';
const lineOf = (marker: string): number =>
  fs.readFileSync(fixture(FIXTURE), 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;

async function withStuck(py: string, body: (p: Running) => Promise<void>): Promise<void> {
  const p = await startReady(py, [fixture(FIXTURE)]);
  try {
    await body(p);
  } finally {
    await p.stop();
  }
}

for (const py of pythons()) {
  describe(`tasklens dump [${py.label}]`, () => {
    test('a lock deadlock, a GIL holder and an event loop', { timeout: 60_000 }, () =>
      withStuck(py.path, async (p) => {
        const r = await tasklens(['dump', String(p.pid)]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout;
        assert.match(out, new RegExp(`^Process ${p.pid}: Python ${py.version.replace(/\./g, '\\.')}, 4 thread\\(s\\)$`, 'm'));
        const section = (name: string): string => {
          const at = out.indexOf(`"${name}"`);
          assert.ok(at >= 0, `thread ${name} is listed:\n${out}`);
          const end = out.indexOf('\nThread ', at);
          return out.slice(out.lastIndexOf('Thread ', at), end < 0 ? undefined : end);
        };
        const one = section('locker-one');
        const two = section('locker-two');
        assert.match(one, new RegExp(`^  take_first_then_second \\S*${FIXTURE}:${lineOf('DEADLOCK_ONE')}$`, 'm'));
        assert.match(two, new RegExp(`^  take_second_then_first \\S*${FIXTURE}:${lineOf('DEADLOCK_TWO')}$`, 'm'));
        for (const s of [one, two]) assert.match(s, /in futex/);
        assert.match(section('spinner'), /holds the GIL/);
        assert.equal(out.match(/holds the GIL/g)?.length, 1, 'one GIL holder');
        const main = out.slice(out.indexOf(`Thread ${p.pid} `));
        assert.match(main, /in epoll_wait/);
        assert.match(main, /^ {2}<module> \S*dump_deadlock\.py:\d+$/m);
        assert.match(main, /event loop 0x[0-9a-f]+: 2 task\(s\)/);
        assert.match(main, new RegExp(`idle \\S*${FIXTURE}:${lineOf('IDLE_TASK')}`));
      }));

    test('under the agent (tasklens run --diagnose): the same threads and stacks, none of its own', { timeout: 60_000 }, async () => {
      const p = await startReady(py.path, [LAUNCHER, '--diagnose', '--', fixture(FIXTURE)]);
      try {
        const r = await tasklens(['dump', String(p.pid)]);
        assert.equal(r.code, 0, r.stderr);
        // its listener and watchdog threads are left out, as its frames under the program's
        assert.match(r.stdout, new RegExp(`^Process ${p.pid}: Python [\\d.]+, 4 thread\\(s\\)$`, 'm'));
        assert.doesNotMatch(r.stdout, /tasklens_agent|launch\.py/);
        assert.match(r.stdout, /^ {2}<module> \S*dump_deadlock\.py:\d+$/m);
        const ps = await tasklens(['ps', '--source', 'memory', String(p.pid)]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.match(ps.stdout, /idle/);
        assert.doesNotMatch(ps.stdout, /tasklens_agent|launch\.py/);
      } finally {
        await p.stop();
      }
    });

    test('--json and --locals', { timeout: 60_000 }, () =>
      withStuck(py.path, async (p) => {
        const r = await tasklens(['dump', '--json', '--locals', String(p.pid)]);
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(r.stdout) as DumpReport;
        assert.equal(doc.pid, p.pid);
        assert.equal(doc.pythonVersion, py.version);
        assert.equal(doc.threads.length, 4);
        const byIdent = (fn: string) => doc.threads.find((t) => t.stack.some((f) => f.function === fn));
        const one = byIdent('take_first_then_second');
        assert.ok(one);
        assert.equal(one.kernel?.syscall, 'futex');
        assert.deepEqual(one.stack[0].locals, [{ name: 'mine', value: '"first-then-second"' }]);
        const spinner = byIdent('spin');
        assert.ok(spinner?.holdsGil);
        assert.match(spinner.stack[0].locals?.find((l) => l.name === 'count')?.value ?? '', /^\d+$/);
        const main = doc.threads.find((t) => t.threadId === p.pid);
        assert.ok(main?.loop?.startsWith('0x'));
        assert.equal(main?.name, 'MainThread', 'the threading name, read from memory');
        assert.equal(one.name, 'locker-one');
        assert.deepEqual(doc.tasks.map((t) => t.name).sort(), ['Task-1', 'idler']);
        assert.ok(doc.tasks.every((t) => t.threadId === p.pid));
      }));
  });
}

describe('tasklens dump errors', () => {
  test('no such process', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    const r = await tasklens(['dump', String(child.pid)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^tasklens: no such process: \d+\n$/);
  });

  test('not a Python process', async () => {
    const p = await startReady('sh', ['-c', 'echo ready; exec sleep 60']);
    try {
      const r = await tasklens(['dump', String(p.pid)]);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /is not a Python process/);
    } finally {
      await p.stop();
    }
  });
});
