// Decoder for the compact location table of CPython 3.11+ code objects (co_linetable), as
// described in Objects/locations.md: each entry covers 1–8 code units and says how the line
// moves. Only the line is needed here; columns are skipped.

function varint(t: Uint8Array, pos: { i: number }): number {
  let b = t[pos.i++];
  let val = b & 63;
  let shift = 0;
  while (b & 64) {
    if (pos.i >= t.length || shift > 24) return -1;
    b = t[pos.i++];
    shift += 6;
    val |= (b & 63) << shift;
  }
  return val;
}

function svarint(t: Uint8Array, pos: { i: number }): number {
  const u = varint(t, pos);
  return u & 1 ? -(u >>> 1) : u >>> 1;
}

/** Line of the instruction at code-unit index `addrq`, or -1 when the table has none. */
export function lineForInstruction(table: Uint8Array, firstLine: number, addrq: number): number {
  const pos = { i: 0 };
  let addr = 0;
  let line = firstLine;
  let entries = 0;
  while (pos.i < table.length && entries++ < 65536) {
    const first = table[pos.i++];
    if ((first & 0x80) === 0) return -1;
    const code = (first >> 3) & 15;
    const end = addr + (first & 7) + 1;
    let here = line;
    switch (code) {
      case 15:
        here = -1;
        break;
      case 14:
        line += svarint(table, pos);
        here = line;
        varint(table, pos);
        varint(table, pos);
        varint(table, pos);
        break;
      case 13:
        line += svarint(table, pos);
        here = line;
        break;
      case 10:
      case 11:
      case 12:
        line += code - 10;
        here = line;
        pos.i += 2;
        break;
      default:
        here = line;
        pos.i += 1;
    }
    if (pos.i > table.length) return -1;
    if (addrq >= addr && addrq < end) return here;
    addr = end;
  }
  return -1;
}
