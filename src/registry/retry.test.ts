import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NetworkError, RegistryError } from '../errors.ts';
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
