/** The deterministic tar and gzip writers, checked with GNU tar and gzip as independent readers. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { deterministicGzip, GZIP_OS_UNKNOWN, tarArchive } from './archive.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-archive-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const text = (s: string) => new TextEncoder().encode(s);
const longPath = `web/${'deep/'.repeat(30)}file.yaml`;
const unsplittable = `web/${'x'.repeat(120)}.yaml`;

/** GNU tar's verbose listing of an archive written to disk. */
function listing(bytes: Uint8Array, flags = '-tvf'): string {
  const file = path.join(scratch, `a-${Math.random().toString(36).slice(2)}.tar`);
  writeFileSync(file, bytes);
  return execFileSync('tar', ['--numeric-owner', '--utc', flags, file], { encoding: 'utf8' });
}

test('GNU tar lists every file sorted by path, mode 0644, owner 0/0, mtime the epoch', () => {
  const tar = tarArchive([
    { path: 'web/values.yaml', bytes: text('replicas: 1\n') },
    { path: 'web/Chart.yaml', bytes: text('name: web\n') },
    { path: 'web/templates/a.yaml', bytes: new Uint8Array(0) },
  ]);
  const lines = listing(tar).trim().split('\n');
  assert.equal(lines.map((l) => l.split(/\s+/).at(-1)), ['web/Chart.yaml', 'web/templates/a.yaml', 'web/values.yaml']);
  for (const line of lines) assert.match(line, /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 /);
});

test('file content comes back byte for byte, including long paths (ustar prefix) and longer ones (PAX)', () => {
  const entries = [
    { path: 'web/a.bin', bytes: Uint8Array.from({ length: 1500 }, (_, i) => i % 251) },
    { path: longPath, bytes: text('long\n') },
    { path: unsplittable, bytes: text('pax\n') },
  ];
  const dir = mkdtempSync(path.join(scratch, 'x-'));
  const file = path.join(dir, 'a.tar');
  writeFileSync(file, tarArchive(entries));
  execFileSync('tar', ['-xf', file, '-C', dir]);
  for (const entry of entries) assert.equal(new Uint8Array(readFileSync(path.join(dir, entry.path))), entry.bytes, entry.path);
});

test('the same entries in any order give the same bytes; a changed byte gives other bytes', () => {
  const a = { path: 'web/a', bytes: text('a') };
  const b = { path: 'web/b', bytes: text('b') };
  assert.equal(tarArchive([a, b]), tarArchive([b, a]));
  assert.not.equal(tarArchive([a, b]), tarArchive([a, { path: 'web/b', bytes: text('c') }]));
});

test('a path given twice is refused', () => {
  assert.throws(() => tarArchive([{ path: 'web/a', bytes: text('1') }, { path: 'web/a', bytes: text('2') }]), /cannot archive "web\/a" twice/);
});

test('gzip has no timestamp and the unknown OS byte, and gzip -t accepts it', () => {
  const gz = deterministicGzip(text('hello '.repeat(100)));
  assert.equal([...gz.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
  assert.equal([...gz.subarray(4, 8)], [0, 0, 0, 0]);
  assert.is(gz[9], GZIP_OS_UNKNOWN);
  const file = path.join(scratch, 'x.gz');
  writeFileSync(file, gz);
  execFileSync('gzip', ['-t', file]);
  assert.is(new TextDecoder().decode(gunzipSync(gz)), 'hello '.repeat(100));
  assert.equal(deterministicGzip(text('hello '.repeat(100))), gz);
});

test.run();
