/**
 * Bounded response bodies: one reader (readBody) that never holds more than its limit, and the caps the client
 * puts on manifests, configs and JSON pages, checked against real loopback servers that send too much.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, isProtocolError, TruncatedBodyError } from '../errors.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient } from './client.ts';
import { BODY_LIMITS, readBody } from './http.ts';
import { MediaType } from './oci.ts';

const MiB = 1 << 20;
const FAST = { attempts: 2, baseDelayMs: 1, maxDelayMs: 10 };

test('readBody stops pulling at the limit and cancels the stream instead of buffering the rest', async () => {
  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 1024;
      controller.enqueue(new Uint8Array(1024));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const error = await readBody(new Response(endless), { limit: 10_000, url: 'https://r.example/v2/app/tags/list?_state=SECRET', what: 'tag list' }).catch((e: unknown) => e);
  assert.instance(error, BodyTooLargeError);
  assert.ok(isProtocolError(error));
  const e = error as BodyTooLargeError;
  assert.is(e.limit, 10_000);
  assert.is(e.code, 'BODY_TOO_LARGE');
  assert.match(e.message, 'tag list from GET https://r.example/v2/app/tags/list?_state=*** is larger than 10000 bytes');
  assert.not.match(e.message, 'SECRET');
  assert.ok(pulled <= 11 * 1024, `pulled ${pulled} bytes for a 10000-byte limit`);
  assert.ok(cancelled, 'the stream was cancelled');
});

test('readBody refuses a Content-Length above the limit without reading the body', async () => {
  let pulled = false;
  const stream = new ReadableStream<Uint8Array>({ pull: () => void (pulled = true) }, { highWaterMark: 0 });
  const response = new Response(stream, { headers: { 'content-length': String(5 * MiB) } });
  const error = await readBody(response, { limit: 4 * MiB, url: 'https://r.example/v2/app/manifests/v1', what: 'manifest' }).catch((e: unknown) => e);
  assert.instance(error, BodyTooLargeError);
  assert.match((error as Error).message, 'larger than 4 MiB');
  assert.not.ok(pulled);
});

test('readBody returns the bytes, or text with as: "text"; a body that breaks off is a TruncatedBodyError', async () => {
  const url = 'https://r.example/x';
  assert.equal(await readBody(new Response('héllo'), { limit: 100, url, what: 'greeting' }), new TextEncoder().encode('héllo'));
  assert.is(await readBody(new Response('héllo'), { limit: 100, url, what: 'greeting', as: 'text' }), 'héllo');
  assert.is(await readBody(new Response(null, { status: 204 }), { limit: 100, url, what: 'nothing', as: 'text' }), '');
  const broken = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(3));
      controller.error(new TypeError('terminated'));
    },
  });
  const error = await readBody(new Response(broken), { limit: 100, url, what: 'greeting' }).catch((e: unknown) => e);
  assert.instance(error, TruncatedBodyError);
  assert.match((error as Error).message, 'https://r.example/x');
  assert.equal(await readBody(new Response(broken2()), { limit: 100, url, what: 'error body', truncate: true, as: 'text' }), 'abc', 'truncate: keeps what arrived');
  assert.equal(await readBody(new Response('0123456789'), { limit: 4, url, what: 'error body', truncate: true, as: 'text' }), '0123', 'truncate: stops at the limit');
});

/** "abc", then the connection breaks (the error comes on the next pull, after "abc" was read). */
function broken2(): ReadableStream<Uint8Array> {
  let pulls = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(new TextEncoder().encode('abc'));
      else controller.error(new TypeError('terminated'));
    },
  }, { highWaterMark: 0 });
}

test('a manifest over 4 MiB is refused with its URL and the limit, and not fetched again', async () => {
  const huge = new Uint8Array(BODY_LIMITS.manifest + 1).fill(0x20);
  const server = await startScriptedServer(() => ({ status: 200, headers: { 'content-type': MediaType.ociManifest }, body: huge }));
  try {
    const error = await new RegistryClient({ host: server.host, retry: FAST }).getManifest('app', 'v1').catch((e: unknown) => e);
    assert.instance(error, BodyTooLargeError);
    assert.match((error as Error).message, `manifest from GET http://${server.host}/v2/app/manifests/v1 is larger than 4 MiB`);
    assert.match((error as BodyTooLargeError).hint ?? '', '4 MiB');
    assert.is(server.requests.length, 1, 'a body over its limit is not retried');
  } finally {
    await server.close();
  }
});

test('a tag list page of 500k tags, within the cap, is read whole (no call-stack overflow on a big page)', async () => {
  const tags = Array.from({ length: 500_000 }, (_, i) => `build-${i}`);
  const server = await startScriptedServer(() => ({ status: 200, body: { name: 'app', tags } }));
  try {
    const listed = await new RegistryClient({ host: server.host, retry: FAST }).listTags('app');
    assert.is(listed.length, tags.length);
    assert.is(listed.at(-1), 'build-499999');
  } finally {
    await server.close();
  }
});

test('a tag list that never ends is cut off at its 16 MiB limit instead of filling memory', async () => {
  let written = 0;
  let stop = false;
  const server = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"tags":["');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = (): void => {
      // Stops on its own at 64 MiB, so an unbounded client fails the assertions below instead of hanging.
      while (!stop && written < 64 * MiB) {
        written += chunk.byteLength;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('"]}');
    };
    res.on('close', () => void (stop = true));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const error = await new RegistryClient({ host, retry: FAST }).listTags('app').catch((e: unknown) => e);
    assert.instance(error, BodyTooLargeError);
    assert.match((error as Error).message, `GET http://${host}/v2/app/tags/list is larger than 16 MiB`);
    assert.ok(written < 32 * MiB, `the server got to write ${Math.round(written / MiB)} MiB before the client hung up`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test.run();
