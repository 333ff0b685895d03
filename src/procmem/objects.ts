import { AddrMap } from './addrtable';
import { lineForInstruction } from './linetable';
import { BadRead, ProcessMemory, ptrAt } from './mem';
import { DebugOffsets } from './offsets';

// Readers of the few CPython objects a task walk needs: str, int, code, coroutine frames.
// Every read is bounded; a pointer that leads nowhere raises BadRead and the caller decides.

const TPFLAGS_LONG_SUBCLASS = 1 << 24;
const TPFLAGS_UNICODE_SUBCLASS = 1 << 28;
// Stack references and some object pointers carry tag bits; objects are at least 8-aligned.
// (Floor and multiply: `%` on numbers above 2^31 is a call into C in V8, and this runs per field.)
export const untag = (p: number): number => Math.floor(p / 8) * 8;

export interface CodeInfo {
  name: string;
  qualname: string;
  file: string;
  firstLine: number;
  linetable: Uint8Array;
  codeStart: number;
}

export interface Limits {
  maxTasks: number;
  maxFrames: number;
  maxString: number;
}

export class ObjectReader {
  private readonly codes = new AddrMap<CodeInfo>();
  private readonly strs = new AddrMap<string>();
  private readonly typeFlags = new AddrMap<number>();
  private lastType = 0;
  private lastFlags = 0;
  // An instruction address belongs to one code object for the whole snapshot: thousands of
  // tasks suspended at the same await share one line lookup.
  private readonly lines = new AddrMap<number>();

  constructor(
    readonly mem: ProcessMemory,
    readonly o: DebugOffsets,
    readonly limits: Limits,
  ) {}

  typeOf(addr: number): number {
    return this.mem.ptr(addr + this.o.pyobject.ob_type);
  }

  flagsOfType(type: number): number {
    // Task names are nearly all of one type (int, for Task-N): one remembered type saves a lookup.
    if (type === this.lastType) return this.lastFlags;
    let f = this.typeFlags.get(type);
    if (f === undefined) {
      // The flags this reader tests are all in the low word of the 64-bit tp_flags.
      f = this.mem.u32(type + this.o.type_object.tp_flags);
      this.typeFlags.set(type, f);
    }
    this.lastType = type;
    this.lastFlags = f;
    return f;
  }

  /** A str object's text; names and file names are immutable, so they are cached by address. */
  str(addr: number): string {
    const cached = this.strs.get(addr);
    if (cached !== undefined) return cached;
    const s = this.freshStr(addr);
    this.strs.set(addr, s);
    return s;
  }

  /**
   * A str object's text, never from the cache: for an object that may be made while we read
   * (a task's name is made on first use), whose address an earlier, freed str may have had.
   */
  freshStr(addr: number): string {
    const u = this.o.unicode_object;
    const length = this.mem.ptr(addr + u.length);
    const state = this.mem.u32(addr + u.state);
    const kind = (state >> 2) & 7;
    const compact = (state >> 5) & 1;
    const ascii = (state >> 6) & 1;
    if (!compact || ![1, 2, 4].includes(kind) || length < 0 || length > 1 << 24) {
      throw new BadRead(addr, 0, 'not a readable str');
    }
    const n = Math.min(length, this.limits.maxString);
    // Compact non-ASCII strings keep two more words (utf8 length and pointer) before the data.
    const dataAt = addr + (ascii ? u.asciiobject_size : u.compact_size ?? u.asciiobject_size + 16);
    const raw = this.mem.read(dataAt, n * kind);
    let s: string;
    if (kind === 1) s = raw.toString('latin1');
    else if (kind === 2) s = raw.toString('utf16le');
    else {
      const cps: number[] = [];
      for (let i = 0; i < n; i++) cps.push(raw.readUInt32LE(i * 4));
      s = String.fromCodePoint(...cps.map((c) => (c > 0x10ffff ? 0xfffd : c)));
    }
    if (n < length) s += '…';
    return s;
  }

  /** Small ints only (task counters): up to two 30-bit digits. */
  int(addr: number): number {
    const l = this.o.long_object;
    let ndigits: number;
    let sign: number;
    if (l.signed_size) {
      // 3.11: ob_size is the digit count, negative for negative numbers.
      const size = Number(this.mem.read(addr + l.lv_tag, 8).readBigInt64LE(0));
      ndigits = Math.abs(size);
      sign = size < 0 ? -1 : 1;
    } else {
      const tag = this.mem.ptr(addr + l.lv_tag);
      ndigits = Math.floor(tag / 8);
      sign = (tag & 3) === 2 ? -1 : 1;
    }
    if (ndigits === 0) return 0;
    if (ndigits > 2) throw new BadRead(addr, 0, 'int too large for a task number');
    let v = this.mem.u32(addr + l.ob_digit);
    if (ndigits === 2) v += this.mem.u32(addr + l.ob_digit + 4) * 2 ** 30;
    return sign * v;
  }

  /** A task name as CPython's tools print it: str names as is, int names as Task-N. */
  taskName(addr: number): string {
    const flags = this.flagsOfType(this.typeOf(addr));
    if (flags & TPFLAGS_LONG_SUBCLASS) return `Task-${this.int(addr)}`;
    if (flags & TPFLAGS_UNICODE_SUBCLASS) return this.freshStr(addr);
    throw new BadRead(addr, 0, 'task name is neither str nor int');
  }

  code(addr: number): CodeInfo {
    const cached = this.codes.get(addr);
    if (cached) return cached;
    const c = this.o.code_object;
    const buf = this.mem.read(addr, c.co_code_adaptive);
    const linetableAddr = ptrAt(buf, c.linetable);
    const b = this.o.bytes_object;
    const ltLen = ptrAt(this.mem.read(linetableAddr + b.ob_size, 8), 0);
    if (ltLen > 1 << 20) throw new BadRead(linetableAddr, ltLen, 'implausible line table');
    const info: CodeInfo = {
      name: this.str(ptrAt(buf, c.name)),
      qualname: this.str(ptrAt(buf, c.qualname)),
      file: this.str(ptrAt(buf, c.filename)),
      firstLine: buf.readInt32LE(c.firstlineno),
      linetable: new Uint8Array(this.mem.read(linetableAddr + b.ob_sval, ltLen)),
      codeStart: addr + c.co_code_adaptive,
    };
    this.codes.set(addr, info);
    return info;
  }

  line(code: CodeInfo, instrPtr: number): number {
    let line = this.lines.get(instrPtr);
    if (line === undefined) {
      line = this.computeLine(code, instrPtr);
      this.lines.set(instrPtr, line);
    }
    return line;
  }

  private computeLine(code: CodeInfo, instrPtr: number): number {
    const addrq = Math.floor((instrPtr - code.codeStart) / 2);
    if (addrq < 0 || addrq > 1 << 24) return code.firstLine;
    return lineForInstruction(code.linetable, code.firstLine, addrq);
  }
}
