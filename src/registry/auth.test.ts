import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, isAuthError } from '../errors.ts';
import type { Credential } from '../credentials/types.ts';
import { startScriptedServer, ociError, type RecordedRequest, type ScriptedResponse, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient, type RegistryClientOptions } from './client.ts';

const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 50 };
const CANARY_PASSWORD = 'canary-pass-7f3e9a';
const CANARY_TOKEN = 'canary-token-51c2d8';

/** A registry guarded by a token server on the same port: `/token` issues tokens, `/v2/` wants them. */
function tokenRegistry(options: { expiresIn?: number; postStatus?: number; acceptBasic?: string } = {}) {
  let issued = 0;
  const handler = (req: RecordedRequest, server: ScriptedServer): ScriptedResponse => {
    if (req.path === '/token') {
      if (req.method === 'POST' && options.postStatus !== undefined) return { status: options.postStatus, body: '404 page not found' };
      if (options.acceptBasic !== undefined && req.method === 'GET' && req.headers['authorization'] !== options.acceptBasic) {
        return { status: 401, body: ociError('UNAUTHORIZED', 'bad credentials') };
      }
      issued++;
      const scope = req.method === 'POST' ? new URLSearchParams(req.bodyText).get('scope') ?? '' : req.query.getAll('scope').join(' ');
      return { status: 200, body: { token: `${CANARY_TOKEN}-${issued}|${scope}`, ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }) } };
    }
    const auth = req.headers['authorization'] ?? '';
    if (!auth.startsWith(`Bearer ${CANARY_TOKEN}`)) {
      return {
        status: 401,
        headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="test-registry",scope="repository:app:pull"`, 'docker-distribution-api-version': 'registry/2.0' },
        body: ociError('UNAUTHORIZED', 'authentication required', [{ Type: 'repository', Name: 'app', Action: 'pull' }]),
      };
    }
    return { status: 200, body: { name: 'app', tags: ['v1', 'v2'] } };
  };
  return { handler, issued: () => issued };
}

async function withServer(handler: Parameters<typeof startScriptedServer>[0], body: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

const client = (server: ScriptedServer, extra: Partial<RegistryClientOptions> = {}) => new RegistryClient({ host: server.host, retry: FAST, ...extra });
const provider = (credential: Credential | undefined) => {
  let calls = 0;
  const fn = async () => {
    calls++;
    return credential;
  };
  return { fn, calls: () => calls };
};

test('a 401 challenge leads to a GET token with the scope and Basic credentials, and the token is reused', async () => {
  const registry = tokenRegistry();
  await withServer(registry.handler, async (server) => {
    const creds = provider({ username: 'alice', password: CANARY_PASSWORD, source: 'auths["test"] in config.json' });
    const c = client(server, { credentials: creds.fn });
    assert.equal(await c.listTags('app'), ['v1', 'v2']);
    assert.equal(await c.listTags('app'), ['v1', 'v2']);
    assert.is(registry.issued(), 1, 'one token fetched for two listings');
    assert.is(creds.calls(), 1, 'credentials loaded once');
    const [tokenRequest] = server.requestsTo('/token');
    assert.is(tokenRequest?.method, 'GET');
    assert.is(tokenRequest?.query.get('service'), 'test-registry');
    assert.equal(tokenRequest?.query.getAll('scope'), ['repository:app:pull']);
    assert.is(tokenRequest?.headers['authorization'], `Basic ${btoa(`alice:${CANARY_PASSWORD}`)}`);
    assert.is(server.requestsTo('/v2/').length, 3, 'anonymous try, retry with token, then straight with the cached token');
  });
});

test('several scopes are sent as repeated scope params (mount needs push on one repo and pull on another)', async () => {
  await withServer((req, server) => {
    if (req.path === '/token') return { status: 200, body: { access_token: `${CANARY_TOKEN}-x` } };
    if (!(req.headers['authorization'] ?? '').startsWith('Bearer ')) {
      return { status: 401, headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="svc"` }, body: ociError('UNAUTHORIZED', 'no') };
    }
    return { status: 201, headers: { location: '/v2/app/blobs/sha256:aa' } };
  }, async (server) => {
    assert.ok(await client(server).mountBlob('app', 'sha256:aa', 'base/img'));
    const [tokenRequest] = server.requestsTo('/token');
    assert.equal(tokenRequest?.query.getAll('scope'), ['repository:app:pull,push', 'repository:base/img:pull']);
    assert.is(server.requestsTo('/v2/app/blobs/uploads/').at(-1)?.headers['authorization'], `Bearer ${CANARY_TOKEN}-x`, 'access_token is used when token is absent');
  });
});

