// The threads of a CPython process and the Python stack of each, read from memory for every
// version 3.11+: interpreters → thread states → the chain of interpreter frames, with each
// frame's code object, line and (when asked) simple locals; which thread holds the GIL; the
// Python-level thread names (threading._active). The target keeps running meanwhile: a thread
// whose frames change under the read is re-read, then reported with the reason instead.
import type { Frame } from '../inspect/model';
import type { Layout } from './layouts';
import { BadRead, ProcessMemory } from './mem';
import { ObjectReader, untag } from './objects';
import { PyObjects } from './pyobj';

export interface Local {
  name: string;
  value: string;
}

export interface StackFrame extends Frame {
  locals?: Local[];
}

export interface PyThread {
  interpreterId: number;
  /** Native (kernel) thread id. */
  threadId: number;
  /** pthread id, as `threading.get_ident()` gives it. */
  ident: number;
  /** threading.Thread name, when the thread has one. */
  name?: string;
  holdsGil: boolean;
  /** Innermost first. */
  stack: StackFrame[];
  error?: string;
}

const MAX_INTERPRETERS = 256;
const MAX_THREADS = 8192;
const RETRIES = 3;
const CO_FAST_HIDDEN = 0x10;
const CO_FAST_CELL = 0x40;
const CO_FAST_FREE = 0x80;

export interface ThreadWalkOptions {
  maxFrames: number;
  locals: boolean;
}

export class ThreadReader {
  readonly py: PyObjects;

  constructor(
    readonly mem: ProcessMemory,
    readonly l: Layout,
    readonly r: ObjectReader,
    readonly runtimeAddr: number,
  ) {
    this.py = new PyObjects(mem, l, r);
  }

  /** Every interpreter's address with its id, main interpreter first. */
  interpreters(): Array<{ addr: number; id: number }> {
    const out: Array<{ addr: number; id: number }> = [];
    const seen = new Set<number>();
    let interp = this.mem.ptr(this.runtimeAddr + this.l.runtime_state.interpreters_head);
    while (interp !== 0 && !seen.has(interp) && seen.size < MAX_INTERPRETERS) {
      seen.add(interp);
      out.push({ addr: interp, id: Number(this.mem.read(interp + this.l.interpreter_state.id, 8).readBigInt64LE(0)) });
      interp = this.mem.ptr(interp + this.l.interpreter_state.next);
    }
    return out;
  }

  threadStates(interp: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    let ts = this.mem.ptr(interp + this.l.interpreter_state.threads_head);
    while (ts !== 0 && !seen.has(ts) && seen.size < MAX_THREADS) {
      seen.add(ts);
      out.push(ts);
      ts = this.mem.ptr(ts + this.l.thread_state.next);
    }
    return out;
  }

  /** The thread state holding the GIL of `interp`, or 0 when nobody holds it. */
  gilHolder(interp: number): number {
    const g = this.l.gil;
    const base = g.interp_gil >= 0 ? this.mem.ptr(interp + g.interp_gil) : 0;
    const holderAt = g.interp_gil >= 0 ? base + g.holder : this.runtimeAddr + g.runtime_holder;
    const lockedAt = g.interp_gil >= 0 ? base + g.locked : this.runtimeAddr + g.runtime_locked;
    if (g.interp_gil >= 0 && base === 0) return 0;
    return this.mem.u32(lockedAt) !== 0 ? this.mem.ptr(holderAt) : 0;
  }

  /** threading.Thread names by pthread id; empty when threading is not imported or unreadable. */
  threadNames(interp: number): Map<number, string> {
    const names = new Map<number, string>();
    try {
      const modules = this.mem.ptr(interp + this.l.interpreter_state.imports_modules);
      const g = modules === 0 ? 0 : this.py.moduleDict(modules, 'threading');
      const active = g === 0 ? 0 : this.py.dictGet(g, '_active');
      if (active === 0) return names;
      for (const [k, thread] of this.py.dictItems(active)) {
        const name = this.py.attr(thread, '_name');
        if (name !== 0 && this.py.isStr(name)) names.set(this.r.int(k), this.r.str(name));
      }
    } catch (err) {
      if (!(err instanceof BadRead)) throw err;
    }
    return names;
  }

