// Where CPython keeps what tasklens reads, one row per minor version. CPython 3.14+ describes
// its own layout (_Py_DebugOffsets, AsyncioDebug); 3.11–3.13 do not (3.13 only in part), so
// their facts are written down here, from each branch's headers (Include/internal/pycore_*.h,
// Modules/_asynciomodule.c) and checked against the debug information of release builds.
// The groups and field names follow _Py_DebugOffsets so one reader serves every version; a
// group the debug offsets lack is filled in from the 3.13 row (object layouts that 3.14 and
// 3.15 did not change). A reader never trusts a row blindly: target.ts checks 3.13's row
// against the interpreter's own debug offsets, and every object read checks its type.
import type { DebugOffsets } from './offsets';

export type Layout = DebugOffsets;

const COMMON = {
  pyobject: { size: 16, ob_type: 8 },
  type_object: { tp_name: 24, tp_basicsize: 32, tp_flags: 168, tp_dictoffset: 288 },
  tuple_object: { ob_size: 16, ob_item: 24 },
  list_object: { ob_size: 16, ob_item: 24 },
  set_object: { used: 24, mask: 32, table: 40 },
  dict_keys: { log2_size: 8, log2_index_bytes: 9, kind: 10, nentries: 24, indices: 32 },
  float_object: { ob_fval: 16 },
  bytes_object: { ob_size: 16, ob_sval: 32 },
  weakref: { wr_object: 16 },
  method: { im_func: 16, im_self: 24 },
  cfunction: { m_self: 24 },
  function: { qualname: 40, code: 48 },
  module: { md_dict: 16 },
  cell: { ob_ref: 16 },
  // _asyncio's FutureObj: the fields before fut_state are the same in 3.11–3.13.
  future: { loop: 16, callback0: 24, callbacks: 40 },
  // Task and future states from Modules/_asynciomodule.c's fut_state enum.
  fut_states: { pending: 0 },
};

/** Frame states (pycore_frame.h); `yield_from` is 99 where the state does not tell (3.11, 3.12). */
const STATES_311 = { created: -2, suspended_lo: -1, suspended_hi: -1, yield_from: 99, executing: 0, cleared: 4 };

const ROW_311: Layout = {
  ...COMMON,
  runtime_state: { interpreters_head: 40 },
  // 3.11 keeps one GIL in the runtime; `interp_gil` < 0 says so.
  gil: { interp_gil: -1, runtime_holder: 368, runtime_locked: 376, holder: 8, locked: 16 },
  interpreter_state: { next: 0, id: 48, threads_head: 16, imports_modules: 888, sysdict: 904 },
  thread_state: { size: 360, prev: 0, next: 8, interp: 16, cframe: 56, current_frame: 8, thread_id: 152, native_thread_id: 160 },
  interpreter_frame: { size: 80, previous: 48, executable: 32, instr_ptr: 56, instr_is_prev: 1, stacktop: 64, owner: 69, localsplus: 72 },
  frame_owner: { generator: 1, cstack: -1 },
  code_object: { filename: 112, name: 120, qualname: 128, linetable: 136, firstlineno: 72, co_code_adaptive: 184,
    localsplusnames: 96, localspluskinds: 104 },
  gen_object: { gi_iframe: 80, gi_frame_state: 75 },
  frame_state: STATES_311,
  opcodes: { resume: 151, resume_alt1: 150, resume_alt2: 151 },
  heap_type: { ht_cached_keys: 872 },
  dict_object: { ma_used: 16, ma_keys: 32, ma_values: 40, values_header: 0 },
  managed_dict: { style: 11 },
  long_object: { lv_tag: 16, ob_digit: 24, signed_size: 1 },
  unicode_object: { state: 32, length: 16, asciiobject_size: 48, compact_size: 72 },
  future: { ...COMMON.future, state: 88, dict: 104, size: 128 },
  task: { size: 176, fut_waiter: 128, coro: 136, name: 144 },
};

const ROW_312: Layout = {
  ...ROW_311,
  // 3.12: one GIL per interpreter, reached through interp->ceval.gil.
  gil: { interp_gil: 384, runtime_holder: -1, runtime_locked: -1, holder: 8, locked: 16 },
  interpreter_state: { next: 0, id: 8, threads_head: 72, imports_modules: 944, sysdict: 352 },
  thread_state: { size: 288, prev: 0, next: 8, interp: 16, cframe: 56, current_frame: 0, thread_id: 136, native_thread_id: 144 },
  interpreter_frame: { size: 80, previous: 8, executable: 0, instr_ptr: 56, instr_is_prev: 1, stacktop: 64, owner: 70, localsplus: 72 },
  frame_owner: { generator: 1, cstack: 3 },
  code_object: { ...ROW_311.code_object, firstlineno: 68, co_code_adaptive: 192 },
  gen_object: { gi_iframe: 72, gi_frame_state: 67 },
  opcodes: { resume: 151, resume_alt1: 240, resume_alt2: 151 },
  heap_type: { ht_cached_keys: 880 },
  managed_dict: { style: 12 },
  long_object: { lv_tag: 16, ob_digit: 24, signed_size: 0 },
  unicode_object: { state: 32, length: 16, asciiobject_size: 40, compact_size: 56 },
};

