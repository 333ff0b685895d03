import * as fs from 'node:fs';
import { errnoCode, noSuchProcess, permissionDenied, ProcError } from './errors';

/** A read that hit unmapped or vanished memory: the target moved on under us, or a pointer was bad. */
export class BadRead extends Error {
  constructor(readonly addr: number, readonly len: number, cause?: string) {
    super(`cannot read ${len} bytes at 0x${addr.toString(16)}${cause ? ` (${cause})` : ''}`);
    this.name = 'BadRead';
  }
}

const PAGE = 4096;
/**
 * Memory is read in blocks of four pages (16 KiB, a pymalloc pool), one read each: a 10,000-task
 * walk makes about 560 reads instead of 2,050 single pages. 64 blocks are kept (1 MiB), in 32
 * sets of two, the older of a set replaced first: tasks and their coroutines sit in a few pools
 * at a time, so this re-reads little, and the reader's memory stays the same for any number of
 * tasks. A lookup is two comparisons, which matters at 50,000 page switches a walk.
 */
const BLOCK_PAGES = 4;
const BLOCK = PAGE * BLOCK_PAGES;
const SETS = 32;
const BLOCKS = SETS * 2;
const MAX_READ = 1 << 20;
const TOP = 2 ** 47;
const U32 = 2 ** 32;

/**
 * Positional reads of another process's memory through /proc/PID/mem, through a small page
 * cache: asyncio objects are packed densely by pymalloc, so one page read serves many tasks.
 * `invalidate()` drops the cache before a retry so that a torn read is not served again.
 *
 * The hot readers (`ptr`, `u32`, `words`) index a 32-bit view of the cached page directly: a walk
 * makes tens of thousands of them, and each must cost no allocation and no Buffer bounds logic.
 * A view handed out by `at` or `words` stays valid only until another page is read: callers
 * take the fields they need from it at once.
 */
export class ProcessMemory {
  private readonly fd: number;
  /** The block number held by each slot (-1: none); slots 2s and 2s+1 form set s. */
  private readonly blockOf = new Float64Array(BLOCKS).fill(-1);
  /** Per slot, which of its pages were read (bit i: page i): a block may end in unmapped memory. */
  private readonly valid = new Uint8Array(BLOCKS);
  /** Per set, the way (0 or 1) to replace next: the one used less recently. */
  private readonly older = new Uint8Array(SETS);
  private readonly cache = Buffer.allocUnsafeSlow(BLOCK * BLOCKS);
  private readonly cacheWords = new Uint32Array(this.cache.buffer, this.cache.byteOffset, this.cache.length / 4);
  // The page read last: most reads are fields of one object or of its neighbour.
  private lastPageNo = -1;
  /** Byte offset of the last page in the cache. */
  private lastBase = 0;
  reads = 0;
  /** Where the bytes asked of `at` start in the buffer it returned. */
  off = 0;
  /** Where the object asked of `words` starts in the array it returned. */
  woff = 0;
  /**
   * Where `words` puts an object that straddles two pages: reused, so such a view is good only
   * until the next `words` call (callers take their fields at once anyway).
   */
  private readonly straddle = new Uint32Array(64);

