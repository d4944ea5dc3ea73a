/**
 * A large OCI image layout written straight to disk, for measuring `oci:` plans at 1k–100k tags (issue 11):
 * building one through the store (a locked index.json edit per tag) would itself be quadratic. Each tag has its
 * own image (config with a `created` time, one shared layer), except every tenth tag, which shares the previous
 * tag's manifest; tag names mix releases (`v1.<n>.0`), `main-<n>` and `pr-<n>` so a cleanup policy keeps some and
 * deletes many. The content is deterministic: the same count gives the same layout, byte for byte.
 * Usage: node bench/layout-fixture.ts <dir> <tags>
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const REF_NAME = 'org.opencontainers.image.ref.name';

/** The tag name of the i-th tag of a fixture. */
export const fixtureTag = (i: number): string => (i % 20 === 0 ? `v1.${i}.0` : i % 2 === 0 ? `main-${i}` : `pr-${i}`);

/** Writes a layout of `tags` tags into `dir` (created; an existing layout there is overwritten). */
export function writeLayoutFixture(dir: string, tags: number): { blobs: number; indexBytes: number } {
  const blobsDir = path.join(dir, 'blobs', 'sha256');
  mkdirSync(blobsDir, { recursive: true });
  const putBlob = (bytes: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(path.join(blobsDir, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layer = putBlob(Buffer.from('regplan layout fixture layer\n'));
  let blobs = 1;
  const start = Date.UTC(2025, 0, 1);
  const entries: unknown[] = [];
  let previous: { digest: string; size: number } | undefined;
  for (let i = 0; i < tags; i++) {
    let manifest = previous;
    if (manifest === undefined || i % 10 !== 9) {
      const created = new Date(start + i * 60_000).toISOString();
      const config = putBlob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created, rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: { Labels: { build: String(i) } } })));
      manifest = putBlob(Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, ...config },
        layers: [{ mediaType: OCI_LAYER, ...layer }],
      })));
      blobs += 2;
    }
    previous = manifest;
    entries.push({ mediaType: OCI_MANIFEST, ...manifest, annotations: { [REF_NAME]: fixtureTag(i) } });
  }
  const index = `${JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }, null, 2)}\n`;
  writeFileSync(path.join(dir, 'index.json'), index);
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { blobs, indexBytes: Buffer.byteLength(index) };
}

/** A config that plans a cleanup of the fixture at `dir` (relative to the config's directory). */
export const fixtureConfig = (dir: string): string =>
  [
    'version: 1',
    'settings: { concurrency: 8, grace: 2h }',
    'policies:',
    '  ci:',
    "    keep: [{ tags: '^v' }, { newest: 20, tags: '^main-' }]",
    "    delete: { tags: '^(pr|main)-' }",
    'repos:',
    `  - repo: oci:${dir}`,
    '    cleanup: ci',
    '',
  ].join('\n');

if (import.meta.main) {
  const [dir, count] = process.argv.slice(2);
  if (dir === undefined || !/^\d+$/.test(count ?? '')) {
    process.stderr.write('usage: node bench/layout-fixture.ts <dir> <tags>\n');
    process.exit(2);
  }
  const started = performance.now();
  const written = writeLayoutFixture(dir, Number(count));
  process.stdout.write(`${dir}: ${count} tags, ${written.blobs} blobs, index.json ${(written.indexBytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
