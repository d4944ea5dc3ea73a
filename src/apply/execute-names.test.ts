import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Capabilities, Driver, Untagger } from '../drivers/driver.ts';
import type { OpenedRepo } from '../drivers/open.ts';
import { parseRepo } from '../model/repo-address.ts';
import { assemblePlan } from '../plan/assemble.ts';
import type { DeleteAction } from '../plan/types.ts';
import { applyPlan } from './execute.ts';
import { Journal } from './journal.ts';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const capabilities: Capabilities = { push: false, bundles: false, customArtifactType: false, cleanupPath: 'test', untag: true, listUntagged: false, nativeCredentials: [] };
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A registry's tags as a driver sees them; records every call that names a tag or digest. */
function fakeRegistry(tags: Record<string, string>) {
  const calls: string[] = [];
  const driver: Driver & Untagger = {
    type: 'gcr',
    capabilities,
    listTags: async () => [...Object.keys(tags), 'pr-1/../v1.0.0', '../../../v2/other/manifests/latest'],
    resolveTag: async (_name, tag) => {
      calls.push(`resolve ${tag}`);
      const found = tags[tag];
      return found === undefined ? undefined : { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: found, size: 1 };
    },
    deleteManifest: async (_name, d) => void calls.push(`delete ${d}`),
    untag: async (_name, tag) => void calls.push(`untag ${tag}`),
  };
  const opened: OpenedRepo = { repo: 'r.example/app', ref: parseRepo('r.example/app'), name: 'app', hostKey: 'r.example', driver };
  return { calls, open: () => opened };
}

async function journal(): Promise<Journal> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-execute-'));
  dirs.push(dir);
  return Journal.open(path.join(dir, 'journal.jsonl'), { plan: 'sha256:test-plan' });
}

const remove = (fields: Partial<DeleteAction>): DeleteAction => ({ type: 'delete', repo: 'r.example/app', digest: digest('a'), mode: 'manifest', reason: 'test', ...fields });

test('apply refuses an action whose tag or digest fails the grammar, without a single request', async () => {
  const registry = fakeRegistry({ 'v1.0.0': digest('a') });
  const plan = assemblePlan(
    { actions: [remove({ tag: 'pr-1/../v1.0.0', mode: 'untag' }), remove({ tag: 'pr-2', digest: 'sha256:../../x' })], kept: [], skipped: [] },
    { createdAt: new Date(0), configDigest: 'sha256:test' },
  );
  const reports = await applyPlan(plan, { open: registry.open, journal: await journal() });
  assert.equal(reports.map((r) => r.outcome), ['failed', 'failed']);
  assert.match(reports[0]?.message ?? '', 'refusing to act on invalid tag "pr-1/../v1.0.0"');
  assert.match(reports[1]?.message ?? '', 'refusing to act on invalid digest "sha256:../../x"');
  assert.not.ok(registry.calls.some((c) => c.startsWith('untag') || c.startsWith('delete')), registry.calls.join(', '));
});

test('the re-check before a manifest delete never resolves a listed name that fails the grammar', async () => {
  const registry = fakeRegistry({ 'v1.0.0': digest('a'), 'pr-9': digest('b') });
  const plan = assemblePlan({ actions: [remove({ tag: 'pr-9', digest: digest('b') })], kept: [], skipped: [] }, { createdAt: new Date(0), configDigest: 'sha256:test' });
  const reports = await applyPlan(plan, { open: registry.open, journal: await journal() });
  assert.equal(reports.map((r) => r.outcome), ['deleted']);
  assert.equal(registry.calls.filter((c) => c.startsWith('resolve')).sort(), ['resolve pr-9', 'resolve pr-9', 'resolve v1.0.0']);
  assert.equal(registry.calls.filter((c) => c.startsWith('delete')), [`delete ${digest('b')}`]);
});

test.run();
