import * as fs from 'node:fs';

export interface Section {
  name: string;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfInfo {
  sections: Map<string, Section>;
  /** Virtual address of the first PT_LOAD segment, page-aligned: what the lowest mapping maps. */
  firstLoadVaddr: number;
}

const PT_LOAD = 1;

function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  const n = fs.readSync(fd, buf, 0, len, pos);
  if (n !== len) throw new Error(`short read of ELF file at ${pos}`);
  return buf;
}

/** Reads only the headers and section names of a 64-bit little-endian ELF file, not its body. */
export function readElf(path: string): ElfInfo {
  const fd = fs.openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (eh.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    if (eh[4] !== 2 || eh[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const shoff = Number(eh.readBigUInt64LE(0x28));
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const shentsize = eh.readUInt16LE(0x3a);
    const shnum = eh.readUInt16LE(0x3c);
    const shstrndx = eh.readUInt16LE(0x3e);

    let firstLoadVaddr = Number.MAX_SAFE_INTEGER;
    const ph = readAt(fd, phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const p = i * phentsize;
      if (ph.readUInt32LE(p) !== PT_LOAD) continue;
      const vaddr = Number(ph.readBigUInt64LE(p + 0x10));
      firstLoadVaddr = Math.min(firstLoadVaddr, vaddr - (vaddr % 4096));
    }
    if (firstLoadVaddr === Number.MAX_SAFE_INTEGER) firstLoadVaddr = 0;

    const sections = new Map<string, Section>();
    if (shoff === 0 || shnum === 0) return { sections, firstLoadVaddr };
    const sh = readAt(fd, shoff, shentsize * shnum);
    const strHdr = shstrndx * shentsize;
    const strtab = readAt(
      fd,
      Number(sh.readBigUInt64LE(strHdr + 0x18)),
      Number(sh.readBigUInt64LE(strHdr + 0x20)),
    );
    for (let i = 0; i < shnum; i++) {
      const s = i * shentsize;
      const nameOff = sh.readUInt32LE(s);
      const end = strtab.indexOf(0, nameOff);
      const name = strtab.toString('latin1', nameOff, end < 0 ? strtab.length : end);
      sections.set(name, {
        name,
        addr: Number(sh.readBigUInt64LE(s + 0x10)),
        offset: Number(sh.readBigUInt64LE(s + 0x18)),
        size: Number(sh.readBigUInt64LE(s + 0x20)),
      });
    }
    return { sections, firstLoadVaddr };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Values (link-time addresses) of the named symbols, from `.dynsym` and, where the file is not
 * stripped, `.symtab` (which alone holds static symbols). Missing names are absent from the map.
 */
export function readSymbols(path: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const out = new Map<string, number>();
  const elf = readElf(path);
  const fd = fs.openSync(path, 'r');
  try {
    for (const [tab, str] of [['.dynsym', '.dynstr'], ['.symtab', '.strtab']]) {
      if (out.size === wanted.size) break;
      const s = elf.sections.get(tab);
      const t = elf.sections.get(str);
      if (!s || !t || s.size > 64 << 20 || t.size > 64 << 20) continue;
      const syms = readAt(fd, s.offset, s.size);
      const strs = readAt(fd, t.offset, t.size);
      for (let p = 0; p + 24 <= syms.length && out.size < wanted.size; p += 24) {
        const nameOff = syms.readUInt32LE(p);
        const value = Number(syms.readBigUInt64LE(p + 8));
        if (nameOff === 0 || value === 0) continue;
        const end = strs.indexOf(0, nameOff);
        const name = strs.toString('latin1', nameOff, end < 0 ? strs.length : end);
        if (wanted.has(name) && !out.has(name)) out.set(name, value);
      }
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
