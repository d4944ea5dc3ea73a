/**
 * Deterministic archives for bundles: a minimal ustar writer and a gzip wrapper whose output depends only on
 * the entries given. Entries are written in byte order of their paths with mtime 0, uid/gid 0, empty owner
 * names and mode 0644 (as Helm writes charts), and the gzip header carries no timestamp and the "unknown" OS
 * byte (255, as Go's compress/gzip writes it) instead of the build machine's. So the same files give the same
 * digest on every machine and run (with the zlib this runtime embeds; the single-file binary pins it).
 */
import { gzipSync } from 'node:zlib';
import { RegplanError } from '../errors.ts';

/** One regular file of an archive: its path inside (forward slashes) and content. */
export interface ArchiveEntry {
  path: string;
  bytes: Uint8Array;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** The gzip OS byte regplan writes: 255 = unknown, so the archive does not say where it was made. */
export const GZIP_OS_UNKNOWN = 0xff;

/** A ustar archive of the entries (sorted by path, fixed metadata), ended by two zero blocks. */
export function tarArchive(entries: readonly ArchiveEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(encoder.encode(a.path), encoder.encode(b.path)));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i] as ArchiveEntry;
    if (i > 0 && sorted[i - 1]?.path === entry.path) {
      throw new RegplanError(`cannot archive "${entry.path}" twice`, { hint: 'each path in a bundle archive must be unique' });
    }
    parts.push(...fileRecords(entry));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concat(parts);
}

/** Gzip of `bytes` at level 9 with a zero mtime and the OS byte set to unknown. */
export function deterministicGzip(bytes: Uint8Array): Uint8Array {
  const gz = new Uint8Array(gzipSync(bytes, { level: 9 }));
  gz[4] = 0;
  gz[5] = 0;
  gz[6] = 0;
  gz[7] = 0; // MTIME: zlib already writes 0; kept explicit because it is the promise
  gz[9] = GZIP_OS_UNKNOWN;
  return gz;
}

/** The header (plus a PAX header for a path ustar cannot hold) and padded content of one file. */
function fileRecords(entry: ArchiveEntry): Uint8Array[] {
  const records: Uint8Array[] = [];
  const split = splitUstarPath(entry.path);
  if (split === undefined) {
    const pax = paxRecord('path', entry.path);
    records.push(header({ name: 'PaxHeaders/entry', prefix: '', size: pax.byteLength, type: 'x' }), ...padded(pax));
  }
  const { name, prefix } = split ?? { name: asciiTail(entry.path, 100), prefix: '' };
  records.push(header({ name, prefix, size: entry.bytes.byteLength, type: '0' }), ...padded(entry.bytes));
  return records;
}

/** Splits a path into ustar `prefix` (<=155 bytes) and `name` (<=100 bytes) at a slash; undefined when impossible. */
function splitUstarPath(path: string): { name: string; prefix: string } | undefined {
  const bytes = encoder.encode(path);
  if (bytes.byteLength <= 100) return { name: path, prefix: '' };
  if (bytes.byteLength > 256) return undefined;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).byteLength <= 155 && encoder.encode(name).byteLength <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

/** The last ≤`max` ASCII-safe characters, for the legacy name field when a PAX header carries the real path. */
const asciiTail = (path: string, max: number): string => path.replace(/[^\x20-\x7e]/g, '_').slice(-max);

/** One PAX record `"<len> key=value\n"`, where len counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length !== String(bodyLength).length) length = bodyLength + String(length).length;
  return encoder.encode(`${length}${body}`);
}

function header(fields: { name: string; prefix: string; size: number; type: '0' | 'x' }): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, length: number, text: string) => block.set(encoder.encode(text).subarray(0, length), offset);
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  if (fields.size > 0o77777777777) throw new RegplanError(`cannot archive a file of ${fields.size} bytes in ustar format`, { hint: 'files in a chart must be smaller than 8 GiB' });
  put(0, 100, fields.name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8)); // uid
  put(116, 8, octal(0, 8)); // gid
  put(124, 12, octal(fields.size, 12));
  put(136, 12, octal(0, 12)); // mtime: the epoch
  put(148, 8, '        '); // checksum placeholder (spaces while summing)
  put(156, 1, fields.type);
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(329, 8, octal(0, 8)); // devmajor
  put(337, 8, octal(0, 8)); // devminor
  put(345, 155, fields.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function padded(bytes: Uint8Array): Uint8Array[] {
  const rest = bytes.byteLength % BLOCK;
  return rest === 0 ? [bytes] : [bytes, new Uint8Array(BLOCK - rest)];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.byteLength - b.byteLength;
}
