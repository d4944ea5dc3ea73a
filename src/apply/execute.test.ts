/**
 * Apply's decisions against an in-memory repo that behaves like a registry (tags -> digests, untag, digest
 * delete, ECR/GitLab's "the last tag takes the manifest"): the guards before content-removing actions, the
 * mapping of a driver's stale refusal, and what a 404 on delete may mean.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Capabilities, Driver, Untagger } from '../drivers/driver.ts';
import { RegistryError, StalePlanError } from '../errors.ts';
import type { DeleteAction, Plan } from '../plan/types.ts';
import { applyPlan, type ActionReport } from './execute.ts';
import { Journal } from './journal.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REPO = 'r.example/app';

/** A registry repo in memory; `untagLastDeletesManifest` models ECR and GitLab. */
function memoryRepo(tags: Record<string, string>, options: { untagLastDeletesManifest?: boolean; onDelete?: (digest: string) => void; onUntag?: (tag: string) => void } = {}) {
  const state = new Map(Object.entries(tags));
  const capabilities: Capabilities = {
    push: false, bundles: false, customArtifactType: false, cleanupPath: '-', untag: true, listUntagged: false, nativeCredentials: [],
    ...(options.untagLastDeletesManifest ? { untagLastDeletesManifest: true } : {}),
  };
  const driver: Driver & Untagger = {
    type: 'ecr',
    capabilities,
    listTags: async () => [...state.keys()],
    resolveTag: async (_name, tag) => (state.has(tag) ? { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: state.get(tag) as string, size: 1 } : undefined),
    deleteManifest: async (_name, digest) => {
      options.onDelete?.(digest);
      for (const [tag, d] of state) if (d === digest) state.delete(tag);
    },
    untag: async (_name, tag) => {
      options.onUntag?.(tag);
      state.delete(tag);
    },
  };
  return { driver, state };
}

const untag = (tag: string, digest: string): DeleteAction => ({ type: 'delete', repo: REPO, tag, digest, mode: 'untag', reason: 'test' });
const manifest = (tag: string, digest: string): DeleteAction => ({ type: 'delete', repo: REPO, tag, digest, mode: 'manifest', reason: 'test' });
const plan = (actions: DeleteAction[]): Plan => ({
  formatVersion: 1, regplanVersion: 'test', createdAt: '2026-12-01T00:00:00Z', configDigest: 'sha256:x', actions, kept: [], skipped: [],
  summary: { push: 0, delete: actions.length, kept: 0, skipped: 0 } as Plan['summary'],
});

async function run(driver: Driver, actions: DeleteAction[], journalDir?: string): Promise<ActionReport[]> {
  const dir = journalDir ?? (await mkdtemp(path.join(tmpdir(), 'regplan-apply-')));
  try {
    const journal = await Journal.open(path.join(dir, 'journal.jsonl'), { plan: 'sha256:test-plan' });
    try {
      return await applyPlan(plan(actions), { open: () => ({ repo: REPO, ref: {} as never, name: 'app', hostKey: 'r.example', driver }), journal });
    } finally {
      await journal.close();
    }
  } finally {
    if (journalDir === undefined) await rm(dir, { recursive: true, force: true });
  }
}
const outcomes = (reports: ActionReport[]) => Object.fromEntries(reports.map((r) => [r.action.tag, r.outcome]));

test('where the last tag takes the manifest, an untag that would now remove the last tag is stale and not done', async () => {
  // Planned: untag pr-1 while the kept "stable" also pointed at D1. Since then "stable" moved to D2.
  const repo = memoryRepo({ 'pr-1': D1, stable: D2 }, { untagLastDeletesManifest: true });
  const reports = await run(repo.driver, [untag('pr-1', D1)]);
  assert.equal(outcomes(reports), { 'pr-1': 'stale' });
  assert.match(reports[0]?.message ?? '', '"pr-1" is now the last tag on');
  assert.is(repo.state.get('pr-1'), D1);
});

test('where the last tag takes the manifest, untags proceed while another tag still holds it', async () => {
  const repo = memoryRepo({ 'pr-1': D1, 'pr-2': D1, stable: D1 }, { untagLastDeletesManifest: true });
  assert.equal(outcomes(await run(repo.driver, [untag('pr-1', D1), untag('pr-2', D1)])), { 'pr-1': 'untagged', 'pr-2': 'untagged' });
  assert.equal([...repo.state.keys()], ['stable']);
});

test('on registries that untag without deleting, the untag needs no guard', async () => {
  const repo = memoryRepo({ 'pr-1': D1 });
  assert.equal(outcomes(await run(repo.driver, [untag('pr-1', D1)])), { 'pr-1': 'untagged' });
});

test("a driver's StalePlanError is reported stale, not failed, and a rerun checks the action again", async () => {
  let refuse = true;
  const repo = memoryRepo({ 'pr-1': D1 }, {
    onDelete: () => {
      if (refuse) throw new StalePlanError('not removing tag "pr-1": it is now the only tag on its image');
    },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-apply-'));
  try {
    const first = await run(repo.driver, [manifest('pr-1', D1)], dir);
    assert.equal(outcomes(first), { 'pr-1': 'stale' });
    assert.match(first[0]?.message ?? '', 'now the only tag');
    refuse = false;
    assert.equal(outcomes(await run(repo.driver, [manifest('pr-1', D1)], dir)), { 'pr-1': 'deleted' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a 404 on delete is "already gone" only when a fresh lookup agrees; otherwise it fails', async () => {
  const notFound = () => {
    throw new RegistryError('Package not found.', { status: 404 });
  };
  const still = memoryRepo({ 'pr-1': D1 }, { onDelete: notFound });
  const reports = await run(still.driver, [manifest('pr-1', D1)]);
  assert.equal(outcomes(reports), { 'pr-1': 'failed' });
  assert.match(reports[0]?.message ?? '', 'Package not found.');
  const gone = memoryRepo({ 'pr-1': D1 }, { onDelete: (digest) => (gone.state.delete('pr-1'), digest && notFound()) });
  assert.equal(outcomes(await run(gone.driver, [manifest('pr-1', D1)])), { 'pr-1': 'already-gone' });
});

test('a listing that fails costs only the actions that need it', async () => {
  const repo = memoryRepo({ 'pr-1': D1, 'pr-2': D2 });
  repo.driver.listTags = async () => {
    throw new RegistryError('listing broke', { status: 500 });
  };
  const reports = await run(repo.driver, [manifest('pr-1', D1), untag('pr-2', D2)]);
  assert.equal(outcomes(reports), { 'pr-1': 'failed', 'pr-2': 'untagged' });
  assert.match(reports.find((r) => r.action.tag === 'pr-1')?.message ?? '', "could not re-check the repo's tags before deleting: listing broke");
});

test.run();
