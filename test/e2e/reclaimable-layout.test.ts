/**
 * The reclaimable-bytes estimate checked against what really goes: on a copy of the demo OCI layout, the plan's
 * `reclaimable` bytes equal the bytes that leave blobs/ when apply deletes and collects the garbage.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { captureIo } from '../support/io.ts';
import { copyDemoLayout, removeTempDirs } from '../support/oci-layout.ts';

test.after(removeTempDirs);

async function blobBytes(layout: string): Promise<number> {
  const dir = path.join(layout, 'blobs', 'sha256');
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(path.join(dir, name))).size;
  return total;
}

test('the estimate equals the bytes garbage collection frees from the layout', async () => {
  const layout = await copyDemoLayout();
  const dir = path.dirname(layout);
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:', `  - repo: oci:${layout}`, '    cleanup: ci', ''].join('\n'),
  );
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
  const planned = captureIo(env, dir);
  assert.is(await runCli(['plan', '--json', '--out', 'plan.json'], planned), 0, planned.err());
  const plan = JSON.parse(planned.out()) as Plan;
  const estimate = plan.reclaimable?.[0];
  assert.ok(estimate !== undefined && estimate.bytes > 0 && estimate.unknownManifests === undefined, JSON.stringify(plan.reclaimable));
  const human = captureIo(env, dir);
  assert.is(await runCli(['plan'], human), 0);
  assert.match(human.out(), /Reclaimable: up to [\d.]+ (B|KiB|MiB) in 1 repo/);
  const before = await blobBytes(layout);
  const applied = captureIo(env, dir);
  assert.is(await runCli(['apply', 'plan.json'], applied), 0, applied.err());
  assert.is(before - (await blobBytes(layout)), estimate.bytes, 'the bytes that left blobs/');
});

test.run();
