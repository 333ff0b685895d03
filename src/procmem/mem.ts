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
const MAX_CACHED_PAGES = 16384;
const MAX_READ = 1 << 20;

/**
 * Positional reads of another process's memory through /proc/PID/mem. Pages are cached for the
 * length of one snapshot because asyncio objects are packed densely by pymalloc: one page read
 * serves many tasks, which is what makes a 10,000-task walk cheap. `invalidate()` drops the cache
 * before a retry so that a torn read is not served again.
 */
export class ProcessMemory {
  private readonly fd: number;
  private readonly pages = new Map<number, Buffer>();
  reads = 0;

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
    this.pages.clear();
    this.lastPageNo = -1;
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

  private page(base: number): Buffer {
    let p = this.pages.get(base);
    if (!p) {
      if (this.pages.size >= MAX_CACHED_PAGES) {
        this.pages.clear();
        this.lastPageNo = -1;
      }
      p = this.readPage(base);
      this.pages.set(base, p);
    }
    return p;
  }

  // Pages are carved out of large slabs: thousands of separate 4 KiB ArrayBuffers would each
  // count as external memory and drive V8 into needless full garbage collections.
  private slab = Buffer.alloc(0);
  private slabUsed = 0;

  private readPage(base: number): Buffer {
    if (this.slabUsed + PAGE > this.slab.length) {
      this.slab = Buffer.allocUnsafe(PAGE * 256);
      this.slabUsed = 0;
    }
    const p = this.slab.subarray(this.slabUsed, this.slabUsed + PAGE);
    let n: number;
    try {
      this.reads++;
      n = fs.readSync(this.fd, p, 0, PAGE, base);
    } catch (err) {
      throw this.readError(err, base, PAGE);
    }
    if (n !== PAGE) throw new BadRead(base, PAGE, 'short read');
    this.slabUsed += PAGE;
    return p;
  }

  private readError(err: unknown, addr: number, len: number): Error {
    const code = errnoCode(err);
    if (code === 'ESRCH') return noSuchProcess(this.pid);
    if (code === 'EACCES' || code === 'EPERM') return permissionDenied(this.pid, 'the memory');
    if (code === 'EIO' || code === 'EFAULT' || code === 'EINVAL') return new BadRead(addr, len, code);
    return new ProcError('read-failed', `reading memory of process ${this.pid}: ${String(err)}`);
  }

  /**
   * The bytes at [addr, addr+len) without copying: returns a buffer holding them and leaves
   * their start in `off`. Returning the cached page itself keeps a 10,000-task walk from
   * allocating (and garbage-collecting) one Buffer per field read.
   */
  at(addr: number, len: number): Buffer {
    const pageNo = Math.floor(addr / PAGE);
    const inPage = addr - pageNo * PAGE;
    // Most reads land in the page read last (fields of one object, or its neighbour).
    if (pageNo === this.lastPageNo && inPage + len <= PAGE && len >= 0) {
      this.off = inPage;
      return this.lastPage;
    }
    if (!(addr >= PAGE && len >= 0 && len <= MAX_READ && addr + len <= 2 ** 47) || inPage % 1 !== 0) {
      throw new BadRead(addr, len, 'address out of range');
    }
    if (inPage + len <= PAGE) {
      this.off = inPage;
      this.lastPage = this.page(pageNo * PAGE);
      this.lastPageNo = pageNo;
      return this.lastPage;
    }
    this.off = 0;
    if (len > 8 * PAGE) return this.readDirect(addr, len);
    const out = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const at = addr + done;
      const base = at - (at % PAGE);
      const p = this.page(base);
      const n = Math.min(len - done, base + PAGE - at);
      p.copy(out, done, at - base, at - base + n);
      done += n;
    }
    return out;
  }

  off = 0;
  private lastPageNo = -1;
  private lastPage: Buffer = Buffer.alloc(0);

  /** A copy of the bytes at [addr, addr+len). */
  read(addr: number, len: number): Buffer {
    const b = this.at(addr, len);
    return Buffer.from(b.subarray(this.off, this.off + len));
  }

  ptr(addr: number): number {
    const b = this.at(addr, 8);
    return ptrAt(b, this.off);
  }

  u8(addr: number): number {
    const b = this.at(addr, 1);
    return b[this.off];
  }
}

/** Reads a pointer-sized field out of an already-read buffer. */
export function ptrAt(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 2 ** 32;
}
