import { ProcError } from './errors';

// _Py_DebugOffsets is a flat run of uint64 fields after the 8-byte cookie; each CPython minor
// version appends fields inside its groups, so the order is written down per version. The facts
// come from Include/internal/pycore_debug_offsets.h of each branch and are checked against the
// real interpreters by `validate` (sizes and offsets that cannot differ on x86-64).
type Layout = ReadonlyArray<readonly [string, readonly string[]]>;

// 3.13, the first to describe itself, describes threads, frames and code but not coroutines;
// target.ts uses it to check the 3.13 row of layouts.ts, which has the rest.
const LAYOUT_313: Layout = [
  ['header', ['version', 'free_threaded']],
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  ['interpreter_state', ['size', 'id', 'next', 'threads_head', 'gc', 'imports_modules', 'sysdict', 'builtins',
    'ceval_gil', 'gil_runtime_state', 'gil_runtime_state_enabled', 'gil_runtime_state_locked', 'gil_runtime_state_holder']],
  ['thread_state', ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id',
    'datastack_chunk', 'status']],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner']],
  ['code_object', ['size', 'filename', 'name', 'qualname', 'linetable', 'firstlineno', 'argcount',
    'localsplusnames', 'localspluskinds', 'co_code_adaptive']],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
];

const LAYOUT_314: Layout = [
  ['header', ['version', 'free_threaded']],
  ['runtime_state', ['size', 'finalizing', 'interpreters_head']],
  ['interpreter_state', ['size', 'id', 'next', 'threads_head', 'threads_main', 'gc', 'imports_modules',
    'sysdict', 'builtins', 'ceval_gil', 'gil_runtime_state', 'gil_runtime_state_enabled',
    'gil_runtime_state_locked', 'gil_runtime_state_holder', 'code_object_generation', 'tlbc_generation']],
  ['thread_state', ['size', 'prev', 'next', 'interp', 'current_frame', 'thread_id', 'native_thread_id',
    'datastack_chunk', 'status']],
  ['interpreter_frame', ['size', 'previous', 'executable', 'instr_ptr', 'localsplus', 'owner',
    'stackpointer', 'tlbc_index']],
  ['code_object', ['size', 'filename', 'name', 'qualname', 'linetable', 'firstlineno', 'argcount',
    'localsplusnames', 'localspluskinds', 'co_code_adaptive', 'co_tlbc']],
  ['pyobject', ['size', 'ob_type']],
  ['type_object', ['size', 'tp_name', 'tp_repr', 'tp_flags']],
  ['tuple_object', ['size', 'ob_item', 'ob_size']],
  ['list_object', ['size', 'ob_item', 'ob_size']],
  ['set_object', ['size', 'used', 'table', 'mask']],
  ['dict_object', ['size', 'ma_keys', 'ma_values']],
  ['float_object', ['size', 'ob_fval']],
  ['long_object', ['size', 'lv_tag', 'ob_digit']],
  ['bytes_object', ['size', 'ob_size', 'ob_sval']],
  ['unicode_object', ['size', 'state', 'length', 'asciiobject_size']],
  ['gc', ['size', 'collecting']],
  ['gen_object', ['size', 'gi_name', 'gi_iframe', 'gi_frame_state']],
  ['llist_node', ['next', 'prev']],
];

// 3.15 grew thread_state (profiler and GIL-state fields), added err_stackitem, and more
// type_object and gc fields. Fields named `_N` are ones this reader never uses; only their
// count matters, and `validate` catches a wrong count through the fixed facts that follow them.
const LAYOUT_315: Layout = LAYOUT_314.flatMap(([group, fields]): Array<readonly [string, readonly string[]]> => {
  if (group === 'thread_state') {
    return [
      [group, ['size', 'prev', 'next', 'interp', 'current_frame', 'base_frame', 'last_profiled_frame',
        '_7', 'thread_id', 'native_thread_id', 'datastack_chunk', 'status', '_12', '_13', '_14', '_15']],
      ['err_stackitem', ['exc_value']],
    ];
  }
  if (group === 'type_object') return [[group, [...fields, '_4', '_5', '_6', '_7']]];
  if (group === 'gc') return [[group, [...fields, '_2', '_3', '_4', '_5']]];
  return [[group, fields]];
});

const LAYOUTS: ReadonlyMap<number, Layout> = new Map([
  [13, LAYOUT_313],
  [14, LAYOUT_314],
  [15, LAYOUT_315],
]);

