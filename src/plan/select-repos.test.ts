/** Which repos a plan covers when the config has repo patterns: --repo globs, the patterns they reach, and typos. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../config/load.ts';
import type { Config, RepoConfig } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { patternsToExpand, selectRepos } from './make-plan.ts';

const text = [
  'version: 1',
  'policies:',
  '  ci:',
  "    keep: [{ tags: '^v' }]",
  "    delete: { tags: '^pr-' }",
  'repos:',
  '  - repo: ghcr.io/acme/*',
  '    cleanup: ci',
  '  - repo: quay.io/acme/**',
  '    cleanup: ci',
  '  - repo: ghcr.io/tools/lint',
  '    cleanup: ci',
].join('\n');
const config = loadConfig(text, { file: '/work/app/registry.config.yaml' }).config as Config;
const expanded: RepoConfig[] = ['ghcr.io/acme/api', 'ghcr.io/acme/web', 'quay.io/acme/a/b'].map((repo) => ({ repo, bundles: [] }));

test('without globs every pattern is expanded; a glob expands only the patterns on a host it can reach', () => {
  const reached = (globs: string[]) => patternsToExpand(config, globs).map((p) => p.pattern);
  assert.equal(reached([]), ['ghcr.io/acme/*', 'quay.io/acme/**']);
  assert.equal(reached(['ghcr.io/acme/api']), ['ghcr.io/acme/*']);
  assert.equal(reached(['ghcr.io/tools/*']), ['ghcr.io/acme/*'], 'same host: the listing decides');
  assert.equal(reached(['quay*']), ['quay.io/acme/**']);
  assert.equal(reached(['*/acme/*']), ['ghcr.io/acme/*', 'quay.io/acme/**'], 'a glob starting with a wildcard reaches every host');
});

test('--repo globs select among the configured and the expanded repos alike', () => {
  const selected = (globs: string[]) => selectRepos(config, globs, expanded).map((r) => r.repo);
  assert.equal(selected([]), ['ghcr.io/tools/lint', 'ghcr.io/acme/api', 'ghcr.io/acme/web', 'quay.io/acme/a/b']);
  assert.equal(selected(['ghcr.io/acme/w*']), ['ghcr.io/acme/web']);
  assert.equal(selected(['ghcr.io/*']), ['ghcr.io/tools/lint', 'ghcr.io/acme/api', 'ghcr.io/acme/web']);
});

test('a glob matching neither a configured nor an expanded repo is a usage error listing both and the patterns', () => {
  try {
    selectRepos(config, ['ghcr.io/acme/nope'], expanded);
    assert.unreachable('expected a usage error');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.is((error as UsageError).message, '--repo "ghcr.io/acme/nope" matches no repo in the config');
    assert.is((error as UsageError).hint, "the config's repos: ghcr.io/tools/lint, ghcr.io/acme/api, ghcr.io/acme/web, quay.io/acme/a/b, pattern ghcr.io/acme/*, pattern quay.io/acme/**");
  }
});

test.run();
