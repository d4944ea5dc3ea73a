/**
 * Golden files of the exported policy per registry (src/export/__golden__/*.json), each validated against a JSON
 * Schema written from its vendor's documentation (src/export/schemas/). REGPLAN_UPDATE_GOLDEN=1 rewrites the
 * golden files; review the diff. Each schema is also shown to reject a document its vendor refuses, so it cannot
 * pass everything.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { KeepRule, Policy, RegistryType } from '../config/types.ts';
import { exportPolicy } from './compile.ts';
import type { PolicyFormat } from './types.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const schema = (format: PolicyFormat) => JSON.parse(readFileSync(new URL(`./schemas/${format}.schema.json`, import.meta.url), 'utf8')) as object;
const validators = new Map<PolicyFormat, ReturnType<typeof ajv.compile>>();
const validate = (format: PolicyFormat, document: unknown) => {
  let check = validators.get(format);
  if (!check) validators.set(format, (check = ajv.compile(schema(format))));
  return check(document) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
};

const policy = (keep: KeepRule[], more: Partial<Policy> = {}): Policy => ({ name: 'golden', keep, untagged: 'delete', ...more });
const tags = (pattern: string): KeepRule => ({ kind: 'tags', pattern });
const newest = (count: number, scope?: string): KeepRule => ({ kind: 'newest', count, ...(scope === undefined ? {} : { tags: scope }) });
const pushedWithin = (days: number): KeepRule => ({ kind: 'pushedWithin', durationMs: days * DAY, text: `${days}d` });

const CASES: { name: string; type: RegistryType; host: string; repoName: string; policy: Policy; graceMs: number; format: PolicyFormat }[] = [
  { name: 'ecr', type: 'ecr', host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repoName: 'acme/api', policy: policy([tags('^v\\d+\\.\\d+\\.\\d+$'), tags('^(main|release)-'), pushedWithin(14)]), graceMs: 2 * HOUR, format: 'ecr-lifecycle-policy' },
  { name: 'gitlab', type: 'gitlab', host: 'registry.gitlab.com', repoName: 'acme/api', policy: policy([tags('^v'), newest(10, '^pr-'), pushedWithin(10)], { deleteTags: '^pr-' }), graceMs: 2 * HOUR, format: 'gitlab-cleanup-policy' },
  { name: 'harbor', type: 'harbor', host: 'harbor.example.com', repoName: 'acme/api', policy: policy([tags('^v'), newest(5), pushedWithin(7)], { deleteTags: '^(pr|branch)-' }), graceMs: 2 * HOUR, format: 'harbor-retention-policy' },
  { name: 'artifact-registry', type: 'gcr', host: 'europe-docker.pkg.dev', repoName: 'acme-prod/images/api', policy: policy([tags('^v'), pushedWithin(30)]), graceMs: 2 * HOUR, format: 'artifact-registry-cleanup-policies' },
  { name: 'quay', type: 'quay', host: 'quay.io', repoName: 'acme/api', policy: policy([tags('^v'), tags('^release-'), pushedWithin(14)]), graceMs: 2 * HOUR, format: 'quay-autoprune-policies' },
];

for (const c of CASES) {
  test(`${c.name}: the export matches its golden file and the vendor's schema`, () => {
    const exported = exportPolicy({ repo: `${c.host}/${c.repoName}`, type: c.type, host: c.host, name: c.repoName }, c.policy, { graceMs: c.graceMs });
    assert.is(exported.status, 'exported', JSON.stringify(exported.limitations));
    assert.is(exported.format, c.format);
    const file = new URL(`./__golden__/${c.name}.json`, import.meta.url);
    const text = `${JSON.stringify(exported.policy, null, 2)}\n`;
    if (process.env['REGPLAN_UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
    assert.fixture(text, readFileSync(file, 'utf8'));
    assert.equal(validate(c.format, exported.policy), []);
  });
}

test('each schema rejects a document its vendor refuses', () => {
  const broken: Record<PolicyFormat, unknown> = {
    // tagged without a pattern or prefix list; five wildcards
    'ecr-lifecycle-policy': { rules: [{ rulePriority: 1, selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }, { rulePriority: 2, selection: { tagStatus: 'tagged', tagPatternList: ['a*b*c*d*e*f'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }, action: { type: 'expire' } }] },
    // keep_n 3 and older_than 10d are not values GitLab accepts
    'gitlab-cleanup-policy': { container_expiration_policy_attributes: { enabled: true, cadence: '1d', keep_n: 3, older_than: '10d', name_regex_delete: '.*' } },
    // 16 rules
    'harbor-retention-policy': { algorithm: 'or', rules: Array.from({ length: 16 }, () => ({ disabled: false, action: 'retain', template: 'always', params: {}, tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }], scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] } })), trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' } }, scope: { level: 'project', ref: 1 } },
    // a DELETE with mostRecentVersions; olderThan not a Duration
    'artifact-registry-cleanup-policies': [{ id: 'x', action: 'DELETE', mostRecentVersions: { keepCount: 3 } }, { id: 'y', action: 'DELETE', condition: { olderThan: '30d' } }],
    // number_of_tags with a time delta
    'quay-autoprune-policies': [{ method: 'number_of_tags', value: '7d' }],
  };
  for (const [format, document] of Object.entries(broken) as [PolicyFormat, unknown][]) assert.ok(validate(format, document).length > 0, `${format} schema accepts a broken document`);
});

test.run();
