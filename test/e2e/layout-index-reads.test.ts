/**
 * A plan and an apply on a large OCI layout read and write index.json a bounded number of times, whatever the
 * tag count (issue 11: every manifest read re-parsed the whole index.json, and every deletion rewrote it, which
 * made `oci:` plans and applies quadratic). Counted through `--debug`, which names every read and write of
 * index.json; the outcome is checked too: exactly the planned tags are gone and the kept ones still resolve.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fixtureConfig, writeLayoutFixture } from '../../bench/layout-fixture.ts';
import { runCli } from '../../src/cli/main.ts';
import { OciLayout } from '../../src/layout/store.ts';
import type { Plan } from '../../src/plan/types.ts';
import { captureIo } from '../support/io.ts';
import { removeTempDirs, skopeoDigest, tempDir } from '../support/oci-layout.ts';

const TAGS = 600;

test.after(removeTempDirs);

const count = (text: string, what: string): number => text.split('\n').filter((line) => line.includes(what)).length;

test(`plan of ${TAGS} tags reads index.json once; apply of its deletions writes it a few times, not once per deletion`, async () => {
  const dir = await tempDir();
  writeLayoutFixture(path.join(dir, 'layout'), TAGS);
  await writeFile(path.join(dir, 'registry.config.yaml'), fixtureConfig('./layout'));
  const run = async (...argv: string[]) => {
    const io = captureIo({ REGPLAN_CACHE_DIR: path.join(dir, '.cache'), HOME: dir }, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };

  const planned = await run('--debug', 'plan', '--out', 'plan.json');
  assert.is(planned.code, 0, planned.err);
  assert.is(count(planned.err, 'read index.json'), 1, 'one parse for the listing and every manifest lookup');
  const plan = JSON.parse(await readFile(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  const deleted = plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag ?? '');
  assert.ok(deleted.length > TAGS / 2, `the fixture's policy deletes most tags (${deleted.length})`);

  const applied = await run('--debug', 'apply', 'plan.json');
  assert.is(applied.code, 0, applied.err);
  const writes = count(applied.err, 'wrote index.json');
  assert.ok(writes >= 1 && writes <= 3, `${writes} index.json writes for ${deleted.length} deletions`);
  assert.ok(count(applied.err, 'read index.json') <= 2 * writes + 3, `index.json reads: ${count(applied.err, 'read index.json')}`);

  const left = new Set(await (await OciLayout.open(path.join(dir, 'layout'))).listTags());
  assert.equal(deleted.filter((tag) => left.has(tag)), [], 'every planned deletion is done');
  assert.equal(plan.kept.map((k) => k.tag).filter((tag) => !left.has(tag)), [], 'every kept tag is still there');
  const kept = plan.kept[0];
  assert.ok(kept);
  assert.is(await skopeoDigest(path.join(dir, 'layout'), kept.tag), kept.digest);
});

test.run();
