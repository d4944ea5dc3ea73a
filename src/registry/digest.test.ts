import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestLike, fileDigest, matchesDigest, sha256Digest, shortDigest } from './digest.ts';

const hello = new TextEncoder().encode('hello');
const HELLO_SHA256 = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

test('sha256Digest matches the well-known digest of "hello"', () => {
  assert.is(sha256Digest(hello), HELLO_SHA256);
});

test('matchesDigest checks sha256 and sha512, and is lenient only for unknown algorithms unless strict', () => {
  assert.ok(matchesDigest(hello, HELLO_SHA256));
  assert.not.ok(matchesDigest(new TextEncoder().encode('hellO'), HELLO_SHA256));
  const sha512 = digestLike('sha512:x', hello) ?? '';
  assert.ok(sha512.startsWith('sha512:') && matchesDigest(hello, sha512));
  assert.ok(matchesDigest(hello, 'blake3:abc'));
  assert.not.ok(matchesDigest(hello, 'blake3:abc', { strict: true }));
});

test('fileDigest streams a file and returns its digest and size', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'regplan-digest-'));
  try {
    const big = new Uint8Array(2 * 1024 * 1024 + 5).fill(7);
    await writeFile(join(dir, 'f'), big);
    assert.equal(await fileDigest(join(dir, 'f')), { digest: sha256Digest(big), size: big.byteLength });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('shortDigest keeps the algorithm and 12 hex characters', () => {
  assert.is(shortDigest(HELLO_SHA256), 'sha256:2cf24dba5fb0…');
});

test.run();
