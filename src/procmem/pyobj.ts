// Reading plain Python objects out of another process: dicts (and so module globals and instance
// attributes), sets, lists, tuples, type names, and a short summary of a value for `dump
// --locals`. The 3.11–3.13 task reader needs them because those versions keep their tasks only
// in Python-level containers (asyncio.tasks._scheduled_tasks, a WeakSet); `dump` needs them for
// thread names. Every size read is bounded; a bad pointer raises BadRead for the caller.
import { AddrMap } from './addrtable';
import type { Layout } from './layouts';
import { BadRead, ProcessMemory, ptrAt } from './mem';
import { ObjectReader, untag } from './objects';

const INLINE_VALUES = 1 << 2;
const MANAGED_DICT = 1 << 4;
const LONG_SUBCLASS = 1 << 24;
const LIST_SUBCLASS = 1 << 25;
const TUPLE_SUBCLASS = 1 << 26;
const BYTES_SUBCLASS = 1 << 27;
const UNICODE_SUBCLASS = 1 << 28;
const DICT_SUBCLASS = 1 << 29;
const MAX_ENTRIES = 1 << 20;
const MAX_ITEMS = 1 << 20;

export class PyObjects {
  private readonly names = new AddrMap<string>();

  constructor(
    readonly mem: ProcessMemory,
    readonly l: Layout,
    readonly r: ObjectReader,
  ) {}

  typeOf(obj: number): number {
    return this.mem.ptr(obj + 8);
  }

  flags(type: number): number {
    return this.mem.u32(type + this.l.type_object.tp_flags);
  }

  /** The type's tp_name: `int`, `_asyncio.Task`, `TaskGroup`… */
  typeName(obj: number): string {
    return this.nameOfType(this.typeOf(obj));
  }

  nameOfType(type: number): string {
    let name = this.names.get(type);
    if (name === undefined) {
      name = this.cstr(this.mem.ptr(type + this.l.type_object.tp_name), 200);
      this.names.set(type, name);
    }
    return name;
  }

  cstr(addr: number, max: number): string {
    // Up to the page's end first: the next page may be unmapped, and most names end before it.
    const inPage = Math.min(max, 4096 - (addr % 4096));
    let b = this.mem.read(addr, inPage);
    let end = b.indexOf(0);
    if (end < 0 && inPage < max) {
      b = this.mem.read(addr, max);
      end = b.indexOf(0);
    }
    if (end < 0) throw new BadRead(addr, max, 'unterminated C string');
    return b.toString('utf8', 0, end);
  }

  /** The (key, value) pairs of a dict, in insertion order. */
  dictItems(dict: number): Array<[number, number]> {
    const d = this.l.dict_object;
    const keys = this.mem.ptr(dict + d.ma_keys);
    const values = this.mem.ptr(dict + d.ma_values);
    return this.keyItems(keys, values === 0 ? 0 : values + d.values_header);
  }

