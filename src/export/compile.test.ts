/** What each lifecycle language cannot express, rule by rule, and each registry's safety choice (drop or unsafe). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KeepRule, Policy, RegistryType } from '../config/types.ts';
import { exportPolicy } from './compile.ts';
import type { EcrLifecyclePolicy } from './ecr.ts';
import type { GitlabCleanupPolicy } from './gitlab.ts';

const DAY = 86_400_000;
const HOST: Record<string, [string, string]> = {
  ecr: ['123456789012.dkr.ecr.us-east-1.amazonaws.com', 'acme/api'],
  gitlab: ['registry.gitlab.com', 'acme/api'],
  harbor: ['harbor.example.com', 'acme/api'],
  gcr: ['europe-docker.pkg.dev', 'p/r/api'],
  quay: ['quay.io', 'acme/api'],
  dockerhub: ['docker.io', 'acme/api'],
};
const run = (type: RegistryType, keep: KeepRule[], more: Partial<Policy> = {}, graceMs = 2 * 3_600_000) => {
  const [host, name] = HOST[type] as [string, string];
  return exportPolicy({ repo: `${host}/${name}`, type, host, name }, { name: 'p', keep, untagged: 'keep', ...more }, { graceMs });
};
const semver: KeepRule = { kind: 'semver', latestPerMinor: 1, prerelease: false };
const tags = (pattern: string): KeepRule => ({ kind: 'tags', pattern });

test('every registry with a language: semver, gitRefs, listed and inUse cannot be expressed; the export says which rule and why', () => {
  const dynamic: KeepRule[] = [semver, { kind: 'gitRefs', repo: '.', branches: true, tags: true, commits: 5 }, { kind: 'listed', file: 'deployed.txt' }, { kind: 'inUse', source: { kind: 'file', file: 'running.txt' } }];
  for (const type of ['ecr', 'gitlab', 'harbor', 'gcr', 'quay'] as const) {
    const exported = run(type, [tags('^v'), ...dynamic]);
    assert.is(exported.status, 'unsafe', type);
    assert.is(exported.policy, undefined, `${type}: no policy printed when unsafe`);
    const rules = exported.limitations.map((l) => l.rule);
    for (const label of ['keep[1] semver', 'keep[2] gitRefs', 'keep[3] listed', 'keep[4] inUse', 'content relationships']) assert.ok(rules.includes(label), `${type} names ${label}`);
    assert.match(exported.limitations.find((l) => l.rule === 'keep[3] listed')?.reason ?? '', 'deployed.txt');
  }
});

test('ECR drops tagged rules for a delete scope (an image expires with all its tags) and for newest (counts rank referrers)', () => {
  const scoped = run('ecr', [tags('^v')], { deleteTags: '^pr-' });
  assert.is(scoped.status, 'unsafe');
  assert.match(scoped.limitations.find((l) => l.rule === 'delete.tags')?.reason ?? '', 'every tag on it');
  const counted = run('ecr', [{ kind: 'newest', count: 5 }]);
  assert.is(counted.status, 'unsafe');
  assert.match(counted.limitations.find((l) => l.rule === 'keep[0] newest')?.reason ?? '', /Example A/);
});

test('ECR: a tags rule becomes a protecting rule before the one expiring rule; untagged expiry is reported, not exported', () => {
  const exported = run('ecr', [tags('^v\\d+$'), { kind: 'pushedWithin', durationMs: 10 * DAY, text: '10d' }], { untagged: 'delete' });
  assert.is(exported.status, 'exported');
  const { rules } = exported.policy as EcrLifecyclePolicy;
  assert.equal(rules.map((r) => [r.rulePriority, r.selection.tagPatternList, r.selection.countNumber]), [[1, ['sha256-*'], 36500], [2, ['v*'], 36500], [3, ['*'], 10]]);
  assert.ok(rules.every((r) => r.selection.tagStatus === 'tagged'));
  assert.match(exported.limitations.find((l) => l.rule === 'untagged: delete')?.reason ?? '', 'signatures');
  assert.ok(exported.notes.some((n) => n.includes('keeps more tags than regplan')), 'a superset is noted');
});

test('GitLab rounds keep_n and older_than up to allowed values, keeps signature tags out of the count, and refuses > 100 or > 90d', () => {
  const exported = run('gitlab', [{ kind: 'newest', count: 7 }, { kind: 'pushedWithin', durationMs: 8 * DAY, text: '8d' }]);
  const attributes = (exported.policy as GitlabCleanupPolicy).container_expiration_policy_attributes;
  assert.is(attributes.keep_n, 10);
  assert.is(attributes.older_than, '14d');
  assert.match(attributes.name_regex_keep, /sha256-/);
  assert.ok(attributes.name_regex_delete.startsWith('(?:|[^s]'), 'the delete regex leaves sha256- tags out');
  assert.is(run('gitlab', [{ kind: 'newest', count: 150 }]).status, 'unsafe');
  assert.is(run('gitlab', [{ kind: 'pushedWithin', durationMs: 120 * DAY, text: '120d' }]).status, 'unsafe');
  assert.is(run('gitlab', [{ kind: 'newest', count: 3, tags: '^main-' }], { deleteTags: '^pr-' }).status, 'unsafe', 'keep_n counts the delete scope, not another scope');
});

test('groupBy and pulledWithin are never exported', () => {
  const grouped = run('harbor', [{ kind: 'newest', count: 2, groupBy: '^pr-(\\d+)-' }]);
  assert.is(grouped.status, 'unsafe');
  assert.match(grouped.limitations[0]?.reason ?? '', 'per group');
  const pulled = run('quay', [{ kind: 'pulledWithin', durationMs: 30 * DAY, text: '30d' }]);
  assert.is(pulled.status, 'unsafe');
  assert.match(pulled.limitations[0]?.reason ?? '', 'unknown');
});

test('Quay: one pattern cannot both select delete.tags and exclude kept tags', () => {
  assert.is(run('quay', [tags('^v')], { deleteTags: '^pr-' }).status, 'unsafe');
  assert.is(run('quay', [{ kind: 'newest', count: 3 }], { deleteTags: '^pr-' }, 0).status, 'exported');
  assert.is(run('quay', [{ kind: 'newest', count: 3 }], { deleteTags: '.' }, 0).status, 'unsafe', 'the scope may select signature tags');
});

test('registries without a lifecycle language are unsupported, with a reason', () => {
  const exported = run('dockerhub', [tags('^v')]);
  assert.is(exported.status, 'unsupported');
  assert.match(exported.notes[0] ?? '', 'Docker Hub');
});

test.run();
