import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NetworkError, RegistryError, TruncatedBodyError } from '../errors.ts';
import { startScriptedServer, ociError, type ScriptHandler, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient, type RegistryClientOptions } from './client.ts';

async function withServer(handler: ScriptHandler, body: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const client = (server: ScriptedServer, retry: NonNullable<RegistryClientOptions['retry']>) => new RegistryClient({ host: server.host, retry });

/** Answers with `first` for the first `times` requests, then with the tag list. */
function failingThenOk(times: number, first: () => { status: number; headers?: Record<string, string>; body?: object | string }): ScriptHandler {
  let seen = 0;
  return () => (seen++ < times ? first() : { status: 200, body: { name: 'app', tags: ['ok'] } });
}

test('429 with Retry-After in seconds is retried after the delay the registry asked for', async () => {
  await withServer(failingThenOk(1, () => ({ status: 429, headers: { 'retry-after': '1' }, body: ociError('TOOMANYREQUESTS', 'slow down') })), async (server) => {
    const started = Date.now();
    assert.equal(await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 5_000 }).listTags('app'), ['ok']);
    const waited = Date.now() - started;
    assert.ok(waited >= 900, `waited ${waited} ms, Retry-After asked for 1000`);
    assert.is(server.requests.length, 2);
  });
});

test('Retry-After as an HTTP date is honoured', async () => {
  await withServer(failingThenOk(1, () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 2_000).toUTCString() } })), async (server) => {
    const started = Date.now();
    assert.equal(await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 5_000 }).listTags('app'), ['ok']);
    const waited = Date.now() - started;
    assert.ok(waited >= 900, `waited ${waited} ms for a date ~2 s ahead (second resolution)`);
    assert.is(server.requests.length, 2);
  });
});

test('a Retry-After longer than the cap waits only the cap', async () => {
  await withServer(failingThenOk(1, () => ({ status: 429, headers: { 'retry-after': '3600' } })), async (server) => {
    const started = Date.now();
    assert.equal(await client(server, { attempts: 2, baseDelayMs: 1, maxDelayMs: 30 }).listTags('app'), ['ok']);
    assert.ok(Date.now() - started < 2_000);
  });
});

test('429 without Retry-After backs off and is retried until it succeeds', async () => {
  await withServer(failingThenOk(3, () => ({ status: 429 })), async (server) => {
    assert.equal(await client(server, { attempts: 5, baseDelayMs: 1, maxDelayMs: 20 }).listTags('app'), ['ok']);
    assert.is(server.requests.length, 4);
  });
});

test('retries stop after the configured attempts and the last answer is reported with a rate-limit hint', async () => {
  await withServer(() => ({ status: 429, headers: { 'retry-after': '0' }, body: ociError('TOOMANYREQUESTS', 'pull rate limit exceeded') }), async (server) => {
    const error = await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }).listTags('app').catch((e: unknown) => e);
    assert.instance(error, RegistryError);
    const e = error as RegistryError;
    assert.is(e.status, 429);
    assert.is(e.code, 'TOOMANYREQUESTS');
    assert.match(e.message, '"pull rate limit exceeded"');
    assert.match(e.hint ?? '', 'rate limiting');
    assert.is(server.requests.length, 3);
  });
});

test('404 and other 4xx answers are not retried', async () => {
  await withServer(() => ({ status: 404, body: ociError('MANIFEST_UNKNOWN', 'manifest unknown') }), async (server) => {
    assert.is(await client(server, { attempts: 5, baseDelayMs: 1 }).headManifest('app', 'v1'), undefined);
    assert.is(server.requests.length, 1);
  });
  await withServer(() => ({ status: 400, body: ociError('NAME_INVALID', 'invalid repository name') }), async (server) => {
    const error = await client(server, { attempts: 5, baseDelayMs: 1 }).deleteTag('app', 'v1').catch((e: unknown) => e);
    assert.is((error as RegistryError).code, 'NAME_INVALID');
    assert.is(server.requests.length, 1);
  });
});

test('a dropped connection is retried', async () => {
  let seen = 0;
  await withServer(() => (seen++ === 0 ? 'drop' : { status: 200, body: { tags: ['after-drop'] } }), async (server) => {
    assert.equal(await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }).listTags('app'), ['after-drop']);
    assert.is(server.requests.length, 2);
  });
});

test('500, 502 and 504 answers to a GET are retried like 503, until one succeeds', async () => {
  const statuses = [500, 502, 504];
  let seen = 0;
  await withServer(() => (seen < statuses.length ? { status: statuses[seen++] ?? 500, body: ociError('UNKNOWN', 'hiccup') } : { status: 200, body: { tags: ['ok'] } }), async (server) => {
    assert.equal(await client(server, { attempts: 5, baseDelayMs: 1, maxDelayMs: 10 }).listTags('app'), ['ok']);
    assert.is(server.requests.length, 4);
  });
});