  constructor(readonly pid: number) {
    try {
      this.fd = fs.openSync(`/proc/${pid}/mem`, 'r');
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ESRCH') throw noSuchProcess(pid);
      if (code === 'EACCES' || code === 'EPERM') throw permissionDenied(pid, 'the memory');
      throw err;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  invalidate(): void {
    this.blockOf.fill(-1);
    this.lastPageNo = -1;
  }

  /** Makes page `pageNo` the last page, reading it if it is not cached. */
  private load(pageNo: number, addr: number): void {
    if (!(addr >= PAGE && addr < TOP && Math.floor(addr) === addr)) throw new BadRead(addr, 0, 'address out of range');
    const block = Math.floor(pageNo / BLOCK_PAGES);
    const page = pageNo - block * BLOCK_PAGES;
    // Remainders by floor and multiply: `%` on addresses above 2^31 is a call into C in V8.
    const set = block - Math.floor(block / SETS) * SETS;
    let slot = set * 2;
    if (!(this.blockOf[slot] === block && this.valid[slot] & (1 << page))) {
      slot++;
      if (!(this.blockOf[slot] === block && this.valid[slot] & (1 << page))) slot = this.fill(block, page, set);
    }
    this.older[set] = 1 - (slot & 1);
    this.lastPageNo = pageNo;
    this.lastBase = slot * BLOCK + page * PAGE;
  }

  /** Reads the block (or, where the block runs into unmapped memory, the one page) into a slot. */
  private fill(block: number, page: number, set: number): number {
    // The slot may hold the last page: until the read succeeds, nothing is the last page.
    this.lastPageNo = -1;
    let slot = set * 2 + this.older[set];
    if (this.blockOf[set * 2] === block) slot = set * 2;
    else if (this.blockOf[set * 2 + 1] === block) slot = set * 2 + 1;
    else {
      this.blockOf[slot] = -1;
      let n = 0;
      try {
        this.reads++;
        n = fs.readSync(this.fd, this.cache, slot * BLOCK, BLOCK, block * BLOCK);
      } catch (err) {
        const e = this.readError(err, block * BLOCK, BLOCK);
        if (!(e instanceof BadRead)) throw e;
      }
      this.blockOf[slot] = block;
      this.valid[slot] = (1 << Math.floor(n / PAGE)) - 1;
    }
    if (!(this.valid[slot] & (1 << page))) {
      const at = (block * BLOCK_PAGES + page) * PAGE;
      let n: number;
      try {
        this.reads++;
        n = fs.readSync(this.fd, this.cache, slot * BLOCK + page * PAGE, PAGE, at);
      } catch (err) {
        throw this.readError(err, at, PAGE);
      }
      if (n !== PAGE) throw new BadRead(at, PAGE, 'short read');
      this.valid[slot] |= 1 << page;
    }
    return slot;
  }

  private readError(err: unknown, addr: number, len: number): Error {
    const code = errnoCode(err);
    if (code === 'ESRCH') return noSuchProcess(this.pid);
    if (code === 'EACCES' || code === 'EPERM') return permissionDenied(this.pid, 'the memory');
    if (code === 'EIO' || code === 'EFAULT' || code === 'EINVAL') return new BadRead(addr, len, code);
    return new ProcError('read-failed', `reading memory of process ${this.pid}: ${String(err)}`);
  }

  /** An unsigned 64-bit field (pointers, sizes); exact below 2^53, which user-space addresses are. */
  ptr(addr: number): number {
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    const inPage = addr - pageNo * PAGE;
    if ((inPage & 7) === 0) {
      const w = (this.lastBase + inPage) >> 2;
      return this.cacheWords[w] + this.cacheWords[w + 1] * U32;
    }
    const b = this.at(addr, 8);
    return ptrAt(b, this.off);
  }

  u32(addr: number): number {
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    const inPage = addr - pageNo * PAGE;
    if ((inPage & 3) === 0) return this.cacheWords[(this.lastBase + inPage) >> 2];
    const b = this.at(addr, 4);
    return b.readUInt32LE(this.off);
  }

  /**
   * The 32-bit words of the 8-aligned object at [addr, addr+len): the cached page itself when the
   * object lies in one page (its first word at index `woff`), else a copy. Reading an object's
   * fields out of one view costs a walk one page lookup per object instead of one per field.
   */
  words(addr: number, len: number): Uint32Array {
    if (Math.floor(addr / 8) * 8 !== addr) throw new BadRead(addr, len, 'misaligned object');
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    const inPage = addr - pageNo * PAGE;
    if (inPage + len <= PAGE) {
      this.woff = (this.lastBase + inPage) >> 2;
      return this.cacheWords;
    }
    if (len > PAGE) return this.wordsCopy(addr, len);
    // Across a page boundary (a few percent of objects): the two pieces, copied word by word.
    const copy = this.straddle.length >= (len + 3) >> 2 ? this.straddle : new Uint32Array((len + 3) >> 2);
    const first = (PAGE - inPage) >> 2;
    copy.set(this.cacheWords.subarray((this.lastBase + inPage) >> 2, (this.lastBase + PAGE) >> 2), 0);
    this.load(pageNo + 1, (pageNo + 1) * PAGE);
    copy.set(this.cacheWords.subarray(this.lastBase >> 2, (this.lastBase >> 2) + ((len + 3) >> 2) - first), first);
    this.woff = 0;
    return copy;
  }

  private wordsCopy(addr: number, len: number): Uint32Array {
    const bytes = this.at(addr, len);
    const copy = new Uint32Array((len + 3) >> 2);
    new Uint8Array(copy.buffer).set(bytes.subarray(this.off, this.off + len));
    this.woff = 0;
    return copy;
  }

  /**
   * The bytes at [addr, addr+len) without copying when they lie in one page: returns a buffer
   * holding them and leaves their start in `off`.
   */
  at(addr: number, len: number): Buffer {
    if (!(len >= 0 && len <= MAX_READ)) throw new BadRead(addr, len, 'length out of range');
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    const inPage = addr - pageNo * PAGE;
    if (inPage + len <= PAGE) {
      this.off = this.lastBase + inPage;
      return this.cache;
    }
    this.off = 0;
    if (addr + len > TOP) throw new BadRead(addr, len, 'address out of range');
    if (len > 8 * PAGE) return this.readDirect(addr, len);
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const p = Math.floor(a / PAGE);
      if (p !== this.lastPageNo) this.load(p, a);
      const from = this.lastBase + (a - p * PAGE);
      const n = Math.min(len - done, (p + 1) * PAGE - a);
      this.cache.copy(out, done, from, from + n);
      done += n;
    }
    return out;
  }

  /**
   * The pointer at `addr` as the process holds it now, past the cache: to check that a field
   * read earlier still says the same after the object it named was read (a freed and reused
   * object would otherwise pass for the real one).
   */
  freshPtr(addr: number): number {
    return ptrAt(this.readDirect(addr, 8), 0);
  }

  private readDirect(addr: number, len: number): Buffer {
    const buf = Buffer.allocUnsafe(len);
    let n: number;
    try {
      this.reads++;
      n = fs.readSync(this.fd, buf, 0, len, addr);
    } catch (err) {
      throw this.readError(err, addr, len);
    }
    if (n !== len) throw new BadRead(addr, len, 'short read');
    return buf;
  }

  /** A copy of the bytes at [addr, addr+len). */
  read(addr: number, len: number): Buffer {
    const b = this.at(addr, len);
    return Buffer.from(b.subarray(this.off, this.off + len));
  }
}

/** The 64-bit field at byte offset `off` (a multiple of 4) of an object whose words start at `wo`. */
export function wordsU64(w: Uint32Array, wo: number, off: number): number {
  const i = wo + (off >> 2);
  return w[i] + w[i + 1] * U32;
}

/** The byte at offset `off` of an object whose words start at `wo` (little-endian). */
export function wordsU8(w: Uint32Array, wo: number, off: number): number {
  return (w[wo + (off >> 2)] >>> ((off & 3) << 3)) & 255;
}

/** Reads a pointer-sized field out of an already-read buffer. */
export function ptrAt(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * U32;
}
