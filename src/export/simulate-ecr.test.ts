/**
 * The ECR lifecycle simulator against AWS's worked Example A (lifecycle_policy_examples.html, "Filtering on multiple
 * rules") and the AND semantics of a tagPatternList with several entries (lifecycle_policy_parameters.html).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEcrRules, simulateEcr, type ServerImage } from './simulate-ecr.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const image = (digest: string, tags: string[], daysAgo: number): ServerImage => ({ digest, tags, pushedAt: new Date(NOW.getTime() - daysAgo * 86_400_000) });
const rule = (rulePriority: number, selection: Record<string, unknown>) => ({ rulePriority, description: `Rule ${rulePriority}`, selection, action: { type: 'expire' } });

test('Example A: rule 2 ranks image B although rule 1 keeps it, so only image A expires', () => {
  const images = [image('A', ['beta-1', 'prod-1'], 10), image('B', ['beta-2', 'prod-2'], 9), image('C', ['beta-3'], 8)];
  const rules = readEcrRules({ rules: [
    rule(1, { tagStatus: 'tagged', tagPatternList: ['prod*'], countType: 'imageCountMoreThan', countNumber: 1 }),
    rule(2, { tagStatus: 'tagged', tagPatternList: ['beta*'], countType: 'imageCountMoreThan', countNumber: 1 }),
  ] }, 'repo');
  assert.equal(simulateEcr(rules, images, NOW).map((e) => e.image.digest), ['A']);
});

test('several tagPatternList entries select only images with a tag for each (AND), then age them', () => {
  const images = [image('A', ['alpha-1', 'beta-1', 'gamma-1'], 10), image('B', ['alpha-2', 'beta-2', 'gamma-2'], 9), image('C', ['alpha-3', 'beta-3'], 8), image('D', ['gamma-4'], 5)];
  const rules = readEcrRules({ rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'beta*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 5 })] }, 'repo');
  assert.equal(simulateEcr(rules, images, NOW).map((e) => e.image.digest), ['A', 'B', 'C']);
  const both = readEcrRules({ rules: [rule(1, { tagStatus: 'tagged', tagPatternList: ['alpha*', 'gamma*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 5 })] }, 'repo');
  assert.equal(simulateEcr(both, images, NOW).map((e) => e.image.digest), ['A', 'B'], 'AND: C lacks a gamma tag, D an alpha tag');
});

test('a malformed policy is an error naming the rule', () => {
  assert.throws(() => readEcrRules({ rules: [{ rulePriority: 1 }] }, 'repo'), /rules\[0\]/);
  assert.throws(() => readEcrRules({}, 'repo'), /no "rules" list/);
});

test.run();
