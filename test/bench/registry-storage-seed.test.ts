/**
 * The benchmark's direct-to-disk seeding of distribution storage (bench/registry-storage-seed.ts) gives a registry
 * that skopeo, an independent client, reads as if the tags had been pushed: the listing, each tag's digest, and a
 * config it can inspect.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seedRegistryStorage } from '../../bench/registry-storage-seed.ts';
import { syntheticTags } from '../../bench/synthetic-repo.ts';
import { startRegistry } from '../harness/registry.ts';
import { skopeo } from '../support/oci-layout.ts';

test('a registry started on seeded storage lists every tag and serves each manifest and config to skopeo', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'regplan-seed-'));
  try {
    const seeded = seedRegistryStorage(root, 'bench/app', 12);
    assert.equal(seeded, { tags: 12, manifests: 10 });
    const registry = await startRegistry({ auth: 'none', storageRoot: root });
    try {
      const expected = [...syntheticTags('bench/app', 12)];
      const listed = await skopeo(['list-tags', ...registry.skopeoArgs(), `docker://${registry.host}/bench/app`]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal((JSON.parse(listed.stdout) as { Tags: string[] }).Tags.sort(), expected.map((t) => t.tag).sort());
      for (const entry of [expected[3], expected[4], expected[11]]) {
        if (entry === undefined) throw new Error('fixture too short');
        const raw = await skopeo(['inspect', '--raw', ...registry.skopeoArgs(), `docker://${registry.host}/bench/app:${entry.tag}`]);
        assert.equal(raw.code, 0, raw.stderr);
        assert.is(`sha256:${createHash('sha256').update(Buffer.from(raw.stdout, 'latin1')).digest('hex')}`, entry.manifestDigest);
        const inspected = await skopeo(['inspect', ...registry.skopeoArgs(), `docker://${registry.host}/bench/app:${entry.tag}`]);
        assert.equal(inspected.code, 0, inspected.stderr);
        assert.is((JSON.parse(inspected.stdout) as { Created: string }).Created, entry.created.replace('.000Z', 'Z'));
      }
      // Tags 3 and 4 share one manifest (every fifth tag reuses the previous one's).
      assert.is(expected[4]?.manifestDigest, expected[3]?.manifestDigest);
    } finally {
      await registry.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
