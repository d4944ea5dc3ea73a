/**
 * The transport's own knobs against loopback servers: the vendor retry hook (retryWhen), the per-run defaults
 * a command sets (timeout, wait notices), and plain http only where the user allowed it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isProtocolError, NetworkError, ProtocolError } from '../errors.ts';
import { startLoopbackServer } from '../../test/support/loopback-server.ts';
import { startScriptedServer, type ScriptHandler, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient } from './client.ts';
import { HttpTransport, withTransportDefaults, type TransportOptions } from './http.ts';
import { SecretSet } from './redact.ts';

async function withServer(handler: ScriptHandler, body: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const transport = (options: Partial<TransportOptions> = {}): HttpTransport =>
  new HttpTransport({ allowHttp: () => true, secrets: new SecretSet(), retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 20 }, ...options });

/** GitHub's way of saying "rate limited": 403 with x-ratelimit-remaining: 0. */
const githubRateLimit = (response: Response): number | undefined =>
  response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0' ? 5 : undefined;

test('retryWhen: an answer the vendor hook recognises is retried after the wait it returns', async () => {
  let seen = 0;
  await withServer(() => (seen++ === 0 ? { status: 403, headers: { 'x-ratelimit-remaining': '0' }, body: { message: 'API rate limit exceeded' } } : { status: 200, body: { ok: true } }), async (server) => {
    const { response } = await transport({ retryWhen: githubRateLimit }).send({ method: 'GET', url: `${server.url}/user/packages` });
    assert.is(response.status, 200);
    assert.equal(await response.json(), { ok: true });
    assert.is(server.requests.length, 2);
  });
});

test('retryWhen: undefined is not retried; a recognised answer uses the same attempt budget and cap, then is returned', async () => {
  await withServer(() => ({ status: 403, body: { message: 'Must have admin rights' } }), async (server) => {
    const { response } = await transport({ retryWhen: githubRateLimit }).send({ method: 'DELETE', url: `${server.url}/user/packages/1` });
    assert.is(response.status, 403);
    assert.is(server.requests.length, 1);
  });
  await withServer(() => ({ status: 409, body: { error: 'garbage collection in progress' } }), async (server) => {
    const started = Date.now();
    const { response } = await transport({ retryWhen: (r) => (r.status === 409 ? 3_600_000 : undefined) }).send({ method: 'POST', url: `${server.url}/api/v1/gc` });
    assert.is(response.status, 409);
    assert.match(await response.text(), 'garbage collection');
    assert.is(server.requests.length, 3, 'attempts: 3');
    assert.ok(Date.now() - started < 2_000, 'an hour-long wait is capped at maxDelayMs');
  });
});

test('transports built inside withTransportDefaults use its timeout (settings.timeout) and wait notices', async () => {
  await withServer(() => new Promise(() => {}), async (server) => {
    const started = Date.now();
    const error = await withTransportDefaults({ timeoutMs: 200 }, () => new RegistryClient({ host: server.host, retry: { attempts: 1 } }).listTags('app')).catch((e: unknown) => e);
    assert.instance(error, NetworkError);
    assert.match((error as Error).message, 'timed out after 0.2s');
    assert.ok(Date.now() - started < 3_000, `gave up after ${Date.now() - started} ms`);
  });
  await withServer(() => ({ status: 200, body: { tags: [] } }), async (server) => {
    const outside = new RegistryClient({ host: server.host });
    const inside = withTransportDefaults({ timeoutMs: 1_000, onWait: () => {} }, () => new RegistryClient({ host: server.host }));
    assert.equal(await outside.listTags('app'), []);
    assert.equal(await inside.listTags('app'), []);
  });
});

/** A fetch that delivers every request to the loopback `server`, whatever host the URL names (real HTTP, no fake answers). */
const viaLoopback = (server: ScriptedServer): typeof fetch => async (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  url.protocol = 'http:';
  url.host = server.host;
  return fetch(new Request(url, request));
};

const credentials = async () => ({ username: 'me', password: 'pa55word', source: 'test' });

test('an insecure registry does not make plain http acceptable for a token realm on another host', async () => {
  await withServer((req) => {
    if (req.path === '/token') return { status: 200, body: { token: 'tok' } };
    if (req.headers['authorization'] !== 'Bearer tok') return { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://auth.internal/token",service="registry"' } };
    return { status: 200, body: { tags: ['v1'] } };
  }, async (server) => {
    const client = new RegistryClient({ host: 'registry.internal:5000', insecure: true, credentials, fetch: viaLoopback(server), retry: { attempts: 1 } });
    const error = await client.listTags('app').catch((e: unknown) => e);
    assert.instance(error, ProtocolError);
    assert.ok(isProtocolError(error));
    assert.match((error as ProtocolError).message, 'refusing to contact http://auth.internal/token');
    assert.match((error as ProtocolError).hint ?? '', 'registry.internal:5000');
    assert.is(server.requestsTo('/token').length, 0, 'the credentials never went out');
  });
});

test('a token realm on the insecure registry\'s own host may use plain http', async () => {
  await withServer((req) => {
    if (req.path === '/token') return { status: 200, body: { token: 'tok' } };
    if (req.headers['authorization'] !== 'Bearer tok') return { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://registry.internal:5000/token",service="registry"' } };
    return { status: 200, body: { tags: ['v1'] } };
  }, async (server) => {
    const client = new RegistryClient({ host: 'registry.internal:5000', insecure: true, credentials, fetch: viaLoopback(server), retry: { attempts: 1 } });
    assert.equal(await client.listTags('app'), ['v1']);
    assert.is(server.requestsTo('/token').length, 1);
  });
});


test('connections: HEADs and GETs reuse kept-alive connections, at most settings.concurrency per host', async () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const server = await startLoopbackServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest, 'content-length': '2' });
    res.end(req.method === 'HEAD' ? undefined : '{}');
  });
  let connections = 0;
  server.server.on('connection', () => connections++);
  try {
    await withTransportDefaults({ connectionsPerHost: 3 }, async () => {
      const client = new RegistryClient({ host: server.host });
      for (let round = 0; round < 4; round++) await Promise.all(Array.from({ length: 10 }, (_, i) => client.headManifest('acme/app', `t${round}-${i}`)));
      await client.listTags('acme/app');
    });
    assert.ok(connections <= 3, `40 HEADs and a GET at concurrency 10 opened ${connections} connections, more than the 3 allowed`);
  } finally {
    await server.close();
  }
});

test.run();
