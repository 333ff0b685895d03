// A hash table keyed by addresses (or page numbers) of the target. Addresses are above 2^31, so
// in a JS Map they are heap numbers, and each lookup costs a boxed key and a slow hash: a walk of
// 10,000 tasks makes some 100,000 of them. Open addressing over a Float64Array keeps keys unboxed.

const EMPTY = 0;

function slotFor(key: number, shift: number): number {
  // Fibonacci hashing of the two halves: aligned addresses have zero low bits, consecutive
  // page numbers differ by one; the top bits of the product are well mixed in both cases.
  // (`%` on numbers this size is a call into C in V8; floor and multiply are instructions.)
  const hi = Math.floor(key / 0x40000000);
  const x = (key - hi * 0x40000000) ^ hi;
  return Math.imul(x, 0x9e3779b1) >>> shift;
}

/** A map from non-zero integer keys below 2^53 to values of type V. */
export class AddrMap<V> {
  private keys: Float64Array;
  private vals: Array<V | undefined>;
  private shift: number;
  size = 0;

  constructor(capacityLog2 = 10) {
    this.keys = new Float64Array(1 << capacityLog2);
    this.vals = AddrMap.slots<V>(1 << capacityLog2);
    this.shift = 32 - capacityLog2;
  }

  /**
   * Values filled in, not holes: every map then has the same elements kind whatever it holds
   * (numbers, strings, records), and `get` and `set` stay monomorphic across maps.
   */
  private static slots<V>(n: number): Array<V | undefined> {
    return new Array<V | undefined>(n).fill(undefined);
  }

  get(key: number): V | undefined {
    const mask = this.keys.length - 1;
    for (let i = slotFor(key, this.shift); ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === key) return this.vals[i];
      if (k === EMPTY) return undefined;
    }
  }

  set(key: number, value: V): void {
    if (key === EMPTY) throw new RangeError('AddrMap keys must be non-zero');
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let i = slotFor(key, this.shift); ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === key) {
        this.vals[i] = value;
        return;
      }
      if (k === EMPTY) {
        this.keys[i] = key;
        this.vals[i] = value;
        this.size++;
        return;
      }
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Float64Array(oldKeys.length * 2);
    this.vals = AddrMap.slots<V>(oldKeys.length * 2);
    this.shift--;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.set(oldKeys[i], oldVals[i] as V);
  }
}
