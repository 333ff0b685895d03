import * as fs from 'node:fs';
import { AddrMap } from './addrtable';
import { errnoCode, noSuchProcess, permissionDenied, ProcError } from './errors';

/** A read that hit unmapped or vanished memory: the target moved on under us, or a pointer was bad. */
export class BadRead extends Error {
  constructor(readonly addr: number, readonly len: number, cause?: string) {
    super(`cannot read ${len} bytes at 0x${addr.toString(16)}${cause ? ` (${cause})` : ''}`);
    this.name = 'BadRead';
  }
}

const PAGE = 4096;
const SLAB_PAGES = 256;
/** The page cache stops at 64 MiB; past it, it starts over (a walk then re-reads some pages). */
const MAX_CACHED_PAGES = 16384;
const MAX_READ = 1 << 20;
const TOP = 2 ** 47;
const U32 = 2 ** 32;

/**
 * Positional reads of another process's memory through /proc/PID/mem. Pages are cached for the
 * length of one snapshot because asyncio objects are packed densely by pymalloc: one page read
 * serves many tasks, which is what makes a 10,000-task walk cheap. `invalidate()` drops the cache
 * before a retry so that a torn read is not served again.
 *
 * The hot readers (`ptr`, `u8`, `i8`) index a 32-bit view of the cached page directly: a walk
 * makes tens of thousands of them, and each must cost no allocation and no Buffer bounds logic.
 */
export class ProcessMemory {
  private readonly fd: number;
  /** Page number → slot; slot s lives in slabs[s >> 8] at page (s & 255). */
  private readonly slotOf = new AddrMap<number>(12);
  private readonly slabs: Buffer[] = [];
  private readonly words: Uint32Array[] = [];
  private slots = 0;
  // The page read last: most reads are fields of one object or of its neighbour.
  private lastPageNo = -1;
  private lastBytes: Buffer = Buffer.alloc(0);
  private lastWords: Uint32Array = new Uint32Array(0);
  /** Byte offset of the last page inside lastBytes / lastWords (as a byte offset). */
  private lastBase = 0;
  reads = 0;
  /** Where the bytes asked of `at` start in the buffer it returned. */
  off = 0;

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
    this.slotOf.clear();
    this.slots = 0;
    this.lastPageNo = -1;
    // New slabs, not reused ones: a buffer handed out by `at` must not change under its reader.
    this.slabs.length = 0;
    this.words.length = 0;
  }

  /** Makes page `pageNo` the last page, reading it if it is not cached. */
  private load(pageNo: number, addr: number): void {
    if (!(addr >= PAGE && addr < TOP && addr % 1 === 0)) throw new BadRead(addr, 0, 'address out of range');
    let slot = this.slotOf.get(pageNo);
    if (slot === undefined) {
      if (this.slots >= MAX_CACHED_PAGES) this.invalidate();
      slot = this.slots;
      const slab = slot >> 8;
      if (slab === this.slabs.length) {
        // One large buffer per 256 pages: thousands of separate 4 KiB ArrayBuffers would each
        // count as external memory and drive V8 into needless full garbage collections.
        const b = Buffer.allocUnsafeSlow(PAGE * SLAB_PAGES);
        this.slabs.push(b);
        this.words.push(new Uint32Array(b.buffer, b.byteOffset, b.length / 4));
      }
      const at = (slot & 255) * PAGE;
      let n: number;
      try {
        this.reads++;
        n = fs.readSync(this.fd, this.slabs[slab], at, PAGE, pageNo * PAGE);
      } catch (err) {
        throw this.readError(err, pageNo * PAGE, PAGE);
      }
      if (n !== PAGE) throw new BadRead(pageNo * PAGE, PAGE, 'short read');
      this.slots++;
      this.slotOf.set(pageNo, slot);
    }
    this.lastPageNo = pageNo;
    this.lastBytes = this.slabs[slot >> 8];
    this.lastWords = this.words[slot >> 8];
    this.lastBase = (slot & 255) * PAGE;
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
      return this.lastWords[w] + this.lastWords[w + 1] * U32;
    }
    const b = this.at(addr, 8);
    return ptrAt(b, this.off);
  }

  u32(addr: number): number {
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    const inPage = addr - pageNo * PAGE;
    if ((inPage & 3) === 0) return this.lastWords[(this.lastBase + inPage) >> 2];
    const b = this.at(addr, 4);
    return b.readUInt32LE(this.off);
  }

  u8(addr: number): number {
    const pageNo = Math.floor(addr / PAGE);
    if (pageNo !== this.lastPageNo) this.load(pageNo, addr);
    return this.lastBytes[this.lastBase + addr - pageNo * PAGE];
  }

  i8(addr: number): number {
    const v = this.u8(addr);
    return v > 127 ? v - 256 : v;
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
      return this.lastBytes;
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
      this.lastBytes.copy(out, done, from, from + n);
      done += n;
    }
    return out;
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

/** Reads a pointer-sized field out of an already-read buffer. */
export function ptrAt(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * U32;
}
