import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../errors.ts';
import { startScriptedServer, ociError, type RecordedRequest, type ScriptedResponse, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient } from './client.ts';
import { sha256Digest } from './digest.ts';

/** A registry's upload endpoints, enough to check the client's side of the protocol: sessions, ordered chunks, digest check. */
function uploadRegistry(options: { minChunk?: number; known?: string[] } = {}) {
  const sessions = new Map<string, Uint8Array>();
  const blobs = new Map<string, Uint8Array>();
  for (const digest of options.known ?? []) blobs.set(digest, new Uint8Array());
  let next = 0;
  const concat = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.byteLength + b.byteLength);
    out.set(a);
    out.set(b, a.byteLength);
    return out;
  };
  const handler = (req: RecordedRequest): ScriptedResponse => {
    if (req.method === 'POST' && req.path === '/v2/app/blobs/uploads/') {
      const mount = req.query.get('mount');
      if (mount !== null && blobs.has(mount)) return { status: 201, headers: { location: `/v2/app/blobs/${mount}` } };
      const id = `u${next++}`;
      sessions.set(id, new Uint8Array());
      return { status: 202, headers: { location: `/v2/app/blobs/uploads/${id}?_state=s%3D${id}`, 'docker-upload-uuid': id, ...(options.minChunk ? { 'oci-chunk-min-length': String(options.minChunk) } : {}) } };
    }
    const id = /^\/v2\/app\/blobs\/uploads\/(u\d+)$/.exec(req.path)?.[1];
    const held = id === undefined ? undefined : sessions.get(id);
    if (id === undefined || held === undefined) return { status: 404, body: ociError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry') };
    if (req.method === 'DELETE') {
      sessions.delete(id);
      return { status: 204 };
    }
    if (req.method === 'PATCH') {
      const [start, end] = (req.headers['content-range'] ?? '').split('-').map(Number);
      if (start !== held.byteLength || end !== held.byteLength + req.body.byteLength - 1) return { status: 416, body: ociError('RANGE_INVALID', 'invalid content range') };
      const grown = concat(held, req.body);
      sessions.set(id, grown);
      return { status: 202, headers: { location: `/v2/app/blobs/uploads/${id}?_state=s%3D${id}-${grown.byteLength}`, range: `0-${grown.byteLength - 1}` } };
    }
    if (req.method === 'PUT') {
      const whole = concat(held, req.body);
      const digest = req.query.get('digest') ?? '';
      if (sha256Digest(whole) !== digest) return { status: 400, body: ociError('DIGEST_INVALID', 'provided digest did not match uploaded content') };
      sessions.delete(id);
      blobs.set(digest, whole);
      return { status: 201, headers: { location: `/v2/app/blobs/${digest}`, 'docker-content-digest': digest } };
    }
    return { status: 405 };
  };
  return { handler, blobs, sessions };
}

async function withRegistry(registry: ReturnType<typeof uploadRegistry>, body: (server: ScriptedServer, client: RegistryClient) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(registry.handler);
  try {
    await body(server, new RegistryClient({ host: server.host, retry: { attempts: 2, baseDelayMs: 1 } }));
  } finally {
    await server.close();
  }
}

const bytesOf = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 251);

test('a blob up to the chunk size goes up in one PUT that keeps the session query and adds the digest', async () => {
  const registry = uploadRegistry();
  await withRegistry(registry, async (server, client) => {
    const data = bytesOf(5);
    assert.equal(await client.uploadBlob('app', { bytes: data }), { digest: sha256Digest(data), size: 5 });
    assert.equal(server.requests.map((r) => r.method), ['POST', 'PUT']);
    const put = server.requests[1];
    assert.is(put?.query.get('_state'), 's=u0');
    assert.is(put?.query.get('digest'), sha256Digest(data));
    assert.is(put?.headers['content-type'], 'application/octet-stream');
    assert.equal(registry.blobs.get(sha256Digest(data)), data);
  });
});

test('a larger blob goes up as PATCH chunks with a Content-Range sequence, each to the latest Location, then a closing PUT', async () => {
  const registry = uploadRegistry();
  await withRegistry(registry, async (server, client) => {
    const data = bytesOf(25);
    await client.uploadBlob('app', { bytes: data }, { chunkSize: 10 });
    assert.equal(server.requests.map((r) => r.method), ['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    assert.equal(server.requestsTo('/v2/app/blobs/uploads/', 'PATCH').map((r) => r.headers['content-range']), ['0-9', '10-19', '20-24']);
    assert.equal(server.requestsTo('/v2/app/blobs/uploads/', 'PATCH').map((r) => r.query.get('_state')), ['s=u0', 's=u0-10', 's=u0-20']);
    assert.is(server.requests[4]?.body.byteLength, 0);
    assert.equal(registry.blobs.get(sha256Digest(data)), data);
  });
});

test('a file is streamed from disk in chunks of the requested size across read boundaries', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'regplan-upload-'));
  try {
    const data = bytesOf(3 * 1024 * 1024 + 123);
    const file = join(dir, 'layer.tar.gz');
    await writeFile(file, data);
    const registry = uploadRegistry();
    await withRegistry(registry, async (server, client) => {
      const chunk = 768 * 1024;
      const result = await client.uploadBlob('app', { path: file, size: data.byteLength, digest: sha256Digest(data) }, { chunkSize: chunk });
      assert.equal(result, { digest: sha256Digest(data), size: data.byteLength });
      const ranges = server.requestsTo('/v2/app/blobs/uploads/', 'PATCH').map((r) => r.headers['content-range']);
      assert.is(ranges.length, 5);
      assert.is(ranges[0], `0-${chunk - 1}`);
      assert.is(ranges[4], `${4 * chunk}-${data.byteLength - 1}`);
      assert.equal(registry.blobs.get(sha256Digest(data)), data);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the registry's OCI-Chunk-Min-Length raises a smaller chunk size", async () => {
  const registry = uploadRegistry({ minChunk: 16 });
  await withRegistry(registry, async (server, client) => {
    await client.uploadBlob('app', { bytes: bytesOf(40) }, { chunkSize: 10 });
    assert.equal(server.requestsTo('/v2/app/blobs/uploads/', 'PATCH').map((r) => r.headers['content-range']), ['0-15', '16-31', '32-39']);
  });
});

test('a file whose digest is wrong is refused by the registry with DIGEST_INVALID', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'regplan-upload-'));
  try {
    const file = join(dir, 'blob');
    await writeFile(file, bytesOf(8));
    await withRegistry(uploadRegistry(), async (_server, client) => {
      const error = await client.uploadBlob('app', { path: file, size: 8, digest: sha256Digest(bytesOf(9)) }).catch((e: unknown) => e);
      assert.instance(error, RegistryError);
      assert.is((error as RegistryError).code, 'DIGEST_INVALID');
      assert.match((error as RegistryError).message, '"provided digest did not match uploaded content"');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mount answers true on 201, and on 202 cancels the opened session and answers false', async () => {
  const known = sha256Digest(bytesOf(3));
  const registry = uploadRegistry({ known: [known] });
  await withRegistry(registry, async (server, client) => {
    assert.ok(await client.mountBlob('app', known, 'base/image'));
    const mountRequest = server.requests[0];
    assert.is(mountRequest?.query.get('mount'), known);
    assert.is(mountRequest?.query.get('from'), 'base/image');
    assert.not.ok(await client.mountBlob('app', sha256Digest(bytesOf(4)), 'base/image'));
    assert.is(server.requests.at(-1)?.method, 'DELETE');
    assert.is(registry.sessions.size, 0, 'the session the 202 opened was cancelled');
  });
});

test.run();
