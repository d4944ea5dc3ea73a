/**
 * Large request bodies (upload chunks over 1 MiB) go out as streams of views with an explicit Content-Length,
 * and upload.ts refills one chunk buffer: a chunk answered 503 is resent byte for byte, every chunk arrives
 * intact and in order, and the registry sees a Content-Length on every PATCH and the closing PUT.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ociError, startScriptedServer, type RecordedRequest, type ScriptedResponse } from '../../test/support/scripted-server.ts';
import { RegistryClient } from './client.ts';
import { sha256Digest } from './digest.ts';

const MiB = 1 << 20;

test('a file uploaded in 2 MiB chunks arrives intact, a chunk answered 503 is resent whole, each request has Content-Length', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'regplan-large-body-'));
  const content = new Uint8Array(randomBytes(5 * MiB + 123));
  const file = join(dir, 'blob.bin');
  await writeFile(file, content);
  let received = new Uint8Array(0);
  let failedOnce = false;
  const patches: { length: string | undefined; size: number }[] = [];
  const handler = (req: RecordedRequest): ScriptedResponse => {
    if (req.method === 'POST') return { status: 202, headers: { location: '/v2/app/blobs/uploads/u1' } };
    if (req.method === 'PATCH') {
      patches.push({ length: req.headers['content-length'], size: req.body.byteLength });
      if (patches.length === 2 && !failedOnce) {
        failedOnce = true;
        return { status: 503, headers: { 'retry-after': '0' }, body: ociError('UNAVAILABLE', 'try again') };
      }
      const [start] = (req.headers['content-range'] ?? '').split('-').map(Number);
      if (start !== received.byteLength) return { status: 416, body: ociError('RANGE_INVALID', 'invalid content range') };
      const grown = new Uint8Array(received.byteLength + req.body.byteLength);
      grown.set(received);
      grown.set(req.body, received.byteLength);
      received = grown;
      return { status: 202, headers: { location: '/v2/app/blobs/uploads/u1' } };
    }
    if (req.method === 'PUT') {
      const digest = req.query.get('digest') ?? '';
      return sha256Digest(received) === digest ? { status: 201, headers: { 'docker-content-digest': digest } } : { status: 400, body: ociError('DIGEST_INVALID', 'digest mismatch') };
    }
    return { status: 405 };
  };
  const server = await startScriptedServer(handler);
  try {
    const client = new RegistryClient({ host: server.host, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const digest = sha256Digest(content);
    const result = await client.uploadBlob('app', { path: file, size: content.byteLength, digest }, { chunkSize: 2 * MiB });
    assert.is(result.digest, digest);
    assert.equal(received, content);
    assert.equal(patches.map((p) => p.size), [2 * MiB, 2 * MiB, 2 * MiB, MiB + 123], 'the second chunk was sent twice');
    for (const patch of patches) assert.is(patch.length, String(patch.size));
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