test('an identity token is exchanged with the OAuth2 POST form (grant_type=refresh_token)', async () => {
  const registry = tokenRegistry();
  await withServer(registry.handler, async (server) => {
    const c = client(server, { credentials: provider({ identityToken: 'idtok-secret-1234', source: 'identitytoken' }).fn });
    assert.equal(await c.listTags('app'), ['v1', 'v2']);
    const [post] = server.requestsTo('/token');
    assert.is(post?.method, 'POST');
    assert.match(post?.headers['content-type'] ?? '', 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(post?.bodyText);
    assert.is(form.get('grant_type'), 'refresh_token');
    assert.is(form.get('refresh_token'), 'idtok-secret-1234');
    assert.is(form.get('service'), 'test-registry');
    assert.is(form.get('scope'), 'repository:app:pull');
    assert.ok(form.get('client_id'));
  });
});

test('when the OAuth2 POST answers 404 the GET form is used instead', async () => {
  const registry = tokenRegistry({ postStatus: 404 });
  await withServer(registry.handler, async (server) => {
    const c = client(server, { credentials: provider({ username: 'bob', identityToken: 'idtok-secret-1234', source: 'x' }).fn });
    assert.equal(await c.listTags('app'), ['v1', 'v2']);
    assert.equal(server.requestsTo('/token').map((r) => r.method), ['POST', 'GET']);
    assert.is(server.requestsTo('/token', 'GET')[0]?.headers['authorization'], `Basic ${btoa('bob:idtok-secret-1234')}`);
  });
});

test('an expired token is fetched again; expires_in defaults to 60 seconds', async () => {
  const registry = tokenRegistry();
  await withServer(registry.handler, async (server) => {
    let now = 1_000_000;
    const c = client(server, { now: () => now });
    await c.listTags('app');
    now += 45_000; // inside 60 s minus the margin
    await c.listTags('app');
    assert.is(registry.issued(), 1);
    now += 20_000; // past 60 s
    await c.listTags('app');
    assert.is(registry.issued(), 2);
  });
});

test('an explicit expires_in is honoured', async () => {
  const registry = tokenRegistry({ expiresIn: 600 });
  await withServer(registry.handler, async (server) => {
    let now = 0;
    const c = client(server, { now: () => now });
    await c.listTags('app');
    now += 300_000;
    await c.listTags('app');
    assert.is(registry.issued(), 1);
  });
});

test('a Basic challenge is answered with Basic credentials on the retry and on later requests', async () => {
  const expected = `Basic ${btoa(`alice:${CANARY_PASSWORD}`)}`;
  await withServer((req) => {
    if (req.headers['authorization'] !== expected) return { status: 401, headers: { 'www-authenticate': 'Basic realm="Registry Realm"' }, body: ociError('UNAUTHORIZED', 'authentication required') };
    return { status: 200, body: { name: 'app', tags: null } };
  }, async (server) => {
    const c = client(server, { credentials: provider({ username: 'alice', password: CANARY_PASSWORD, source: 'htpasswd login' }).fn });
    assert.equal(await c.listTags('app'), []);
    assert.equal(await c.listTags('app'), []);
    assert.equal(server.requests.map((r) => r.headers['authorization'] === expected), [false, true, true]);
  });
});

test('a registry token is sent straight as Bearer without asking the token server', async () => {
  await withServer((req, server) => {
    if (req.path === '/token') return { status: 500, body: 'must not be called' };
    if (req.headers['authorization'] !== `Bearer ${CANARY_TOKEN}`) return { status: 401, headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="s"` } };
    return { status: 200, body: { tags: ['a'] } };
  }, async (server) => {
    const c = client(server, { credentials: provider({ registryToken: CANARY_TOKEN, source: 'registrytoken' }).fn });
    assert.equal(await c.listTags('app'), ['a']);
    assert.is(server.requestsTo('/token').length, 0);
  });
});

test('rejected credentials fail with an AuthError naming their source, and no secret in message or debug output', async () => {
  const registry = tokenRegistry({ acceptBasic: 'Basic nope' });
  await withServer(registry.handler, async (server) => {
    const lines: string[] = [];
    const c = client(server, { credentials: provider({ username: 'alice', password: CANARY_PASSWORD, source: 'credHelpers["x"] -> docker-credential-x' }).fn, debug: (l) => lines.push(l) });
    const error = await c.listTags('app').then(() => undefined, (e: unknown) => e);
    assert.ok(isAuthError(error), String(error));
    const e = error as AuthError;
    assert.is(e.status, 401);
    assert.match(e.message, 'bad credentials');
    assert.match(e.hint ?? '', 'credHelpers["x"] -> docker-credential-x');
    assert.match(e.hint ?? '', `docker login ${server.host}`);
    const everything = [e.message, e.hint ?? '', ...lines].join('\n');
    assert.not.match(everything, CANARY_PASSWORD);
    assert.not.match(everything, btoa(`alice:${CANARY_PASSWORD}`));
    assert.ok(lines.some((l) => /^GET http:\/\/127\.0\.0\.1:\d+\/token\?service=test-registry&scope=repository%3Aapp%3Apull -> 401/.test(l)), lines.join('\n'));
  });
});

test('debug lines name method, url and status but never a token or password', async () => {
  const registry = tokenRegistry();
  await withServer(registry.handler, async (server) => {
    const lines: string[] = [];
    const c = client(server, { credentials: provider({ username: 'alice', password: CANARY_PASSWORD, source: 's' }).fn, debug: (l) => lines.push(l) });
    await c.listTags('app');
    assert.is(lines.length, 3, lines.join('\n'));
    assert.match(lines[0] ?? '', /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/app\/tags\/list -> 401 \(\d+ ms\)$/);
    assert.match(lines[2] ?? '', / -> 200 /);
    assert.not.match(lines.join('\n'), /canary/);
  });
});

test('a 401 without credentials says none were found and how to log in', async () => {
  await withServer(() => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="r"' }, body: ociError('UNAUTHORIZED', 'authentication required') }), async (server) => {
    const error = (await client(server).listTags('app').catch((e: unknown) => e)) as AuthError;
    assert.instance(error, AuthError);
    assert.match(error.message, `registry ${server.host} refused GET of "app": UNAUTHORIZED "authentication required"`);
    assert.match(error.hint ?? '', `no credentials were found for ${server.host}`);
  });
});

test('scopes named in a challenge (insufficient_scope) are added to the token request', async () => {
  await withServer((req, server) => {
    if (req.path === '/token') return { status: 200, body: { token: `${CANARY_TOKEN}|${req.query.getAll('scope').join(' ')}` } };
    const auth = req.headers['authorization'] ?? '';
    if (auth.includes('repository:app:pull') && auth.includes('repository:shared/base:pull')) return { status: 404 };
    return {
      status: 401,
      headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="s",scope="repository:app:pull repository:shared/base:pull"${auth ? ',error="insufficient_scope"' : ''}` },
      body: ociError('UNAUTHORIZED', 'authentication required'),
    };
  }, async (server) => {
    const c = client(server);
    assert.is(await c.headManifest('app', 'v1'), undefined);
    assert.is(await c.headManifest('app', 'v2'), undefined);
    assert.equal(server.requestsTo('/token').map((r) => r.query.getAll('scope').join(' ')), [
      'repository:app:pull repository:shared/base:pull',
      'repository:app:pull',
    ], 'the union token is reused from the cache for v2');
  });
});

