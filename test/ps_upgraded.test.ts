// An interpreter replaced or removed on disk while it runs (a Python upgraded in place under a
// live service) is still read: its mappings show "(deleted)", and the path no longer leads to
// the file the process runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pythons } from './support/pythons';
import { fixture } from './support/paths';
import { startReady, tasklens } from './ps_fixture';
import type { PsReport } from '../src/inspect/report';

test('a Python whose binary was deleted after it started is still read', async () => {
  const py = pythons().find((p) => p.version.startsWith('3.14'));
  assert.ok(py, 'CPython 3.14 is in the matrix');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-upgraded-'));
  const copy = path.join(dir, path.basename(py.path));
  fs.copyFileSync(py.path, copy);
  fs.chmodSync(copy, 0o755);
  // The copy finds its standard library where the original lives; `env` execs it in place.
  const home = path.dirname(path.dirname(py.path));
  const p = await startReady('env', [`PYTHONHOME=${home}`, copy, fixture('ps_taskgroup.py')]);
  try {
    fs.rmSync(dir, { recursive: true });
    assert.match(fs.readFileSync(`/proc/${p.pid}/maps`, 'utf8'), /\(deleted\)/);
    const r = await tasklens(['ps', '--json', String(p.pid)]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as PsReport;
    assert.match(doc.pythonVersion, /^3\.14\./);
    assert.ok(doc.tasks.length >= 10, `tasks read: ${doc.tasks.length}`);
    assert.ok(doc.tasks.every((t) => t.state === 'suspended' && t.stack.length > 0));
  } finally {
    await p.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
