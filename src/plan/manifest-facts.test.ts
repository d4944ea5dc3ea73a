import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configCreated, manifestContent } from './manifest-facts.ts';

const bytesOf = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const D = (c: string) => `sha256:${c.repeat(64)}`;
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: 10 };

test('an image manifest: its facts, and its created time comes from its config', () => {
  const bytes = bytesOf({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: CONFIG, layers: [{ digest: D('e'), size: 99 }, { digest: D('f'), size: -1 }, { digest: 'sha256:x', size: 5 }] });
  const content = manifestContent(bytes);
  // blobs: the config and valid layers with their sizes (a negative size or a malformed digest is left out)
  assert.equal(content, { facts: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', children: [], size: bytes.byteLength, blobs: [{ digest: D('c'), size: 10 }, { digest: D('e'), size: 99 }] }, created: { config: CONFIG } });
});

test('an index without a mediaType field: an index by its shape, created from its valid children', () => {
  const bytes = bytesOf({ schemaVersion: 2, manifests: [{ digest: D('a') }, { digest: 'sha256:short' }, null, { digest: 7 }] });
  const content = manifestContent(bytes);
  assert.equal(content, { facts: { mediaType: 'application/vnd.oci.image.index.v1+json', children: [D('a'), 'sha256:short'], size: bytes.byteLength }, created: { children: [D('a')] } });
});

test('a referrer: subject and artifactType; a created annotation wins over the config', () => {
  const bytes = bytesOf({
    schemaVersion: 2,
    artifactType: 'application/vnd.dev.sigstore.bundle+json',
    config: CONFIG,
    layers: [],
    subject: { digest: D('b') },
    annotations: { 'org.opencontainers.image.created': '2026-01-02T03:04:05Z' },
  });
  const content = manifestContent(bytes);
  assert.equal(content, {
    facts: { mediaType: 'application/vnd.oci.image.manifest.v1+json', children: [], subject: D('b'), artifactType: 'application/vnd.dev.sigstore.bundle+json', size: bytes.byteLength, blobs: [{ digest: D('c'), size: 10 }] },
    created: { annotation: '2026-01-02T03:04:05.000Z' },
  });
});

test('a config that is not an image config, or names an invalid digest, gives no created source', () => {
  assert.is(manifestContent(bytesOf({ schemaVersion: 2, config: { ...CONFIG, mediaType: 'application/vnd.cncf.helm.config.v1+json' }, layers: [] }))?.created, undefined);
  assert.is(manifestContent(bytesOf({ schemaVersion: 2, config: { ...CONFIG, digest: 'sha256:../../etc' }, layers: [] }))?.created, undefined);
});

test('bytes that are not a JSON object are not a manifest; a config without a usable created has none', () => {
  for (const text of ['', 'null', '[]', '"x"', '{"torn":']) assert.is(manifestContent(new TextEncoder().encode(text)), undefined, text);
  assert.is(configCreated(bytesOf({ created: '2026-06-01T00:00:00Z' })), '2026-06-01T00:00:00.000Z');
  for (const value of [{}, { created: 'yesterday' }, [], 'not json']) assert.is(configCreated(typeof value === 'string' ? new TextEncoder().encode(value) : bytesOf(value)), undefined);
});

test.run();
