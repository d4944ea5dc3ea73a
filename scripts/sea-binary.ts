/**
 * Reads what makes a file a Node single-executable application without running it, so a binary for another
 * CPU (linux-arm64, built on x64) can be checked: the ELF machine, the SEA fuse postject flips, and the
 * NODE_SEA_BLOB note postject adds (found as Node's own loader finds it: a PT_NOTE segment whose note is named
 * NODE_SEA_BLOB), decoded into the main script it carries.
 */
import { readFileSync } from 'node:fs';

/** The fuse Node's SEA loader looks for; postject flips its last character from 0 to 1. */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The ELF note name postject gives the blob, the name Node's loader looks up. */
export const SEA_NOTE_NAME = 'NODE_SEA_BLOB';
/** ELF e_machine values of the targets regplan ships. */
export const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 } as const;

/** Node's SeaResource magic (src/node_sea.h) and the flags it writes next to it. */
const SEA_MAGIC = 0x143da20;
const SEA_FLAG_USE_SNAPSHOT = 1 << 1;
const SEA_FLAG_USE_CODE_CACHE = 1 << 2;

/** The parts of a SEA binary a build or a test checks. */
export interface SeaBinary {
  /** ELF e_machine: 0x3e x86-64, 0xb7 AArch64. */
  machine: number;
  /** `flipped` once postject injected a blob; `unflipped` in a plain Node runtime. */
  fuse: 'flipped' | 'unflipped' | 'missing';
  /** The NODE_SEA_BLOB note's contents, when there is one. */
  blob: Buffer | undefined;
}

/** What a SEA blob says about itself. */
export interface SeaBlob {
  useCodeCache: boolean;
  useSnapshot: boolean;
  mainScript: string;
}

const PT_NOTE = 4;
const align4 = (n: number): number => (n + 3) & ~3;

/** Reads an ELF64 little-endian file's machine, SEA fuse state and NODE_SEA_BLOB note. */
export function readSeaBinary(file: string): SeaBinary {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const machine = elf.readUInt16LE(18);
  const fuse = elf.includes(`${SEA_FUSE}:1`) ? 'flipped' : elf.includes(`${SEA_FUSE}:0`) ? 'unflipped' : 'missing';
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  let blob: Buffer | undefined;
  for (let i = 0; i < phnum && blob === undefined; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== PT_NOTE) continue;
    const start = Number(elf.readBigUInt64LE(ph + 8));
    const end = start + Number(elf.readBigUInt64LE(ph + 32));
    for (let pos = start; pos + 12 <= end; ) {
      const nameSize = elf.readUInt32LE(pos);
      const descSize = elf.readUInt32LE(pos + 4);
      const name = elf.subarray(pos + 12, pos + 12 + nameSize).toString('latin1').replace(/\0+$/, '');
      const desc = pos + 12 + align4(nameSize);
      if (name === SEA_NOTE_NAME) {
        blob = elf.subarray(desc, desc + descSize);
        break;
      }
      pos = desc + align4(descSize);
    }
  }
  return { machine, fuse, blob };
}

/** Decodes a SEA blob's header and main script; throws when it is not one. */
export function parseSeaBlob(blob: Buffer): SeaBlob {
  if (blob.length < 8 || blob.readUInt32LE(0) !== SEA_MAGIC) throw new Error('not a Node SEA blob (wrong magic)');
  // Node 24's SeaSerializer: magic u32, flags u32, execArgvExtension u8, then length-prefixed (u64) strings.
  const flags = blob.readUInt32LE(4);
  let pos = 9;
  const readString = (): string => {
    const length = Number(blob.readBigUInt64LE(pos));
    const text = blob.subarray(pos + 8, pos + 8 + length).toString('utf8');
    pos += 8 + length;
    return text;
  };
  readString(); // the main script's path as given in the SEA config
  return { useCodeCache: (flags & SEA_FLAG_USE_CODE_CACHE) !== 0, useSnapshot: (flags & SEA_FLAG_USE_SNAPSHOT) !== 0, mainScript: readString() };
}
