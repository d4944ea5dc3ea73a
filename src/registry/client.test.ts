import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isNotFound, ProtocolError, RegistryError } from '../errors.ts';
import { InvalidNameError } from '../model/names.ts';
import { startScriptedServer, ociError, type ScriptHandler, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { RegistryClient, nextLink } from './client.ts';
import { sha256Digest } from './digest.ts';
import { MANIFEST_ACCEPT, MediaType } from './oci.ts';

const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 50 };
const manifestBytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: 'sha256:cc', size: 2 }, layers: [] }));
const manifestDigest = sha256Digest(manifestBytes);

async function withServer(handler: ScriptHandler, body: (server: ScriptedServer, client: RegistryClient) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    await body(server, new RegistryClient({ host: server.host, retry: FAST }));
  } finally {
    await server.close();
  }
}

const failure = (promise: Promise<unknown>): Promise<RegistryError> =>
  promise.then(
    () => assert.unreachable('expected a failure') as never,
    (e: unknown) => {
      assert.instance(e, RegistryError);
      return e as RegistryError;
    },
  );

/** The failure must be a ProtocolError (no HTTP status to blame); returns it. */
const protocolFailure = (promise: Promise<unknown>): Promise<ProtocolError> =>
  promise.then(
    () => assert.unreachable('expected a failure') as never,
    (e: unknown) => {
      assert.instance(e, ProtocolError);
      return e as ProtocolError;
    },
  );

test('tags are collected across Link pages, relative and absolute, and "tags": null counts as none', async () => {
  await withServer((req, server) => {
    const last = req.query.get('last');
    if (last === null) return { status: 200, headers: { link: '</v2/app/tags/list?n=2&last=b>; rel="next"' }, body: { name: 'app', tags: ['a', 'b'] } };
    if (last === 'b') return { status: 200, headers: { link: `<${server.url}/v2/app/tags/list?n=2&last=d>; rel="next"` }, body: { name: 'app', tags: ['c', 'd'] } };
    return { status: 200, body: { name: 'app', tags: null } };
  }, async (server, client) => {
    assert.equal(await client.listTags('app', { pageSize: 2 }), ['a', 'b', 'c', 'd']);
    assert.equal(server.requests.map((r) => r.url), ['/v2/app/tags/list?n=2', '/v2/app/tags/list?n=2&last=b', '/v2/app/tags/list?n=2&last=d']);
  });
});

test('a repository that does not exist (404 NAME_UNKNOWN) has no tags', async () => {
  await withServer(() => ({ status: 404, body: ociError('NAME_UNKNOWN', 'repository name not known to registry') }), async (_server, client) => {
    assert.equal(await client.listTags('nope'), []);
  });
});

test('nextLink finds rel="next" among several links and ignores other relations', () => {
  const base = new URL('http://h/v2/a/tags/list');
  assert.is(nextLink('<http://x/prev>; rel="prev", </v2/a/tags/list?last=z>; rel="next"', base)?.href, 'http://h/v2/a/tags/list?last=z');
  assert.is(nextLink('<http://x/p>; rel=next', base)?.href, 'http://x/p');
  assert.is(nextLink('<http://x/p>; rel="prev"', base), undefined);
  assert.is(nextLink(null, base), undefined);
});

test('HEAD manifest sends the full Accept list and returns the descriptor from the headers', async () => {
  await withServer((req) => {
    if (req.path === '/v2/app/manifests/v1') return { status: 200, headers: { 'docker-content-digest': manifestDigest, 'content-type': MediaType.ociManifest, 'content-length': String(manifestBytes.byteLength) } };
    return { status: 404, body: ociError('MANIFEST_UNKNOWN', 'manifest unknown') };
  }, async (server, client) => {
    assert.equal(await client.headManifest('app', 'v1'), { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.byteLength });
    assert.is(await client.headManifest('app', 'missing'), undefined);
    const accept = server.requests[0]?.headers['accept'] ?? '';
    for (const type of MANIFEST_ACCEPT) assert.match(accept, type);
    assert.is(server.requests[0]?.method, 'HEAD');
  });
});

test('GET manifest returns bytes, parsed manifest and a descriptor verified against the digest', async () => {
  await withServer(() => ({ status: 200, headers: { 'docker-content-digest': manifestDigest, 'content-type': MediaType.ociManifest }, body: manifestBytes }), async (_server, client) => {
    const got = await client.getManifest('app', manifestDigest);
    assert.equal(got.descriptor, { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.byteLength });
    assert.equal(got.bytes, manifestBytes);
    assert.is((got.manifest as { config: { digest: string } }).config.digest, 'sha256:cc');
  });
});