  threads(o: ThreadWalkOptions): PyThread[] {
    const out: PyThread[] = [];
    for (const interp of this.interpreters()) {
      const holder = this.gilHolder(interp.addr);
      const names = this.threadNames(interp.addr);
      for (const ts of this.threadStates(interp.addr)) {
        const t = this.l.thread_state;
        const thread: PyThread = {
          interpreterId: interp.id,
          threadId: this.mem.ptr(ts + t.native_thread_id),
          ident: this.mem.ptr(ts + t.thread_id),
          holdsGil: ts === holder,
          stack: [],
        };
        const name = names.get(thread.ident);
        if (name !== undefined) thread.name = name;
        this.readStack(ts, thread, o);
        out.push(thread);
      }
    }
    return out;
  }

  private readStack(ts: number, thread: PyThread, o: ThreadWalkOptions): void {
    let last = '';
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      try {
        thread.stack = this.stack(ts, o);
        return;
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
        last = err.message;
        this.mem.invalidate();
      }
    }
    thread.error = `the stack changed while being read: ${last}`;
  }

  private currentFrame(ts: number): number {
    const t = this.l.thread_state;
    if (t.cframe < 0) return this.mem.ptr(ts + t.current_frame);
    const cframe = this.mem.ptr(ts + t.cframe);
    return cframe === 0 ? 0 : this.mem.ptr(cframe + t.current_frame);
  }

  stack(ts: number, o: ThreadWalkOptions): StackFrame[] {
    const f = this.l.interpreter_frame;
    const out: StackFrame[] = [];
    const seen = new Set<number>();
    let frame = this.currentFrame(ts);
    while (frame !== 0 && !seen.has(frame) && out.length < o.maxFrames) {
      seen.add(frame);
      const code = untag(this.mem.ptr(frame + f.executable));
      const owner = this.mem.read(frame + f.owner, 1)[0];
      // Shim frames (the C stack's entry frames, 3.12+) run no Python code of their own.
      const shim = owner === this.l.frame_owner.cstack || owner === this.l.frame_owner.interpreter;
      if (code !== 0 && !shim && this.py.typeName(code) === 'code') {
        const info = this.r.code(code);
        const entry: StackFrame = { function: info.qualname, file: info.file, line: this.r.line(info, this.mem.ptr(frame + f.instr_ptr)) };
        if (o.locals) entry.locals = this.locals(frame, code);
        out.push(entry);
      }
      frame = this.mem.ptr(frame + f.previous);
    }
    return out;
  }

  private locals(frame: number, code: number): Local[] {
    const c = this.l.code_object;
    const names = this.py.items(this.mem.ptr(code + c.localsplusnames));
    const kindsObj = this.mem.ptr(code + c.localspluskinds);
    const kinds = this.mem.read(kindsObj + this.l.bytes_object.ob_sval, names.length);
    const values = this.mem.read(frame + this.l.interpreter_frame.localsplus, names.length * 8);
    const out: Local[] = [];
    for (let i = 0; i < names.length; i++) {
      if (kinds[i] & CO_FAST_HIDDEN) continue;
      let v = untag(values.readUInt32LE(i * 8) + values.readUInt32LE(i * 8 + 4) * 2 ** 32);
      if (v === 0) continue;
      const name = this.r.str(names[i]);
      try {
        if (kinds[i] & (CO_FAST_CELL | CO_FAST_FREE) && this.py.typeName(v) === 'cell') {
          v = this.mem.ptr(v + this.l.cell.ob_ref);
          if (v === 0) continue;
        }
        out.push({ name, value: this.py.summary(v) });
      } catch (err) {
        if (!(err instanceof BadRead)) throw err;
        out.push({ name, value: `<unreadable: ${err.message}>` });
      }
    }
    return out;
  }
}
