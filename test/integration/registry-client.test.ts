/**
 * RegistryClient against the real distribution 2.8 registry, in each auth mode (none, htpasswd Basic, token),
 * with skopeo as the independent witness: what the client reads must match what skopeo sees, and what the
 * client writes or deletes must show up (or vanish) for skopeo.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, isNotFound, RegistryError } from '../../src/errors.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { MediaType, type ImageIndex, type ImageManifest } from '../../src/registry/oci.ts';
import { sha256Digest } from '../harness/layout.ts';
import { startRegistry, type RegistryAuthMode, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoDigest, skopeoInspectRaw, skopeoListTags, type SeededImage } from '../harness/seed.ts';
import { rejection } from '../support/rejection.ts';

interface Context {
  registry?: TestRegistry;
  /** Debug lines of the main client since the last reset (method, URL, status). */
  requests: string[];
  client?: RegistryClient;
  image?: SeededImage;
  index?: SeededImage;
}

const PAGED_TAGS = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
const IMAGE_CREATED = new Date('2022-03-04T05:06:07Z');
const INDEX_CREATED = new Date('2021-01-02T03:04:05Z');

/** A client for the registry that answers with the given account (the full-access one by default). */
function clientFor(registry: TestRegistry, options: { username?: string; password?: string; debug?: (line: string) => void } = {}): RegistryClient {
  const username = options.username ?? registry.username;
  const password = options.password ?? registry.password;
  return new RegistryClient({
    host: registry.host,
    credentials: async () => (username === undefined || password === undefined ? undefined : { username, password, source: 'test' }),
    ...(options.debug === undefined ? {} : { debug: options.debug }),
  });
}


const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