test('a manifest whose bytes do not match the requested digest is refused', async () => {
  const other = sha256Digest(new TextEncoder().encode('something else'));
  await withServer(() => ({ status: 200, headers: { 'content-type': MediaType.ociManifest }, body: manifestBytes }), async (_server, client) => {
    const error = await protocolFailure(client.getManifest('app', other));
    assert.is(error.code, 'DIGEST_INVALID');
    assert.match(error.message, `hashes to ${manifestDigest}, not ${other}`);
  });
});

test('a Docker-Content-Digest that disagrees with the body is refused when fetching by tag', async () => {
  const wrong = sha256Digest(new TextEncoder().encode('x'));
  await withServer(() => ({ status: 200, headers: { 'docker-content-digest': wrong, 'content-type': MediaType.ociManifest }, body: manifestBytes }), async (_server, client) => {
    assert.is((await protocolFailure(client.getManifest('app', 'v1'))).code, 'DIGEST_INVALID');
  });
});

test('a blob redirected to another origin is fetched there without the Authorization header', async () => {
  const blob = new TextEncoder().encode('{"created":"2024-01-02T03:04:05Z"}');
  const digest = sha256Digest(blob);
  const storage = await startScriptedServer(() => ({ status: 200, body: blob }));
  try {
    await withServer((req, server) => {
      if (req.path === '/token') return { status: 200, body: { token: 'blob-token-123' } };
      if (req.headers['authorization'] !== 'Bearer blob-token-123') return { status: 401, headers: { 'www-authenticate': `Bearer realm="${server.url}/token",service="s"` } };
      if (req.path === `/v2/app/blobs/${digest}`) return { status: 307, headers: { location: `${storage.url}/store/abc?X-Amz-Signature=sig` } };
      return { status: 404 };
    }, async (server, client) => {
      const config = await client.getConfig('app', { mediaType: MediaType.ociConfig, digest, size: blob.byteLength });
      assert.is(config.created, '2024-01-02T03:04:05Z');
      assert.is(server.requestsTo('/v2/app/blobs/').at(-1)?.headers['authorization'], 'Bearer blob-token-123', 'the registry itself got the token');
      assert.is(storage.requests.length, 1);
      assert.is(storage.requests[0]?.headers['authorization'], undefined, 'storage on another origin got no Authorization');
      assert.is(storage.requests[0]?.query.get('X-Amz-Signature'), 'sig', 'the signed query is kept');
    });
  } finally {
    await storage.close();
  }
});

test('a blob whose content does not match its digest is refused', async () => {
  await withServer(() => ({ status: 200, body: 'tampered' }), async (_server, client) => {
    assert.is((await protocolFailure(client.getBlob('app', sha256Digest(new TextEncoder().encode('original'))))).code, 'DIGEST_INVALID');
  });
});

test('plain http to a non-loopback host is refused before any request is sent', async () => {
  let calls = 0;
  const counting: typeof fetch = async (...args) => {
    calls++;
    return fetch(...args);
  };
  assert.throws(() => new RegistryClient({ host: 'http://registry.example.com', fetch: counting }), (e: unknown) => e instanceof ProtocolError && e.code === 'INSECURE_SCHEME' && /only https is allowed/.test(e.message) && /insecure: true/.test(e.hint ?? ''));
  assert.is(calls, 0);
  assert.is(new RegistryClient({ host: 'registry.example.com' }).baseUrl.href, 'https://registry.example.com/');
  assert.is(new RegistryClient({ host: 'registry.example.com', insecure: true }).baseUrl.href, 'http://registry.example.com/');
  assert.is(new RegistryClient({ host: 'docker.io' }).baseUrl.href, 'https://registry-1.docker.io/');
  assert.is(new RegistryClient({ host: 'localhost:5000' }).baseUrl.href, 'http://localhost:5000/');
});

test('a redirect to plain http on a non-loopback host is not followed', async () => {
  await withServer(() => ({ status: 302, headers: { location: 'http://storage.example.invalid/blob' } }), async (server, client) => {
    const error = await protocolFailure(client.getBlob('app', manifestDigest));
    assert.match(error.message, 'refusing to contact http://storage.example.invalid/blob');
    assert.is(server.requests.length, 1);
  });
});