export type DebugOffsets = Record<string, Record<string, number>>;

export const MAX_DEBUG_OFFSETS_SIZE = 1024;

export function supportedMinors(): number[] {
  return [...LAYOUTS.keys()];
}

export function parseVersion(hex: number): { major: number; minor: number; micro: number; text: string } {
  const major = (hex >>> 24) & 0xff;
  const minor = (hex >>> 16) & 0xff;
  const micro = (hex >>> 8) & 0xff;
  const level = (hex >>> 4) & 0xf;
  const serial = hex & 0xf;
  const suffix = level === 0xf ? '' : `${{ 0xa: 'a', 0xb: 'b', 0xc: 'rc' }[level] ?? '?'}${serial}`;
  return { major, minor, micro, text: `${major}.${minor}.${micro}${suffix}` };
}

export function decodeDebugOffsets(buf: Buffer, minor: number): DebugOffsets {
  const layout = LAYOUTS.get(minor);
  if (!layout) throw new ProcError('unsupported-python', `no layout for Python 3.${minor}`);
  const out: DebugOffsets = {};
  let pos = 8;
  for (const [group, fields] of layout) {
    const rec: Record<string, number> = {};
    for (const f of fields) {
      rec[f] = Number(buf.readBigUInt64LE(pos));
      pos += 8;
    }
    out[group] = rec;
  }
  validate(out, minor);
  return out;
}

function validate(o: DebugOffsets, minor: number): void {
  const has = (group: string): boolean => group in o;
  const facts: Array<[string, boolean]> = [
    ['pyobject.size == 16', o.pyobject.size === 16],
    ['pyobject.ob_type == 8', o.pyobject.ob_type === 8],
    ['tuple_object.ob_size == 16', o.tuple_object.ob_size === 16],
    ['set_object.used == 24', !has('set_object') || o.set_object.used === 24],
    ['type_object.tp_flags == 168', o.type_object.tp_flags === 168],
    ['thread_state.next == 8', o.thread_state.next === 8],
    ['list_object.ob_size == 16', o.list_object.ob_size === 16],
    ['float_object.ob_fval == 16', o.float_object.ob_fval === 16],
    ['bytes_object.ob_sval == 32', o.bytes_object.ob_sval === 32],
    ['unicode_object.length == 16', o.unicode_object.length === 16],
    ['llist_node.prev == 8', !has('llist_node') || o.llist_node.prev === 8],
    ['gen_object.gi_iframe < gen_object.size', !has('gen_object') || o.gen_object.gi_iframe < o.gen_object.size],
    ['interpreter_frame.owner < size', o.interpreter_frame.owner < o.interpreter_frame.size],
    ['code_object.co_code_adaptive < 512', o.code_object.co_code_adaptive < 512],
  ];
  const bad = facts.filter(([, ok]) => !ok).map(([what]) => what);
  if (bad.length > 0) {
    throw new ProcError(
      'bad-layout',
      `the debug offsets of this Python 3.${minor} do not have the expected layout (${bad.join(', ')})`,
    );
  }
}

export interface AsyncioOffsets {
  task: { size: number; name: number; awaitedBy: number; isTask: number; awaitedByIsSet: number; coro: number; node: number };
  interp: { size: number; tasksHead: number };
  thread: { size: number; runningLoop: number; runningTask: number; tasksHead: number };
}

export const ASYNCIO_OFFSETS_SIZE = 13 * 8;

export function decodeAsyncioOffsets(buf: Buffer): AsyncioOffsets {
  const v = (i: number): number => Number(buf.readBigUInt64LE(i * 8));
  const o: AsyncioOffsets = {
    task: { size: v(0), name: v(1), awaitedBy: v(2), isTask: v(3), awaitedByIsSet: v(4), coro: v(5), node: v(6) },
    interp: { size: v(7), tasksHead: v(8) },
    thread: { size: v(9), runningLoop: v(10), runningTask: v(11), tasksHead: v(12) },
  };
  const fields = [o.task.name, o.task.awaitedBy, o.task.isTask, o.task.coro, o.task.node];
  if (o.task.size === 0 || o.task.size > 4096 || fields.some((f) => f === 0 || f >= o.task.size) ||
      o.interp.tasksHead >= o.interp.size || o.thread.tasksHead >= o.thread.size) {
    throw new ProcError('bad-layout', 'the AsyncioDebug offsets of this Python are not plausible');
  }
  return o;
}
