/** The normalized config: defaults the language promises, and relative paths resolved against the config's directory. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from './load.ts';
import type { Config } from './types.ts';

function valid(lines: string[], file = '/work/app/registry.config.yaml'): Config {
  const result = loadConfig(lines.join('\n') + '\n', { file });
  assert.equal(result.errors, [], 'the config is valid');
  assert.ok(result.config);
  return result.config;
}

test('defaults: concurrency 8, grace 2h, timeout 120s, untagged keep, insecure false, no registry type', () => {
  const config = valid([
    'version: 1',
    'registries:',
    '  registry.example.com: { type: auto }',
    'policies:',
    '  ci: { keep: [{ newest: 3 }] }',
    'repos:',
    '  - repo: registry.example.com/a',
    '    cleanup: ci',
  ]);
  assert.equal(config.settings, { concurrency: 8, graceMs: 2 * 3600_000, timeoutMs: 120_000 });
  assert.is(config.policies['ci']?.untagged, 'keep');
  assert.equal(config.registries['registry.example.com'], { host: 'registry.example.com', insecure: false });
  assert.is(config.file, '/work/app/registry.config.yaml');
  assert.is(config.dir, '/work/app');
});

test('values as written win over defaults; durations are milliseconds', () => {
  const config = valid([
    'version: 1',
    'settings: { concurrency: 2, grace: 1d12h, timeout: 5m }',
    'registries:',
    '  harbor.example.com: { type: harbor, insecure: true, api: "https://harbor.example.com/" }',
    'policies:',
    '  ci:',
    '    keep: [{ pushedWithin: 1w }]',
    '    untagged: delete',
    "    delete: { tags: '^pr-' }",
    'repos:',
    '  - repo: harbor.example.com/team/api',
    '    cleanup: ci',
  ]);
  assert.equal(config.settings, { concurrency: 2, graceMs: 36 * 3600_000, timeoutMs: 300_000 });
  assert.equal(config.registries['harbor.example.com'], { host: 'harbor.example.com', type: 'harbor', insecure: true, api: 'https://harbor.example.com' });
  assert.equal(config.policies['ci'], {
    name: 'ci',
    keep: [{ kind: 'pushedWithin', durationMs: 7 * 86_400_000, text: '1w' }],
    deleteTags: '^pr-',
    untagged: 'delete',
  });
});

test('every keep rule kind normalizes to its tagged form with defaults filled in', () => {
  const config = valid([
    'version: 1',
    'policies:',
    '  all:',
    '    keep:',
    "      - tags: '^v'",
    '      - newest: 10',
    "        tags: '^main-'",
    '      - newest: 2',
    '      - semver: { latestPerMinor: 2, latestMajors: 3 }',
    '      - gitRefs: {}',
    '      - gitRefs: { repo: ../src, branches: false, commits: 5 }',
    '      - listed: deployed.txt',
    'repos:',
    '  - repo: ghcr.io/acme/api',
    '    cleanup: all',
  ]);
  assert.equal(config.policies['all']?.keep, [
    { kind: 'tags', pattern: '^v' },
    { kind: 'newest', count: 10, tags: '^main-' },
    { kind: 'newest', count: 2 },
    { kind: 'semver', latestPerMinor: 2, latestMajors: 3, prerelease: false },
    { kind: 'gitRefs', repo: '/work/app', branches: true, tags: true, commits: 0 },
    { kind: 'gitRefs', repo: '/work/src', branches: false, tags: true, commits: 5 },
    { kind: 'listed', file: '/work/app/deployed.txt', where: '/work/app/registry.config.yaml:12:17' },
  ]);
});

test('relative paths resolve against the config directory, and none of them has to exist', () => {
  const config = valid([
    'version: 1',
    'registries:',
    '  ghcr.io:',
    '    credentials: { username: { env: GH_USER }, token: { file: secrets/gh-token } }',
    'repos:',
    '  - repo: oci:./layouts/demo',
    '    bundles:',
    '      - tag: chart-1.0.0',
    '        chart: ./charts/web',
    '      - tag: docs',
    '        files: [dist/a.tgz, /abs/b.json]',
    '        artifactType: application/vnd.acme.docs.v1',
    '      - tag: image',
    '        image: oci:../build/layout:web',
    '        annotations: { org.opencontainers.image.source: "https://example.com" }',
    '  - repo: ghcr.io/acme/web',
    '    bundles:',
    '      - tag: "1"',
    '        image: oci:build',
  ], '/srv/team/regplan/registry.config.yaml');
  assert.equal(config.registries['ghcr.io']?.credentials, { username: { env: 'GH_USER' }, token: { file: '/srv/team/regplan/secrets/gh-token' } });
  const [layout, web] = config.repos;
  assert.is(layout?.repo, 'oci:/srv/team/regplan/layouts/demo');
  assert.is(layout?.written, 'oci:./layouts/demo');
  assert.equal(layout?.bundles, [
    { tag: 'chart-1.0.0', kind: 'chart', chart: '/srv/team/regplan/charts/web', annotations: {} },
    { tag: 'docs', kind: 'files', files: ['/srv/team/regplan/dist/a.tgz', '/abs/b.json'], artifactType: 'application/vnd.acme.docs.v1', annotations: {} },
    { tag: 'image', kind: 'image', image: 'oci:/srv/team/build/layout:web', annotations: { 'org.opencontainers.image.source': 'https://example.com' } },
  ]);
  assert.is(web?.repo, 'ghcr.io/acme/web');
  assert.is(web?.written, undefined);
  assert.equal(web?.bundles[0], { tag: '1', kind: 'image', image: 'oci:/srv/team/regplan/build', annotations: {} });
});

test('a named cleanup resolves to the policy; an inline one is named after its repo', () => {
  const config = valid([
    'version: 1',
    'policies:',
    '  ci: { keep: [{ newest: 3 }] }',
    'repos:',
    '  - repo: ghcr.io/acme/api',
    '    cleanup: ci',
    '  - repo: ghcr.io/acme/web',
    "    cleanup: { delete: { tags: '^pr-' } }",
  ]);
  assert.is(config.repos[0]?.cleanup, config.policies['ci']);
  assert.equal(config.repos[1]?.cleanup, { name: 'inline:ghcr.io/acme/web', keep: [], deleteTags: '^pr-', untagged: 'keep' });
  assert.equal(Object.keys(config.policies), ['ci']);
});

test.run();