  /** A dict keys object's live pairs; with `values`, a split table's values come from there. */
  private keyItems(keys: number, values: number): Array<[number, number]> {
    const k = this.l.dict_keys;
    const head = this.mem.read(keys, k.indices);
    const log2Index = head[k.log2_index_bytes];
    const kind = head[k.kind];
    const n = ptrAt(head, k.nentries);
    if (log2Index > 26 || kind > 2 || n > MAX_ENTRIES) throw new BadRead(keys, 0, 'implausible dict keys');
    const entrySize = kind === 0 ? 24 : 16;
    const entries = this.mem.read(keys + k.indices + 2 ** log2Index, n * entrySize);
    const vals = values !== 0 && n > 0 ? this.mem.read(values, n * 8) : null;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const at = i * entrySize + (kind === 0 ? 8 : 0);
      const key = ptrAt(entries, at);
      const value = vals ? ptrAt(vals, i * 8) : ptrAt(entries, at + 8);
      if (key !== 0 && value !== 0) out.push([key, value]);
    }
    return out;
  }

  /** The value under a str key, or 0. */
  dictGet(dict: number, name: string): number {
    for (const [k, v] of this.dictItems(dict)) {
      if (this.isStr(k) && this.r.str(k) === name) return v;
    }
    return 0;
  }

  isStr(obj: number): boolean {
    return (this.flags(this.typeOf(obj)) & UNICODE_SUBCLASS) !== 0;
  }

  /** An instance attribute stored in the object's __dict__ (managed or not), or 0. */
  attr(obj: number, name: string): number {
    const type = this.typeOf(obj);
    const flags = this.flags(type);
    const style = this.l.managed_dict.style;
    if (flags & MANAGED_DICT) {
      const cached = this.mem.ptr(type + this.l.heap_type.ht_cached_keys);
      if (style === 11 || style === 12) {
        // 3.11: values at -4 words, dict at -3; 3.12: one word at -3, values tagged by bit 0.
        let values = style === 11 ? this.mem.ptr(obj - 32) : 0;
        let dict = this.mem.ptr(obj - 24);
        if (style === 12 && dict & 1) {
          values = dict + 1;
          dict = 0;
        }
        if (values !== 0 && cached !== 0) return this.lookup(this.keyItems(cached, values), name);
        return dict === 0 ? 0 : this.dictGet(dict, name);
      }
      if (flags & INLINE_VALUES) {
        const values = obj + 16;
        // Byte 3 of the values header (`valid`) is cleared once a real dict took them over.
        if (this.mem.read(values, 4)[3] !== 0 && cached !== 0) return this.lookup(this.keyItems(cached, values + 8), name);
      }
      const dict = this.mem.ptr(obj - 24);
      return dict === 0 ? 0 : this.dictGet(dict, name);
    }
    const offset = Number(this.mem.read(type + this.l.type_object.tp_dictoffset, 8).readBigInt64LE(0));
    if (offset <= 0 || offset > 4096) return 0;
    const dict = this.mem.ptr(obj + offset);
    return dict === 0 ? 0 : this.dictGet(dict, name);
  }

  private lookup(items: Array<[number, number]>, name: string): number {
    for (const [k, v] of items) if (this.isStr(k) && this.r.str(k) === name) return v;
    return 0;
  }

  setMembers(set: number): number[] {
    const s = this.l.set_object;
    const used = this.mem.ptr(set + s.used);
    const mask = this.mem.ptr(set + s.mask);
    const table = this.mem.ptr(set + s.table);
    if (mask >= MAX_ITEMS * 4 || used > mask + 1) throw new BadRead(set, 0, 'implausible set');
    const entries = this.mem.read(table, (mask + 1) * 16);
    const out: number[] = [];
    for (let i = 0; i <= mask && out.length < used; i++) {
      const key = ptrAt(entries, i * 16);
      // A removed entry keeps a dummy key with hash -1.
      const dummy = entries.readInt32LE(i * 16 + 8) === -1 && entries.readInt32LE(i * 16 + 12) === -1;
      if (key !== 0 && !dummy) out.push(untag(key));
    }
    return out;
  }

  /** The items of a list or tuple. */
  items(obj: number): number[] {
    const flags = this.flags(this.typeOf(obj));
    const size = this.mem.ptr(obj + 16);
    if (size > MAX_ITEMS) throw new BadRead(obj, 0, 'implausible sequence');
    if (size === 0) return [];
    const base = flags & LIST_SUBCLASS ? this.mem.ptr(obj + this.l.list_object.ob_item) : obj + this.l.tuple_object.ob_item;
    const buf = this.mem.read(base, size * 8);
    const out: number[] = [];
    for (let i = 0; i < size; i++) out.push(ptrAt(buf, i * 8));
    return out;
  }

  /**
   * The referents of a weakref.WeakSet (its `data` set holds weak references). A dead reference
   * points at None: callers check the type of what they get anyway.
   */
  weakSetMembers(ws: number): number[] {
    const data = this.attr(ws, 'data');
    if (data === 0) throw new BadRead(ws, 0, 'a WeakSet without data');
    const out: number[] = [];
    // In address order: the references sit in a few pymalloc pools, so the page cache serves
    // them in runs (hash order would make each one a fresh read).
    for (const ref of this.setMembers(data).sort((a, b) => a - b)) {
      const target = this.mem.ptr(ref + this.l.weakref.wr_object);
      if (target !== 0) out.push(target);
    }
    return out;
  }

  /** A module's globals, from the dict of sys.modules. */
  moduleDict(modules: number, name: string): number {
    const mod = this.dictGet(modules, name);
    return mod === 0 ? 0 : this.mem.ptr(mod + this.l.module.md_dict);
  }

  /** A short, safe rendering of a value: scalars and short strings as such, else type and size. */
  summary(obj: number): string {
    const type = this.typeName(obj);
    const flags = this.flags(this.typeOf(obj));
    if (type === 'NoneType') return 'None';
    if (type === 'bool') return this.r.int(obj) === 0 ? 'False' : 'True';
    if (type === 'float') return String(this.mem.read(obj + this.l.float_object.ob_fval, 8).readDoubleLE(0));
    if (type === 'int') {
      try {
        return String(this.r.int(obj));
      } catch {
        return 'int (large)';
      }
    }
    if (type === 'str' && flags & UNICODE_SUBCLASS) {
      const len = this.mem.ptr(obj + this.l.unicode_object.length);
      if (len <= 80) return JSON.stringify(this.r.str(obj));
      return `str (length ${len})`;
    }
    if (type === 'bytes' && flags & BYTES_SUBCLASS) {
      const len = this.mem.ptr(obj + this.l.bytes_object.ob_size);
      if (len <= 40) return bytesRepr(this.mem.read(obj + this.l.bytes_object.ob_sval, len));
      return `bytes (length ${len})`;
    }
    if (flags & (LIST_SUBCLASS | TUPLE_SUBCLASS)) return `${type} (length ${this.mem.ptr(obj + 16)})`;
    if (flags & DICT_SUBCLASS) return `${type} (length ${this.mem.ptr(obj + this.l.dict_object.ma_used)})`;
    if (type === 'set' || type === 'frozenset') return `${type} (length ${this.mem.ptr(obj + this.l.set_object.used)})`;
    if (flags & LONG_SUBCLASS) return `${type} (an int)`;
    return type;
  }
}

function bytesRepr(b: Buffer): string {
  let s = "b'";
  for (const c of b) {
    if (c === 0x27 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}'`;
}
