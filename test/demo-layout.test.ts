import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { makeDemoLayout } from '../examples/make-demo-layout.ts';
import { OciLayout } from '../src/layout/store.ts';
import { DEMO_LAYOUT, removeTempDirs, skopeo, skopeoDigest, tempDir } from './support/oci-layout.ts';

test.after.each(removeTempDirs);

async function fileHashes(dir: string, prefix = ''): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const name = path.join(prefix, entry.name);
    if (entry.isDirectory()) Object.assign(hashes, await fileHashes(dir, name));
    else hashes[name] = createHash('sha256').update(await readFile(path.join(dir, name))).digest('hex');
  }
  return hashes;
}

test('make-demo-layout.ts regenerates the committed demo layout byte for byte', async () => {
  const fresh = path.join(await tempDir(), 'demo');
  await makeDemoLayout(fresh);
  assert.equal(await fileHashes(fresh), await fileHashes(DEMO_LAYOUT));
});

test('the demo layout is small and skopeo reads every tag at the digest index.json names', async () => {
  const sizes = Object.keys(await fileHashes(DEMO_LAYOUT));
  assert.ok(sizes.length < 80);
  let total = 0;
  for (const file of sizes) total += (await readFile(path.join(DEMO_LAYOUT, file))).length;
  assert.ok(total < 300_000, `${total} bytes`);
  const layout = await OciLayout.open(DEMO_LAYOUT);
  for (const { tag, descriptor } of await layout.listTagged()) assert.is(await skopeoDigest(DEMO_LAYOUT, tag), descriptor.digest, tag);
  const copy = await skopeo(['copy', '--all', '--preserve-digests', `oci:${DEMO_LAYOUT}:v2.0.0`, `oci:${path.join(await tempDir(), 'out')}:v2.0.0`]);
  assert.is(copy.code, 0, copy.stderr);
});

test.run();
