// The 3.13 layout row against the interpreter's own debug offsets: the real 3.13 of the matrix
// agrees with it, and a build that moved one of the fields it describes is named as such (the
// CLI then refuses it as an "unsupported CPython build" instead of reading with a wrong row).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { pythons } from './support/pythons';
import { startReady } from './ps_fixture';
import { checkAgainstDebug, ROWS } from '../src/procmem/layouts';
import { openTarget } from '../src/procmem/target';
import { decodeDebugOffsets, MAX_DEBUG_OFFSETS_SIZE } from '../src/procmem/offsets';

const py313 = pythons().find((p) => p.version.startsWith('3.13.'));

test('the 3.13 row agrees with a real 3.13, and a moved field is named', { skip: py313 ? false : 'no CPython 3.13 in the matrix', timeout: 60_000 }, async () => {
  const p = await startReady(py313!.path, ['-c', 'import time; print("ready", flush=True); time.sleep(60)']);
  try {
    const t = openTarget(p.pid);
    try {
      assert.equal(t.minor, 13);
      const debug = decodeDebugOffsets(t.mem.read(t.runtimeAddr, MAX_DEBUG_OFFSETS_SIZE), 13);
      const row = ROWS.get(13)!;
      assert.deepEqual(checkAgainstDebug(row, debug), []);
      const moved = { ...debug, thread_state: { ...debug.thread_state, native_thread_id: debug.thread_state.native_thread_id + 8 } };
      assert.deepEqual(checkAgainstDebug(row, moved), [
        `thread_state.native_thread_id ${row.thread_state.native_thread_id + 8} (expected ${row.thread_state.native_thread_id})`,
      ]);
    } finally {
      t.mem.close();
    }
  } finally {
    await p.stop();
  }
});