test('a 500 with a non-JSON body is a RegistryError with code UNKNOWN quoting the body, after the retries', async () => {
  await withServer(() => ({ status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>Internal error</h1>' }), async (server, client) => {
    const error = await failure(client.listTags('app'));
    assert.is(error.status, 500);
    assert.is(error.code, 'UNKNOWN');
    assert.is(error.message, `registry ${server.host} refused GET of "app": HTTP 500 "<h1>Internal error</h1>"`);
    assert.is(server.requests.length, FAST.attempts, 'a GET answered 500 is retried');
  });
});

test('deleting a manifest by digest sends DELETE and accepts 202', async () => {
  await withServer(() => ({ status: 202 }), async (server, client) => {
    await client.deleteManifest('app', manifestDigest);
    assert.is(server.requests[0]?.method, 'DELETE');
    assert.is(server.requests[0]?.path, `/v2/app/manifests/${manifestDigest}`);
  });
});

test('deleting a missing manifest fails with a not-found error quoting the registry', async () => {
  await withServer(() => ({ status: 404, body: ociError('MANIFEST_UNKNOWN', 'manifest unknown') }), async (server, client) => {
    const error = await failure(client.deleteManifest('app', manifestDigest));
    assert.ok(isNotFound(error));
    assert.is(error.message, `registry ${server.host} refused DELETE of "app@${manifestDigest}": MANIFEST_UNKNOWN "manifest unknown"`);
  });
});

test('deletes disabled (405 UNSUPPORTED) say how to enable them', async () => {
  await withServer(() => ({ status: 405, body: ociError('UNSUPPORTED', 'The operation is unsupported.') }), async (_server, client) => {
    const error = await failure(client.deleteManifest('app', manifestDigest));
    assert.is(error.code, 'UNSUPPORTED');
    assert.match(error.hint ?? '', 'storage.delete.enabled');
  });
});

test('a registry that cannot untag answers DELETE of a tag with 400 UNSUPPORTED, kept as the error code', async () => {
  await withServer(() => ({ status: 400, body: ociError('UNSUPPORTED', 'The operation is unsupported.') }), async (server, client) => {
    const error = await failure(client.deleteTag('app', 'v1'));
    assert.is(error.code, 'UNSUPPORTED');
    assert.is(error.status, 400);
    assert.is(server.requests[0]?.path, '/v2/app/manifests/v1');
    assert.match(error.hint ?? '', 'by digest');
  });
});

test('putManifest sends the media type and returns the digest, refusing a registry that stored something else', async () => {
  await withServer((req) => ({ status: 201, headers: { 'docker-content-digest': req.path.endsWith('/bad') ? sha256Digest(new Uint8Array([1])) : sha256Digest(req.body), location: `/v2/app/manifests/${sha256Digest(req.body)}` } }), async (server, client) => {
    assert.is(await client.putManifest('app', 'v1', manifestBytes, MediaType.ociManifest), manifestDigest);
    assert.is(server.requests[0]?.headers['content-type'], MediaType.ociManifest);
    assert.equal(server.requests[0]?.body, manifestBytes);
    assert.is((await protocolFailure(client.putManifest('app', 'bad', manifestBytes, MediaType.ociManifest))).code, 'DIGEST_INVALID');
  });
});

test('referrers are listed when the API exists and undefined when it answers 404', async () => {
  const referrer = { mediaType: MediaType.ociManifest, digest: `sha256:${'d'.repeat(64)}`, size: 10, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };
  await withServer((req) => (req.path.startsWith('/v2/app/') ? { status: 200, headers: { 'content-type': MediaType.ociIndex }, body: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [referrer] } } : { status: 404, body: '404 page not found' }), async (_server, client) => {
    assert.equal(await client.listReferrers('app', manifestDigest), [referrer]);
    assert.is(await client.listReferrers('old', manifestDigest), undefined);
  });
});

test('hasBlob is true on 200 and false on 404', async () => {
  await withServer((req) => ({ status: req.path.endsWith('aa') ? 200 : 404 }), async (_server, client) => {
    assert.ok(await client.hasBlob('app', `sha256:${'a'.repeat(64)}`));
    assert.not.ok(await client.hasBlob('app', `sha256:${'b'.repeat(64)}`));
  });
});

test('a hostile tag never reaches the wire: HEAD, GET, PUT and DELETE throw InvalidNameError before any request', async () => {
  await withServer(() => ({ status: 202 }), async (server, client) => {
    for (const tag of ['pr-1/../v1.0.0', '../../../v2/other/manifests/latest', 'pr-2%2f..%2fv1', '%2e%2e', 'pr-3\u001b[2J', `pr-${'x'.repeat(197)}`]) {
      for (const call of [() => client.headManifest('app', tag), () => client.getManifest('app', tag), () => client.deleteTag('app', tag), () => client.putManifest('app', tag, manifestBytes, MediaType.ociManifest)]) {
        try {
          await call();
          assert.unreachable(`expected ${JSON.stringify(tag)} to be refused`);
        } catch (error) {
          assert.instance(error, InvalidNameError, String(error));
        }
      }
    }
    for (const call of [() => client.deleteManifest('app', 'sha256:../../other'), () => client.getBlob('app', 'sha256:aa'), () => client.listTags('app/../other')]) {
      await call().then(() => assert.unreachable('expected a refusal'), (error: unknown) => assert.instance(error, InvalidNameError));
    }
    assert.equal(server.requests, [], 'not one request was sent');
  });
});