test('a cached token the registry refuses (revoked) is replaced by a fresh one', async () => {
  let issued = 0;
  let accepted = `${CANARY_TOKEN}-1`;
  await withServer((req, server) => {
    if (req.path === '/token') return { status: 200, body: { token: `${CANARY_TOKEN}-${++issued}` } };
    if (req.headers['authorization'] !== `Bearer ${accepted}`) return { status: 401, headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="s"` } };
    return { status: 200, body: { tags: ['t'] } };
  }, async (server) => {
    const c = client(server);
    assert.equal(await c.listTags('app'), ['t']);
    accepted = `${CANARY_TOKEN}-2`;
    assert.equal(await c.listTags('app'), ['t']);
    assert.is(issued, 2);
  });
});

test('ping reports the challenge and the next request is authorized up front', async () => {
  const registry = tokenRegistry();
  await withServer(registry.handler, async (server) => {
    const c = client(server);
    const pinged = await c.ping();
    assert.is(pinged.status, 401);
    assert.is(pinged.challenge?.scheme, 'bearer');
    assert.is(pinged.challenge?.service, 'test-registry');
    await c.listTags('app');
    assert.equal(server.requests.map((r) => r.path), ['/v2/', '/token', '/v2/app/tags/list']);
  });
});

test.run();
