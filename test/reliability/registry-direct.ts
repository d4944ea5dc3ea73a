/**
 * Talks to the test registry directly (never through the fault proxy, never through regplan's code): pushes
 * images built by ../harness/layout.ts with plain fetch, and reads back tags and digests. The reliability
 * suite seeds 50 repos; pushing through the Registry API takes milliseconds where a skopeo run per tag takes
 * a second, and reading the state directly is what makes "the registry's tags after apply" an independent check.
 */
import { buildTestImage, sha256Digest, type BuiltImage, type TestImageOptions } from '../harness/layout.ts';
import type { TestRegistry } from '../harness/registry.ts';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function authHeaders(registry: TestRegistry): Record<string, string> {
  if (registry.auth === 'none') return {};
  if (registry.auth !== 'basic' || registry.username === undefined || registry.password === undefined) {
    throw new Error('registry-direct speaks to "none" and "basic" registries only');
  }
  return { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` };
}

async function call(registry: TestRegistry, method: string, path: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Response> {
  const url = path.startsWith('http') ? path : `http://${registry.host}${path}`;
  return fetch(url, { method, headers: { ...authHeaders(registry), ...init.headers }, ...(init.body === undefined ? {} : { body: init.body as BodyInit }) });
}

async function expectStatus(response: Response, ok: readonly number[], what: string): Promise<void> {
  if (ok.includes(response.status)) return;
  throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
}

/** Uploads one blob (POST then PUT with the digest), unless the repo already has it. */
async function pushBlob(registry: TestRegistry, repo: string, digest: string, bytes: Uint8Array): Promise<void> {
  const head = await call(registry, 'HEAD', `/v2/${repo}/blobs/${digest}`);
  if (head.status === 200) return;
  const started = await call(registry, 'POST', `/v2/${repo}/blobs/uploads/`);
  await started.arrayBuffer();
  await expectStatus(started, [202], `start upload of ${digest}`);
  const location = new URL(started.headers.get('location') ?? '', `http://${registry.host}`);
  location.searchParams.set('digest', digest);
  const put = await call(registry, 'PUT', location.href, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  await put.arrayBuffer();
  await expectStatus(put, [201], `finish upload of ${digest}`);
}

/** Pushes an image (blobs, child manifests, then the top manifest under every tag); returns its digest. */
export async function pushImage(registry: TestRegistry, repo: string, image: BuiltImage, tags: readonly string[]): Promise<string> {
  const manifestDigests = new Set<string>([image.descriptor.digest]);
  const children: Array<{ digest: string; mediaType: string }> = [];
  const top = image.blobs.get(image.descriptor.digest);
  if (top === undefined) throw new Error('the built image lacks its own manifest');
  const parsed = JSON.parse(new TextDecoder().decode(top)) as { manifests?: Array<{ digest: string; mediaType: string }> };
  for (const child of parsed.manifests ?? []) {
    manifestDigests.add(child.digest);
    children.push(child);
  }
  for (const [digest, bytes] of image.blobs) if (!manifestDigests.has(digest)) await pushBlob(registry, repo, digest, bytes);
  const putManifest = async (ref: string, mediaType: string, bytes: Uint8Array): Promise<void> => {
    const response = await call(registry, 'PUT', `/v2/${repo}/manifests/${ref}`, { headers: { 'content-type': mediaType }, body: bytes });
    await response.arrayBuffer();
    await expectStatus(response, [201], `push manifest ${repo}:${ref}`);
  };
  for (const child of children) await putManifest(child.digest, child.mediaType, image.blobs.get(child.digest) as Uint8Array);
  for (const tag of tags) await putManifest(tag, image.descriptor.mediaType, top);
  return image.descriptor.digest;
}

/** Builds and pushes a test image under `tags`; returns its manifest digest. */
export async function seedTags(registry: TestRegistry, repo: string, tags: readonly string[], options: TestImageOptions): Promise<string> {
  return pushImage(registry, repo, buildTestImage(options), tags);
}

/** The repo's tags as the registry lists them (sorted), [] when the repo does not exist. */
export async function listTagsDirect(registry: TestRegistry, repo: string): Promise<string[]> {
  const response = await call(registry, 'GET', `/v2/${repo}/tags/list`);
  if (response.status === 404) {
    await response.arrayBuffer();
    return [];
  }
  await expectStatus(response, [200], `list tags of ${repo}`);
  const body = (await response.json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

/** The digest of the manifest `repo:tag` serves (hashed from the bytes, not taken from a header); undefined when unknown. */
export async function digestDirect(registry: TestRegistry, repo: string, tag: string): Promise<string | undefined> {
  const response = await call(registry, 'GET', `/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_ACCEPT } });
  if (response.status === 404) {
    await response.arrayBuffer();
    return undefined;
  }
  await expectStatus(response, [200], `read ${repo}:${tag}`);
  return sha256Digest(new Uint8Array(await response.arrayBuffer()));
}

/** Deletes a manifest by digest, bypassing regplan (the suite's self-check that a wrong deletion is noticed). */
export async function deleteManifestDirect(registry: TestRegistry, repo: string, digest: string): Promise<void> {
  const response = await call(registry, 'DELETE', `/v2/${repo}/manifests/${digest}`);
  await response.arrayBuffer();
  await expectStatus(response, [202], `delete ${repo}@${digest}`);
}