const ROW_313: Layout = {
  ...ROW_312,
  runtime_state: { interpreters_head: 632 },
  gil: { interp_gil: 16, runtime_holder: -1, runtime_locked: -1, holder: 8, locked: 16 },
  interpreter_state: { next: 7264, id: 7272, threads_head: 7344, imports_modules: 7656, sysdict: 7640 },
  // No cframe any more: `cframe` < 0 says the thread state points at its frame itself.
  thread_state: { size: 304, prev: 0, next: 8, interp: 16, cframe: -1, current_frame: 72, thread_id: 152, native_thread_id: 160 },
  interpreter_frame: { size: 80, previous: 8, executable: 0, instr_ptr: 56, instr_is_prev: 0, stacktop: 64, owner: 70, localsplus: 72 },
  code_object: { ...ROW_312.code_object, co_code_adaptive: 200 },
  frame_state: { created: -3, suspended_lo: -2, suspended_hi: -1, yield_from: -1, executing: 0, cleared: 4 },
  opcodes: { resume: 149, resume_alt1: 207, resume_alt2: 236 },
  dict_object: { ma_used: 16, ma_keys: 32, ma_values: 40, values_header: 8 },
  managed_dict: { style: 13 },
  future: { ...COMMON.future, state: 96, dict: -1, size: 104 },
  task: { size: 144, fut_waiter: 112, coro: 120, name: 128 },
};

export const ROWS: ReadonlyMap<number, Layout> = new Map([
  [11, ROW_311],
  [12, ROW_312],
  [13, ROW_313],
]);

/**
 * A layout for 3.14+ from its debug offsets: what they describe is taken from them, the object
 * internals they leave out (dict keys, managed dicts) from the 3.13 row, which those versions
 * kept. Only the thread and frame walk of `dump` uses it; tasks have their own reader there.
 */
export function layoutFromDebug(d: DebugOffsets, minor: number): Layout {
  return {
    ...ROW_313,
    ...d,
    thread_state: { ...d.thread_state, cframe: -1 },
    interpreter_frame: { ...d.interpreter_frame, instr_is_prev: 0, stacktop: -1 },
    // Frames owned by the C stack or the interpreter itself are entry shims, not Python code.
    frame_owner: { generator: 1, cstack: 3, interpreter: minor >= 14 ? 4 : -1 },
    gil: {
      interp_gil: d.interpreter_state.ceval_gil,
      runtime_holder: -1, runtime_locked: -1,
      holder: d.interpreter_state.gil_runtime_state_holder - d.interpreter_state.gil_runtime_state,
      locked: d.interpreter_state.gil_runtime_state_locked - d.interpreter_state.gil_runtime_state,
    },
    unicode_object: { ...d.unicode_object, compact_size: d.unicode_object.asciiobject_size + 16 },
    long_object: { ...d.long_object, signed_size: 0 },
    dict_object: { ...ROW_313.dict_object, ...d.dict_object },
    // 3.15 grew PyHeapTypeObject by one word before the cached keys (checked on 3.15.0).
    heap_type: { ht_cached_keys: minor >= 15 ? 888 : ROW_313.heap_type.ht_cached_keys },
    type_object: { ...ROW_313.type_object, ...d.type_object },
  };
}

/** The facts of the 3.13 row that its debug offsets also state: a build that differs is refused. */
export function checkAgainstDebug(row: Layout, d: DebugOffsets): string[] {
  const pairs: Array<[string, number, number]> = [
    ['runtime_state.interpreters_head', row.runtime_state.interpreters_head, d.runtime_state.interpreters_head],
    ['interpreter_state.threads_head', row.interpreter_state.threads_head, d.interpreter_state.threads_head],
    ['interpreter_state.imports_modules', row.interpreter_state.imports_modules, d.interpreter_state.imports_modules],
    ['interpreter_state.next', row.interpreter_state.next, d.interpreter_state.next],
    ['interpreter_state.id', row.interpreter_state.id, d.interpreter_state.id],
    ['interpreter_state.ceval_gil', row.gil.interp_gil, d.interpreter_state.ceval_gil],
    ['thread_state.current_frame', row.thread_state.current_frame, d.thread_state.current_frame],
    ['thread_state.native_thread_id', row.thread_state.native_thread_id, d.thread_state.native_thread_id],
    ['thread_state.thread_id', row.thread_state.thread_id, d.thread_state.thread_id],
    ['interpreter_frame.owner', row.interpreter_frame.owner, d.interpreter_frame.owner],
    ['interpreter_frame.instr_ptr', row.interpreter_frame.instr_ptr, d.interpreter_frame.instr_ptr],
    ['code_object.co_code_adaptive', row.code_object.co_code_adaptive, d.code_object.co_code_adaptive],
    ['code_object.linetable', row.code_object.linetable, d.code_object.linetable],
    ['unicode_object.asciiobject_size', row.unicode_object.asciiobject_size, d.unicode_object.asciiobject_size],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([what, a, b]) => `${what} ${b} (expected ${a})`);
}