test('a DELETE answered 502 is sent again (deleting twice is the same as once)', async () => {
  let seen = 0;
  await withServer(() => (seen++ === 0 ? { status: 502, body: 'Bad Gateway' } : { status: 202 }), async (server) => {
    await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }).deleteManifest('app', `sha256:${'a'.repeat(64)}`);
    assert.is(server.requests.length, 2);
  });
});

test('a POST that opens an upload is not sent again after a 500: the registry may have carried it out', async () => {
  await withServer(() => ({ status: 500, body: ociError('UNKNOWN', 'boom') }), async (server) => {
    const error = await client(server, { attempts: 5, baseDelayMs: 1, maxDelayMs: 10 }).uploadBlob('app', { bytes: new Uint8Array([1, 2, 3]) }).catch((e: unknown) => e);
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 500);
    assert.is(server.requests.length, 1);
  });
});

test('a GET whose body is cut short is sent again and the whole body is used', async () => {
  let seen = 0;
  await withServer(() => (seen++ === 0 ? { status: 200, body: { tags: ['partial', 'x'.repeat(4000)] }, truncateAfter: 100 } : { status: 200, body: { tags: ['whole'] } }), async (server) => {
    assert.equal(await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }).listTags('app'), ['whole']);
    assert.is(server.requests.length, 2);
  });
});

test('a body cut short on every attempt ends in a transport error naming the URL (secrets redacted), not an internal error', async () => {
  await withServer((req) => {
    if (req.query.get('_state') === null) return { status: 200, headers: { link: '</v2/app/tags/list?_state=SECRET-STATE>; rel="next"' }, body: { tags: ['a'] } };
    return { status: 200, body: { tags: ['b', 'x'.repeat(4000)] }, truncateAfter: 50 };
  }, async (server) => {
    const error = await client(server, { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 }).listTags('app').catch((e: unknown) => e);
    assert.instance(error, TruncatedBodyError);
    assert.instance(error, NetworkError);
    const e = error as TruncatedBodyError;
    assert.match(e.message, `GET http://${server.host}/v2/app/tags/list?_state=***`);
    assert.not.match(e.message, 'SECRET-STATE');
    assert.match(e.hint ?? '', 'retried');
    assert.is(server.requests.length, 1 + 3, 'the first page once, the broken page on each of the 3 attempts');
  });
});

test('a chunk of an upload is not resent after a dropped connection (PATCH is not idempotent)', async () => {
  await withServer((req) => (req.method === 'POST' ? { status: 202, headers: { location: '/v2/app/blobs/uploads/u1' } } : 'drop'), async (server) => {
    const error = await client(server, { attempts: 5, baseDelayMs: 1, maxDelayMs: 10 }).uploadBlob('app', { bytes: new Uint8Array(10) }, { chunkSize: 4 }).catch((e: unknown) => e);
    assert.instance(error, NetworkError);
    assert.is(server.requestsTo('/v2/app/blobs/uploads/u1', 'PATCH').length, 1);
  });
});

test('a wait of 2 s or more is announced through onWait before it starts; shorter ones are not', async () => {
  await withServer(failingThenOk(2, () => ({ status: 429, headers: { 'retry-after': seenRetryAfter() } })), async (server) => {
    const notices: { at: number; message: string }[] = [];
    const started = Date.now();
    const announcing = new RegistryClient({ host: server.host, retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5_000 }, onWait: (message) => notices.push({ at: Date.now() - started, message }) });
    assert.equal(await announcing.listTags('app'), ['ok']);
    assert.is(notices.length, 1, notices.map((n) => n.message).join('\n'));
    assert.is(notices[0]?.message, `waiting 2s before retrying GET http://${server.host}/v2/app/tags/list (HTTP 429, Retry-After; attempt 3 of 4)`);
    assert.ok((notices[0]?.at ?? Infinity) < 1_000, 'announced before the wait, not after');
  });
});

let retryAfterCalls = 0;
/** 0 s for the first 429, then 2 s. */
const seenRetryAfter = (): string => (retryAfterCalls++ === 0 ? '0' : '2');

test('a host that refuses connections ends in a NetworkError naming the host', async () => {
  const server = await startScriptedServer(() => ({ status: 200 }));
  const host = server.host;
  await server.close();
  const error = await new RegistryClient({ host, retry: { attempts: 2, baseDelayMs: 1 } }).listTags('app').catch((e: unknown) => e);
  assert.instance(error, NetworkError);
  assert.match((error as NetworkError).message, `cannot reach ${host}`);
  assert.match((error as NetworkError).hint ?? '', 'retried');
});

test.run();
