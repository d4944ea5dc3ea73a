/** Every shipped config (examples/ and the demo registry.config.yaml) validates with no errors and no warnings. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readConfig } from './load.ts';

const root = path.resolve(import.meta.dirname, '../..');
const examples = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).map((f) => path.join(root, 'examples', f));

test('examples/ holds a config for each documented use case', () => {
  const names = examples.map((f) => path.basename(f, '.yaml'));
  for (const wanted of ['ci-cleanup-ghcr', 'semver-release-retention', 'gitlab-with-gitrefs', 'harbor-with-credentials', 'ecr', 'bundles-publish', 'air-gapped-oci-layout', 'org-wide-patterns']) {
    assert.ok(names.includes(wanted), `examples/${wanted}.yaml exists`);
  }
});

for (const file of [...examples, path.join(root, 'registry.config.yaml')]) {
  const name = path.relative(root, file);
  test(`${name} validates with zero errors and zero warnings`, async () => {
    const result = await readConfig(file);
    const show = (ps: { line: number; col: number; message: string }[]) => ps.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n');
    assert.is(show(result.errors), '');
    assert.is(show(result.warnings), '');
    assert.ok(result.config && result.config.repos.length > 0);
  });

  test(`${name} points editors at the schema`, () => {
    const first = readFileSync(file, 'utf8').split('\n')[0];
    const expected = path.relative(path.dirname(file), path.join(root, 'schema/regplan.schema.json'));
    assert.is(first, `# yaml-language-server: $schema=${expected.startsWith('.') ? expected : `./${expected}`}`);
  });
}

test('the demo config cleans the demo layout with the documented policy', async () => {
  const { config } = await readConfig(path.join(root, 'registry.config.yaml'));
  assert.is(config?.repos[0]?.repo, `oci:${path.join(root, 'examples/demo-layout')}`);
  const policy = config?.repos[0]?.cleanup;
  assert.is(policy?.deleteTags, '^(pr|branch|main)-');
  assert.ok(policy?.keep.some((r) => r.kind === 'newest' && r.count === 3 && r.tags === '^main-'));
  assert.ok(policy?.keep.some((r) => r.kind === 'pushedWithin' && r.text === '7d'));
  assert.ok(policy?.keep.some((r) => r.kind === 'semver'));
});

test.run();