test('a next-page link to another repository or another host is refused, not followed', async () => {
  for (const link of ['</v2/other/tags/list?last=b>; rel="next"', '</v2/app/tags/list/../../other/tags/list>; rel="next"', '<http://198.51.100.1/v2/app/tags/list?last=b>; rel="next"', '</v2/app/manifests/latest>; rel="next"']) {
    await withServer(() => ({ status: 200, headers: { link }, body: { name: 'app', tags: ['a', 'b'] } }), async (server, client) => {
      const error = await protocolFailure(client.listTags('app'));
      assert.match(error.message, /sent a next-page link for "app" that leaves \/v2\/app\/tags\/list/);
      assert.equal(server.requests.map((r) => r.path), ['/v2/app/tags/list'], link);
    });
  }
});

test('referrer digests that fail the grammar are left out; catalog names come back as sent, for the caller to check and report', async () => {
  const good = { mediaType: MediaType.ociManifest, digest: `sha256:${'e'.repeat(64)}`, size: 1 };
  await withServer((req) => {
    if (req.path === '/v2/_catalog') return { status: 200, body: { repositories: ['acme/api', '../etc', 'Acme', 'a/../b', 'ok', 7] } };
    return { status: 200, headers: { 'content-type': MediaType.ociIndex }, body: { schemaVersion: 2, manifests: [good, { ...good, digest: 'sha256:../x' }, { ...good, digest: 7 }] } };
  }, async (_server, client) => {
    assert.equal(await client.listRepositories(), ['acme/api', '../etc', 'Acme', 'a/../b', 'ok']);
    assert.equal(await client.listReferrers('app', manifestDigest), [good]);
  });
});

test('a next-page link back to a page already read is a PAGING_LOOP, not a short listing (tags and catalog)', async () => {
  await withServer((req) => {
    const last = req.query.get('last');
    const base = req.path === '/v2/_catalog' ? '/v2/_catalog' : '/v2/app/tags/list';
    const link = last === null ? `<${base}?last=a>; rel="next"` : `<${base}>; rel="next"`; // page 2 points back at page 1
    const body = req.path === '/v2/_catalog' ? { repositories: [last ?? 'a'] } : { name: 'app', tags: [last === null ? 'a' : 'b'] };
    return { status: 200, headers: { link }, body };
  }, async (server, client) => {
    for (const listing of [() => client.listTags('app'), () => client.listRepositories()]) {
      const error = await protocolFailure(listing());
      assert.is(error.code, 'PAGING_LOOP');
      assert.match(error.message, /kept paging/);
    }
    assert.is(server.requests.length, 4, 'two pages each, no third request');
  });
});

test('a registry without a catalog (404) is an error naming it, never an empty list', async () => {
  await withServer(() => ({ status: 404, body: ociError('NOT_FOUND', 'no such route') }), async (_server, client) => {
    const error = await failure(client.listRepositories());
    assert.is(error.status, 404);
    assert.match(error.message, /has no catalog/);
  });
});

test('the catalog asks for the registry:catalog:* scope and refuses a next page on another origin before sending anything there', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { repositories: ['stolen'] } }));
  try {
    await withServer((req) => {
      if (req.path === '/token') return { status: 200, body: { token: 'catalog-token' } };
      if (req.headers['authorization'] === undefined) {
        return { status: 401, headers: { 'www-authenticate': `Bearer realm="http://${req.headers['host']}/token",service="test"` }, body: ociError('UNAUTHORIZED', 'auth required') };
      }
      return { status: 200, headers: { link: `<${elsewhere.url}/v2/_catalog?last=a>; rel="next"` }, body: { repositories: ['a'] } };
    }, async (server, client) => {
      const error = await protocolFailure(client.listRepositories());
      assert.is(error.code, 'UNSAFE_NEXT_PAGE');
      assert.ok(server.requests.some((r) => r.path === '/token' && r.query.getAll('scope').includes('registry:catalog:*')), server.requests.map((r) => r.url).join('\n'));
      assert.is(elsewhere.requests.length, 0);
    });
  } finally {
    await elsewhere.close();
  }
});

test.run();
