// The address table behind the memory walk, against a plain Map: keys that collide, overwrites
// and growth.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddrMap } from '../src/procmem/addrtable';

function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
}

test('AddrMap agrees with Map through inserts and overwrites of address-like keys', () => {
  const next = random(7);
  const mine = new AddrMap<number>(4);
  const ref = new Map<number, number>();
  // Page numbers near 2^35 and 16-aligned addresses near 2^46: both shapes the walker uses.
  const keyOf = (i: number): number => (i % 2 === 0 ? 0x7f0000000 + (i % 3000) : 0x7f1529000000 + (i % 3000) * 16);
  for (let step = 0; step < 50_000; step++) {
    const k = keyOf(next() % 6000);
    mine.set(k, step);
    ref.set(k, step);
    if (step % 997 === 0) for (const [key, v] of ref) assert.equal(mine.get(key), v);
  }
  assert.equal(mine.size, ref.size);
  for (let i = 0; i < 6000; i++) assert.equal(mine.get(keyOf(i)), ref.get(keyOf(i)));
});
