// The page reader on this very process: it reads 16 KiB blocks, and a block may begin before a
// mapping (the block read fails: the page must be read alone) or run past its end (the read
// comes back short). Either way every byte of the mapping must be read, and nothing beyond it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { Mapping, parseMaps } from '../src/procmem/maps';
import { BadRead, ProcessMemory } from '../src/procmem/mem';

const BLOCK = 16384;

test('mappings that begin or end inside a read block are read exactly', () => {
  const maps = parseMaps(fs.readFileSync('/proc/self/maps', 'utf8'));
  const starts = new Set(maps.map((m) => m.start));
  const ends = new Set(maps.map((m) => m.end));
  // Read-only file mappings: their bytes cannot change while the test compares them.
  const fixed = maps.filter((m) => m.perms.startsWith('r') && !m.perms.includes('w') && m.path.startsWith('/') && m.end - m.start >= 8192);
  const tails = fixed.filter((m) => !starts.has(m.end) && m.end % BLOCK !== 0).slice(0, 3);
  const heads = fixed.filter((m) => !ends.has(m.start) && m.start % BLOCK !== 0).slice(0, 3);
  assert.ok(tails.length + heads.length > 0, 'this process maps a file that begins or ends inside a block');

  const fd = fs.openSync('/proc/self/mem', 'r');
  const direct = (addr: number): Buffer => {
    const b = Buffer.alloc(8192);
    fs.readSync(fd, b, 0, 8192, addr);
    return b;
  };
  const check = (m: Mapping, from: number, beyond: number): void => {
    const mem = new ProcessMemory(process.pid);
    try {
      const expected = direct(from);
      assert.deepEqual(mem.read(from, 8192), expected, `two pages of ${m.path} at 0x${from.toString(16)}`);
      assert.throws(() => mem.read(beyond, 1), BadRead);
      assert.equal(mem.read(from + 8191, 1)[0], expected[8191], 'the good pages are still served after the failure');
    } finally {
      mem.close();
    }
  };
  try {
    for (const m of tails) check(m, m.end - 8192, m.end);
    for (const m of heads) check(m, m.start, m.start - 1);
  } finally {
    fs.closeSync(fd);
  }
});