for (const mode of ['none', 'basic', 'token'] as const satisfies readonly RegistryAuthMode[]) {
  const it = suite<Context>(`RegistryClient against distribution 2.8, auth=${mode}`, { requests: [] });

  it.before(async (context) => {
    context.registry = await startRegistry({ auth: mode });
    context.client = clientFor(context.registry, { debug: (line) => context.requests.push(line) });
    await seedImage(context.registry, { repo: 'it/paged', tag: PAGED_TAGS[0]!, alsoTags: PAGED_TAGS.slice(1) });
    context.image = await seedImage(context.registry, { repo: 'it/app', tag: 'v1.0.0', created: IMAGE_CREATED });
    context.index = await seedImage(context.registry, { repo: 'it/app', tag: 'multi', created: INDEX_CREATED, platforms: ['linux/amd64', 'linux/arm64'] });
  });
  it.after(async (context) => {
    await context.registry?.stop();
  });
  it.before.each((context) => {
    context.requests.length = 0;
  });

  it('ping reports whether the registry wants credentials, and how', async ({ client }) => {
    const answer = await client!.ping();
    if (mode === 'none') {
      assert.is(answer.status, 200);
      assert.is(answer.challenge, undefined);
    } else {
      assert.is(answer.status, 401);
      assert.is(answer.challenge?.scheme, mode === 'basic' ? 'basic' : 'bearer');
    }
  });

  it('listRepositories follows the catalog\'s Link pages (n=1: one repo a page) and finds every seeded repo', async ({ client, requests }) => {
    const names = await client!.listRepositories({ pageSize: 1 });
    assert.equal([...names].sort(), ['it/app', 'it/paged']);
    const pages = requests.filter((line) => /GET \S+\/v2\/_catalog\S* -> 200/.test(line));
    assert.ok(pages.length >= 2, `expected several catalog pages:\n${requests.join('\n')}`);
    assert.ok(pages.slice(1).every((line) => /last=/.test(line)), 'later pages come from the Link header');
  });

  // distribution 2.8 ignores `n` and `last` on tags/list (pagination arrived in v3) and lists tags in storage
  // order, not sorted; Link-following is covered by src/registry/client.test.ts against a scripted server.
  it('listTags with a page size returns every tag skopeo lists (2.8 answers in one unsorted page)', async ({ registry, client, requests }) => {
    const tags = await client!.listTags('it/paged', { pageSize: 5 });
    assert.equal([...tags].sort(), PAGED_TAGS);
    assert.equal([...tags].sort(), await skopeoListTags(registry!, 'it/paged'));
    const pages = requests.filter((line) => /GET \S+\/v2\/it\/paged\/tags\/list\?n=5 -> 200/.test(line));
    assert.is(pages.length, 1, `distribution 2.8 was expected to ignore n=5:\n${requests.join('\n')}`);
  });

  it('listTags of a repository that was never pushed is empty', async ({ client }) => {
    assert.equal(await client!.listTags('it/never-pushed'), []);
  });

  it('headManifest resolves a tag to the digest skopeo sees, for an image and an index', async ({ registry, client, image, index }) => {
    const single = await client!.headManifest('it/app', 'v1.0.0');
    assert.is(single?.digest, image!.digest);
    assert.is(single?.digest, await skopeoDigest(registry!, 'it/app', 'v1.0.0'));
    assert.is(single?.mediaType, MediaType.ociManifest);
    assert.is(single?.size, (await skopeoInspectRaw(registry!, 'it/app', 'v1.0.0')).byteLength);
    const multi = await client!.headManifest('it/app', 'multi');
    assert.is(multi?.digest, index!.digest);
    assert.is(multi?.mediaType, MediaType.ociIndex);
    assert.is(await client!.headManifest('it/app', 'no-such-tag'), undefined);
  });

  it('getManifest returns the exact bytes skopeo reads, for an index and its platform manifests', async ({ registry, client, index }) => {
    const got = await client!.getManifest('it/app', 'multi');
    assert.is(text(got.bytes), text(await skopeoInspectRaw(registry!, 'it/app', 'multi')));
    assert.is(got.descriptor.digest, index!.digest);
    const manifests = (got.manifest as ImageIndex).manifests;
    assert.equal(manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`), ['linux/amd64', 'linux/arm64']);
    const arm = await client!.getManifest('it/app', index!.platformDigests['linux/arm64']!);
    assert.is(arm.descriptor.digest, index!.platformDigests['linux/arm64']);
    assert.is(arm.descriptor.mediaType, MediaType.ociManifest);
  });

  it('getConfig returns the created time the image was built with', async ({ client, index }) => {
    const { manifest } = await client!.getManifest('it/app', 'v1.0.0');
    const config = await client!.getConfig('it/app', (manifest as ImageManifest).config);
    assert.is(config.created, IMAGE_CREATED.toISOString());
    const amd = await client!.getManifest('it/app', index!.platformDigests['linux/amd64']!);
    const amdConfig = await client!.getConfig('it/app', (amd.manifest as ImageManifest).config);
    assert.is(amdConfig.created, INDEX_CREATED.toISOString());
    assert.is(amdConfig.architecture, 'amd64');
  });

  it('uploadBlob pushes a small blob in one request and a larger one in chunks', async ({ client, requests }) => {
    const small = randomBytes(3000);
    const monolithic = await client!.uploadBlob('it/blobs', { bytes: small });
    assert.equal(monolithic, { digest: sha256Digest(small), size: small.length });
    assert.is(requests.filter((line) => line.startsWith('PATCH ')).length, 0, requests.join('\n'));
    assert.ok(await client!.hasBlob('it/blobs', monolithic.digest));
    assert.ok(Buffer.from(await client!.getBlob('it/blobs', monolithic.digest)).equals(small));

    requests.length = 0;
    const large = randomBytes(5 * 1024 + 300);
    const chunked = await client!.uploadBlob('it/blobs', { bytes: large }, { chunkSize: 1024 });
    assert.equal(chunked, { digest: sha256Digest(large), size: large.length });
    assert.ok(requests.filter((line) => /^PATCH .* -> 202/.test(line)).length >= 5, `expected 1 KiB PATCH chunks:\n${requests.join('\n')}`);
    assert.ok(Buffer.from(await client!.getBlob('it/blobs', chunked.digest)).equals(large));
  });

  it('uploadBlob streams a file from disk in chunks', async ({ client }) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-it-blob-'));
    try {
      const bytes = randomBytes(4 * 1024 + 17);
      const file = path.join(dir, 'layer.bin');
      await writeFile(file, bytes);
      const digest = sha256Digest(bytes);
      assert.equal(await client!.uploadBlob('it/files', { path: file, size: bytes.length, digest }, { chunkSize: 1024 }), { digest, size: bytes.length });
      assert.ok(Buffer.from(await client!.getBlob('it/files', digest)).equals(bytes));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hasBlob is false for a blob the repository does not have', async ({ client }) => {
    assert.not.ok(await client!.hasBlob('it/blobs', sha256Digest(randomBytes(32))));
  });

  it('mountBlob links a blob from another repository, and declines one that does not exist', async ({ client }) => {
    const bytes = randomBytes(2048);
    const { digest } = await client!.uploadBlob('it/mount-source', { bytes });
    assert.not.ok(await client!.hasBlob('it/mount-target', digest));
    assert.is(await client!.mountBlob('it/mount-target', digest, 'it/mount-source'), true);
    assert.ok(await client!.hasBlob('it/mount-target', digest));
    assert.ok(Buffer.from(await client!.getBlob('it/mount-target', digest)).equals(bytes));
    assert.is(await client!.mountBlob('it/mount-target', sha256Digest(randomBytes(32)), 'it/mount-source'), false);
  });

  it('putManifest stores a new image that skopeo then reads with the same digest', async ({ registry, client }) => {
    const layer = gzipSync(randomBytes(5000));
    const configBytes = Buffer.from(JSON.stringify({ created: '2020-01-01T00:00:00Z', architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layerUp = await client!.uploadBlob('it/assembled', { bytes: layer }, { chunkSize: 2048 });
    const configUp = await client!.uploadBlob('it/assembled', { bytes: configBytes });
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...configUp },
      layers: [{ mediaType: MediaType.ociLayerGzip, ...layerUp }],
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = await client!.putManifest('it/assembled', 'built', bytes, MediaType.ociManifest);
    assert.is(digest, sha256Digest(bytes));
    assert.is(await skopeoDigest(registry!, 'it/assembled', 'built'), digest);
    assert.is(text(await skopeoInspectRaw(registry!, 'it/assembled', digest)), bytes.toString('utf8'));
    assert.equal(await skopeoListTags(registry!, 'it/assembled'), ['built']);
  });

  it('putManifest naming a blob the registry lacks fails with MANIFEST_BLOB_UNKNOWN', async ({ registry, client }) => {
    const missing = { mediaType: MediaType.ociConfig, digest: sha256Digest(randomBytes(16)), size: 16 };
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: missing, layers: [] }));
    const error = await rejection(client!.putManifest('it/assembled', 'broken', bytes, MediaType.ociManifest));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).code, 'MANIFEST_BLOB_UNKNOWN');
    assert.not.ok((await skopeoListTags(registry!, 'it/assembled')).includes('broken'));
  });

  it('deleteManifest removes the digest and every tag on it, and leaves other tags alone', async ({ registry, client }) => {
    const doomed = await seedImage(registry!, { repo: 'it/delete', tag: 'doomed', alsoTags: ['doomed-too'] });
    await seedImage(registry!, { repo: 'it/delete', tag: 'keeper' });
    await client!.deleteManifest('it/delete', doomed.digest);
    assert.equal(await skopeoListTags(registry!, 'it/delete'), ['keeper']);
    assert.is(await skopeoDigest(registry!, 'it/delete', doomed.digest), undefined);
    assert.is(await client!.headManifest('it/delete', 'doomed'), undefined);
    const again = await rejection(client!.deleteManifest('it/delete', doomed.digest));
    assert.ok(isNotFound(again), `a second delete should be "not found", got ${String(again)}`);
  });

  it('deleteTag is refused by distribution 2.8 (400 DIGEST_INVALID) and the tag stays', async ({ registry, client, image }) => {
    const error = await rejection(client!.deleteTag('it/app', 'v1.0.0'));
    assert.instance(error, RegistryError);
    assert.not.instance(error, AuthError);
    assert.is((error as RegistryError).status, 400);
    assert.is((error as RegistryError).code, 'DIGEST_INVALID');
    assert.ok((error as RegistryError).message.includes('it/app:v1.0.0'), (error as RegistryError).message);
    assert.match((error as RegistryError).hint ?? '', /cannot delete a tag through the Registry API/);
    assert.is(await skopeoDigest(registry!, 'it/app', 'v1.0.0'), image!.digest);
  });

  if (mode !== 'none') {
    it('a wrong password gives an AuthError with a hint and without the password', async ({ registry }) => {
      const password = `wrong-${randomBytes(9).toString('hex')}`;
      const client = clientFor(registry!, { password });
      const error = await rejection(client.listTags('it/app'));
      assert.instance(error, AuthError);
      const auth = error as AuthError;
      assert.is(auth.status, 401);
      assert.ok(auth.hint && /log in|credentials/i.test(auth.hint), `hint: ${auth.hint}`);
      assert.ok(auth.hint?.includes('test'), 'the hint names where the credentials came from');
      const everything = `${auth.message}\n${auth.hint}\n${JSON.stringify(auth.context)}\n${JSON.stringify(auth.errors)}\n${auth.stack}`;
      assert.not.ok(everything.includes(password), 'the password leaked into the error');
      assert.not.ok(everything.includes(registry!.password!), 'the real password leaked into the error');
    });

    it('no credentials at all gives an AuthError saying none were found', async ({ registry }) => {
      const client = new RegistryClient({ host: registry!.host, credentials: async () => undefined });
      const error = await rejection(client.headManifest('it/app', 'v1.0.0'));
      assert.instance(error, AuthError);
      assert.match((error as AuthError).hint ?? '', /no credentials were found|log in/i);
    });
  }

  if (mode === 'token') {
    it('reuses its token: listing the same repository twice asks the token server once', async ({ registry }) => {
      const server = registry!.tokenServer!;
      const client = clientFor(registry!);
      const before = server.requests.length;
      assert.equal((await client.listTags('it/paged')).sort(), PAGED_TAGS);
      assert.equal((await client.listTags('it/paged')).sort(), PAGED_TAGS);
      await client.headManifest('it/paged', PAGED_TAGS[0]!);
      assert.is(server.requests.length - before, 1, JSON.stringify(server.requests.slice(before)));
    });

    it('a read-only user can read but its pushes and deletes are refused with AuthError', async ({ registry, image }) => {
      const reader = registry!.reader!;
      const client = clientFor(registry!, { username: reader.username, password: reader.password });
      assert.is((await client.headManifest('it/app', 'v1.0.0'))?.digest, image!.digest);
      const push = await rejection(client.uploadBlob('it/app', { bytes: randomBytes(100) }));
      assert.instance(push, AuthError);
      const deletion = await rejection(client.deleteManifest('it/app', image!.digest));
      assert.instance(deletion, AuthError);
      assert.is(await skopeoDigest(registry!, 'it/app', 'v1.0.0'), image!.digest);
      assert.not.ok(`${(deletion as AuthError).message} ${(deletion as AuthError).hint}`.includes(reader.password));
    });
  }

  it.run();
}
