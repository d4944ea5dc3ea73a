/**
 * The memory registry against two independent clients: skopeo 1.9 (copy, list-tags, inspect --raw) and
 * regplan's RegistryClient. Covers paging, every delete mode, mounts, chunked uploads, referrers, Basic and
 * Bearer auth, and the not-found answers clients depend on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, RegistryError } from '../../src/errors.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { MediaType } from '../../src/registry/oci.ts';
import { buildTestImage, sha256Digest, writeOciLayout } from '../harness/layout.ts';
import { startMemoryRegistry, type MemoryRegistry, type MemoryRegistryOptions } from './memory-registry.ts';
import { rejection } from '../support/rejection.ts';

/** Runs skopeo with an empty auth file, so the user's own logins never leak in. */
async function skopeo(args: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-skopeo-'));
  try {
    await writeFile(path.join(dir, 'auth.json'), '{}');
    return await new Promise((resolve, reject) => {
      execFile('skopeo', ['--insecure-policy', ...args], { timeout: 30_000, env: { ...process.env, REGISTRY_AUTH_FILE: path.join(dir, 'auth.json') } }, (error, stdout, stderr) =>
        error ? reject(new Error(`skopeo ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`)) : resolve(stdout),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts a registry, runs `body`, and stops it whatever happens. */
async function withRegistry(options: MemoryRegistryOptions, body: (registry: MemoryRegistry) => Promise<void>): Promise<void> {
  const registry = await startMemoryRegistry(options);
  try {
    await body(registry);
  } finally {
    await registry.stop();
  }
}

const client = (registry: MemoryRegistry, credential?: { username: string; password: string }): RegistryClient =>
  new RegistryClient({ host: registry.host, retry: { attempts: 1 }, credentials: async () => (credential === undefined ? undefined : { ...credential, source: 'test' }) });


async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code?: string }[] };
  return body.errors?.[0]?.code;
}

async function withLayout(body: (dir: string, digests: { single: string; index: string }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-memory-layout-'));
  try {
    const single = buildTestImage({ content: 'single' });
    const index = buildTestImage({ content: 'multi', platforms: ['linux/amd64', 'linux/arm64'] });
    await writeOciLayout(dir, [{ ref: 'single', image: single }, { ref: 'multi', image: index }]);
    await body(dir, { single: single.descriptor.digest, index: index.descriptor.digest });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('skopeo copies an image and a multi-platform index in, lists the tags and reads the exact bytes back', async () => {
  await withRegistry({}, async (registry) => {
    await withLayout(async (dir, digests) => {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:single`, `docker://${registry.host}/acme/app:v1`]);
      await skopeo(['copy', '--all', '--preserve-digests', '--quiet', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${registry.host}/acme/app:multi`]);
      const listed = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', `docker://${registry.host}/acme/app`])) as { Tags: string[] };
      assert.equal(listed.Tags, ['multi', 'v1']);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/app:multi`]);
      assert.is(sha256Digest(raw), digests.index);
      assert.is(registry.store.resolve('acme/app', 'multi')?.mediaType, MediaType.ociIndex);
      assert.is(registry.store.manifests('acme/app').length, 4, 'the single image, the index and its two children');
      assert.equal(registry.store.untagged('acme/app').length, 2, 'the index children have no tag');
      assert.ok(registry.requestsTo('/v2/acme/app/blobs/uploads/', 'POST').length >= 3, 'skopeo uploaded the blobs');
    });
  });
});

test('RegistryClient follows relative Link pages of tags/list and _catalog; n is clamped to the page size', async () => {
  await withRegistry({ pageSize: 3 }, async (registry) => {
    const tags = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    registry.store.seedImage('paged', tags);
    registry.store.seedImage('other', ['x']);
    assert.equal(await client(registry).listTags('paged', { pageSize: 2 }), tags);
    const pages = registry.requestsTo('/v2/paged/tags/list', 'GET');
    assert.equal(pages.map((r) => r.query), ['n=2', 'n=2&last=b', 'n=2&last=d', 'n=2&last=f']);
    assert.equal(await client(registry).listTags('paged'), tags, 'without n, pages of 3');
    const clamped = await fetch(`${registry.url}/v2/paged/tags/list?n=100`);
    assert.equal(((await clamped.json()) as { tags: string[] }).tags, ['a', 'b', 'c']);
    assert.is(clamped.headers.get('link'), '</v2/paged/tags/list?n=3&last=c>; rel="next"');
    const zero = await fetch(`${registry.url}/v2/paged/tags/list?n=0`);
    assert.equal(((await zero.json()) as { tags: string[] }).tags, []);
    assert.is(zero.headers.get('link'), null);
    const bad = await fetch(`${registry.url}/v2/paged/tags/list?n=-1`);
    assert.is(bad.status, 400);
    assert.is(await errorCode(bad), 'PAGINATION_NUMBER_INVALID');
    assert.equal(await client(registry).listRepositories({ pageSize: 1 }), ['other', 'paged']);
  });
});

const TAG_DELETE_ANSWERS = [
  { mode: 'untag', status: 202, code: undefined },
  { mode: 'unsupported-400', status: 400, code: 'UNSUPPORTED' },
  { mode: 'unsupported-405', status: 405, code: 'UNSUPPORTED' },
  { mode: 'digest-invalid-400', status: 400, code: 'DIGEST_INVALID' },
] as const;

test('DELETE by tag answers as each tagDelete mode documents, and only untag removes the tag', async () => {
  for (const { mode, status, code } of TAG_DELETE_ANSWERS) {
    await withRegistry({ tagDelete: mode }, async (registry) => {
      const { digest } = registry.store.seedImage('app', ['old', 'kept']);
      const response = await fetch(`${registry.url}/v2/app/manifests/old`, { method: 'DELETE' });
      assert.is(response.status, status, mode);
      if (code !== undefined) assert.is(await errorCode(response), code, mode);
      assert.equal(registry.store.tags('app').map((t) => t.tag), mode === 'untag' ? ['kept'] : ['kept', 'old'], mode);
      assert.ok(registry.store.manifest('app', digest), `${mode}: the manifest stays for the other tag`);
    });
  }
  await withRegistry({ tagDelete: 'untag' }, async (registry) => {
    registry.store.seedImage('app', ['only']);
    await client(registry).deleteTag('app', 'only');
    assert.equal(registry.store.untagged('app').length, 1, 'untag leaves the manifest behind, untagged');
    const missing = (await rejection(client(registry).deleteTag('app', 'only'))) as RegistryError;
    assert.is(missing.code, 'MANIFEST_UNKNOWN');
  });
});

test('DELETE by digest answers as each digestDelete mode documents', async () => {
  await withRegistry({ digestDelete: 'delete' }, async (registry) => {
    const { digest } = registry.store.seedImage('app', ['a', 'b']);
    await client(registry).deleteManifest('app', digest);
    assert.equal(registry.store.tags('app'), [], 'every tag on the digest is gone');
    assert.is(await client(registry).headManifest('app', digest), undefined);
    assert.is(((await rejection(client(registry).deleteManifest('app', digest))) as RegistryError).status, 404);
  });
  await withRegistry({ digestDelete: 'unsupported-405' }, async (registry) => {
    const { digest } = registry.store.seedImage('app', ['a']);
    const error = (await rejection(client(registry).deleteManifest('app', digest))) as RegistryError;
    assert.equal([error.status, error.code], [405, 'UNSUPPORTED']);
  });
  await withRegistry({ digestDelete: 'forbidden-if-tagged-403', tagDelete: 'untag' }, async (registry) => {
    const { digest } = registry.store.seedImage('app', ['a']);
    const response = await fetch(`${registry.url}/v2/app/manifests/${digest}`, { method: 'DELETE' });
    assert.equal([response.status, await errorCode(response)], [403, 'DENIED']);
    registry.store.untag('app', 'a');
    await client(registry).deleteManifest('app', digest);
    assert.is(registry.store.manifest('app', digest), undefined, 'an untagged manifest can be deleted');
  });
  await withRegistry({ digestDelete: 'dangling-tag-400', tagDelete: 'untag' }, async (registry) => {
    const { digest } = registry.store.seedImage('app', ['v1']);
    const error = (await rejection(client(registry).deleteManifest('app', digest))) as RegistryError;
    assert.equal([error.status, error.code, error.errors[0]?.message], [400, 'GOOGLE_MANIFEST_DANGLING_TAG', 'Manifest is still referenced by tag: v1']);
    await client(registry).deleteTag('app', 'v1');
    await client(registry).deleteManifest('app', digest);
    assert.is(registry.store.manifest('app', digest), undefined);
  });
});

test('a cross-repo mount answers 201 when the source holds the blob and opens an upload otherwise', async () => {
  await withRegistry({}, async (registry) => {
    const blob = registry.store.putBlob(new TextEncoder().encode('shared layer'), 'source');
    assert.is(await client(registry).mountBlob('target', blob, 'source'), true);
    assert.ok(registry.store.hasBlob(blob, 'target'));
    assert.is(await client(registry).hasBlob('target', blob), true);
    assert.is(await client(registry).mountBlob('third', blob, 'nowhere'), false);
    assert.is(registry.store.hasBlob(blob, 'third'), false);
    assert.equal(registry.store.untagged('target'), [], 'a mount alone stores no manifest');
    const raw = await fetch(`${registry.url}/v2/fourth/blobs/uploads/?mount=${blob}&from=source`, { method: 'POST' });
    assert.equal([raw.status, raw.headers.get('location'), raw.headers.get('docker-content-digest')], [201, `/v2/fourth/blobs/${blob}`, blob]);
  });
});

test('chunked uploads check Content-Range, the _state query and the final digest', async () => {
  await withRegistry({}, async (registry) => {
    const bytes = new Uint8Array(10_000).map((_, i) => i % 251);
    const { digest } = await client(registry).uploadBlob('app', { bytes }, { chunkSize: 4096 });
    assert.is(registry.requestsTo('/v2/app/blobs/uploads/', 'PATCH').length, 3);
    assert.equal(registry.store.blob(digest), bytes);

    const opened = await fetch(`${registry.url}/v2/app/blobs/uploads/`, { method: 'POST' });
    assert.is(opened.status, 202);
    assert.ok(opened.headers.get('docker-upload-uuid'));
    const location = new URL(opened.headers.get('location') ?? '', registry.url);
    const first = await fetch(location, { method: 'PATCH', headers: { 'content-range': '0-2' }, body: 'abc' });
    assert.equal([first.status, first.headers.get('range')], [202, '0-2']);
    const next = new URL(first.headers.get('location') ?? '', registry.url);
    const gap = await fetch(next, { method: 'PATCH', headers: { 'content-range': '5-6' }, body: 'fg' });
    assert.equal([gap.status, await errorCode(gap)], [416, 'RANGE_INVALID']);
    const withoutState = new URL(next.pathname, registry.url);
    assert.is((await fetch(withoutState, { method: 'PATCH', body: 'x' })).status, 400);
    next.searchParams.set('digest', sha256Digest('abcd'));
    const wrong = await fetch(next, { method: 'PUT', body: 'X' });
    assert.equal([wrong.status, await errorCode(wrong)], [400, 'DIGEST_INVALID']);
    const unknown = await fetch(`${registry.url}/v2/app/blobs/uploads/nope?_state=x`, { method: 'PATCH', body: 'x' });
    assert.equal([unknown.status, await errorCode(unknown)], [404, 'BLOB_UPLOAD_UNKNOWN']);
  });
});

test('manifests must reference stored blobs and children; a subject is reported by the referrers API', async () => {
  await withRegistry({}, async (registry) => {
    const { digest: subject } = registry.store.seedImage('app', ['v1']);
    const empty = registry.store.putBlob(new TextEncoder().encode('{}'), 'app');
    const signature = { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.dev.cosign.signature', config: { mediaType: MediaType.ociEmpty, digest: empty, size: 2 }, layers: [], subject: { mediaType: MediaType.ociManifest, digest: subject, size: 1 }, annotations: { note: 'signed' } };
    const bytes = new TextEncoder().encode(JSON.stringify(signature));
    const put = await fetch(`${registry.url}/v2/app/manifests/${sha256Digest(bytes)}`, { method: 'PUT', headers: { 'content-type': MediaType.ociManifest }, body: bytes });
    assert.equal([put.status, put.headers.get('oci-subject'), put.headers.get('docker-content-digest')], [201, subject, sha256Digest(bytes)]);
    const referrers = await client(registry).listReferrers('app', subject);
    assert.equal(referrers, [{ mediaType: MediaType.ociManifest, digest: sha256Digest(bytes), size: bytes.byteLength, artifactType: 'application/vnd.dev.cosign.signature', annotations: { note: 'signed' } }]);
    assert.equal(await client(registry).listReferrers('app', subject, { artifactType: 'application/other' }), []);

    const dangling = { ...signature, subject: undefined, layers: [{ mediaType: MediaType.ociLayerGzip, digest: sha256Digest('missing'), size: 7 }] };
    const error = (await rejection(client(registry).putManifest('app', 'broken', new TextEncoder().encode(JSON.stringify(dangling)), MediaType.ociManifest))) as RegistryError;
    assert.equal([error.status, error.code], [400, 'MANIFEST_BLOB_UNKNOWN']);
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: sha256Digest('no such child'), size: 3 }] };
    const indexError = (await rejection(client(registry).putManifest('app', 'idx', new TextEncoder().encode(JSON.stringify(index)), MediaType.ociIndex))) as RegistryError;
    assert.is(indexError.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.equal(registry.store.tags('app').map((t) => t.tag), ['v1']);
  });
});

test('Basic auth: skopeo and RegistryClient get in with the right password and are refused without it', async () => {
  await withRegistry({ auth: { kind: 'basic', users: { alice: 'secret-pw' } } }, async (registry) => {
    await withLayout(async (dir) => {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'alice:secret-pw', `oci:${dir}:single`, `docker://${registry.host}/app:v1`]);
      const listed = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', '--creds', 'alice:secret-pw', `docker://${registry.host}/app`])) as { Tags: string[] };
      assert.equal(listed.Tags, ['v1']);
      await rejection(skopeo(['list-tags', '--tls-verify=false', '--creds', 'alice:wrong', `docker://${registry.host}/app`]));
    });
    assert.equal(await client(registry, { username: 'alice', password: 'secret-pw' }).listTags('app'), ['v1']);
    const ping = await fetch(`${registry.url}/v2/`);
    assert.equal([ping.status, ping.headers.get('www-authenticate')], [401, 'Basic realm="memory-registry"']);
    assert.instance(await rejection(client(registry, { username: 'alice', password: 'nope' }).listTags('app')), AuthError);
  });
});

test('Bearer auth: tokens from the registry own endpoint, scope-checked, in GET and OAuth2 POST forms', async () => {
  await withRegistry({ auth: { kind: 'bearer', users: { bob: 'token-pw' }, service: 'memory.test' } }, async (registry) => {
    await withLayout(async (dir) => {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'bob:token-pw', `oci:${dir}:single`, `docker://${registry.host}/team/app:v1`]);
      const listed = JSON.parse(await skopeo(['list-tags', '--tls-verify=false', '--creds', 'bob:token-pw', `docker://${registry.host}/team/app`])) as { Tags: string[] };
      assert.equal(listed.Tags, ['v1']);
      await rejection(skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'bob:bad', `docker://${registry.host}/team/app:v1`]));
    });
    assert.equal(await client(registry, { username: 'bob', password: 'token-pw' }).listTags('team/app'), ['v1']);
    assert.instance(await rejection(client(registry).listTags('team/app')), AuthError, 'an anonymous token grants nothing');

    const ping = await fetch(`${registry.url}/v2/`);
    assert.is(ping.headers.get('www-authenticate'), `Bearer realm="${registry.url}/token",service="memory.test"`);
    const basic = `Basic ${Buffer.from('bob:token-pw').toString('base64')}`;
    const issued = (await (await fetch(`${registry.url}/token?service=memory.test&scope=repository:team/app:pull&offline_token=true`, { headers: { authorization: basic } })).json()) as { token: string; refresh_token: string; expires_in: number };
    assert.is(issued.expires_in, 300);
    const headers = { authorization: `Bearer ${issued.token}` };
    assert.is((await fetch(`${registry.url}/v2/team/app/tags/list`, { headers })).status, 200);
    const elsewhere = await fetch(`${registry.url}/v2/team/other/tags/list`, { headers });
    assert.match(elsewhere.headers.get('www-authenticate') ?? '', 'error="insufficient_scope"');
    const refreshed = await fetch(`${registry.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refresh_token, service: 'memory.test', client_id: 't', scope: 'repository:team/app:pull' }) });
    const oauth = (await refreshed.json()) as { access_token: string; scope: string };
    assert.is(oauth.scope, 'repository:team/app:pull');
    assert.is((await fetch(`${registry.url}/v2/team/app/manifests/v1`, { headers: { authorization: `Bearer ${oauth.access_token}` } })).status, 200);
    assert.is((await fetch(`${registry.url}/token?service=memory.test`, { headers: { authorization: `Basic ${Buffer.from('bob:x').toString('base64')}` } })).status, 401);
    assert.is((await fetch(`${registry.url}/v2/team/app/tags/list`, { headers: { authorization: 'Bearer forged' } })).status, 401);
  });
});

test('an emptied repository lists "tags": null when nullEmptyTags is set, and RegistryClient reads it as no tags', async () => {
  await withRegistry({ nullEmptyTags: true, tagDelete: 'untag' }, async (registry) => {
    registry.store.seedImage('app', ['v1']);
    await client(registry).deleteTag('app', 'v1');
    const listed = await fetch(`${registry.url}/v2/app/tags/list`);
    assert.equal(await listed.json(), { name: 'app', tags: null });
    assert.equal(await client(registry).listTags('app'), []);
  });
});

test('unknown repositories and tags answer NAME_UNKNOWN / MANIFEST_UNKNOWN, which clients read as absent', async () => {
  await withRegistry({}, async (registry) => {
    registry.store.seedImage('app', ['v1']);
    const noRepo = await fetch(`${registry.url}/v2/ghost/tags/list`);
    assert.equal([noRepo.status, await errorCode(noRepo)], [404, 'NAME_UNKNOWN']);
    const noTag = await fetch(`${registry.url}/v2/app/manifests/v2`, { method: 'GET' });
    assert.equal([noTag.status, await errorCode(noTag)], [404, 'MANIFEST_UNKNOWN']);
    assert.equal(await client(registry).listTags('ghost'), []);
    assert.is(await client(registry).headManifest('app', 'v2'), undefined);
    const head = await client(registry).headManifest('app', 'v1');
    assert.is(head?.digest, registry.store.resolve('app', 'v1')?.digest);
    const bad = await fetch(`${registry.url}/v2/Bad_Name/tags/list`);
    assert.equal([bad.status, await errorCode(bad)], [400, 'NAME_INVALID']);
    const error = await rejection(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/app:v2`]));
    assert.match(String(error), /manifest unknown/i);
  });
});

test('vendor routes answer before the Registry API and every request is recorded with its status', async () => {
  await withRegistry(
    {
      routes: (req, res, url, store, helpers) => {
        if (url.pathname !== '/api/repos') return false;
        helpers.sendJson(req, res, 200, store.repos());
        return true;
      },
    },
    async (registry) => {
      registry.store.seedImage('app', ['v1'], { pushedAt: new Date('2024-05-01T00:00:00Z') });
      assert.equal(await (await fetch(`${registry.url}/api/repos`)).json(), ['app']);
      assert.equal(registry.store.tags('app')[0]?.pushedAt, new Date('2024-05-01T00:00:00Z'));
      assert.is((await fetch(`${registry.url}/elsewhere`)).status, 404);
      assert.equal(registry.requests.map((r) => `${r.method} ${r.path} ${r.status}`), ['GET /api/repos 200', 'GET /elsewhere 404']);
    },
  );
});

test.run();
