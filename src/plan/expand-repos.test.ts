/**
 * Repo pattern expansion through the default driver's catalog, served over real HTTP by a scripted registry:
 * filtering, hostile names, explicit entries and earlier patterns winning, and how apply checks a saved plan's
 * expansions against the config.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import type { Driver } from '../drivers/driver.ts';
import { repoOpener, type OpenedRepo } from '../drivers/open.ts';
import { StalePlanError } from '../errors.ts';
import { startScriptedServer, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { captureIo } from '../../test/support/io.ts';
import { expandRepoPatterns, narrowExpansions, plannedRepoAddresses } from './expand-repos.ts';

const CATALOG = ['team/api', 'team/web', 'team/legacy-api', 'team/sub/deep', 'team/../admin', 'team/API', 'team/ok\u001b[31m', 'other/x'];

function configFor(host: string, repos: string[]): Config {
  const text = ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^pr-' }", '  hold:', "    keep: [{ tags: '.*' }]", 'repos:', ...repos].join('\n');
  const result = loadConfig(text, { file: '/work/app/registry.config.yaml' });
  assert.equal(result.errors, []);
  return result.config as Config;
}

async function withCatalog(body: (server: ScriptedServer, open: (config: Config) => (address: string) => OpenedRepo) => Promise<void>): Promise<void> {
  const server = await startScriptedServer((request) => (request.path === '/v2/_catalog' ? { status: 200, body: { repositories: CATALOG } } : { status: 404, body: {} }));
  const home = await mkdtemp(path.join(tmpdir(), 'regplan-expand-'));
  try {
    await body(server, (config) => repoOpener({ config, io: captureIo({ HOME: home, DOCKER_CONFIG: home }) }));
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
}

test('a pattern becomes the matching catalog names with its policy; hostile names are reported, never requested', async () => {
  await withCatalog(async (server, open) => {
    const config = configFor(server.host, [`  - repo: ${server.host}/team/*`, '    cleanup: ci', `    exclude: [${server.host}/team/legacy-*]`]);
    const expanded = await expandRepoPatterns(config.repoPatterns ?? [], { config, open: open(config) });
    assert.equal(expanded.repos.map((r) => [r.repo, r.cleanup?.name]), [[`${server.host}/team/api`, 'ci'], [`${server.host}/team/web`, 'ci']]);
    assert.equal(expanded.expansions, [{
      pattern: `${server.host}/team/*`,
      repos: [`${server.host}/team/api`, `${server.host}/team/web`],
      excluded: [{ repo: `${server.host}/team/legacy-api`, by: `${server.host}/team/legacy-*` }],
      rejected: ['"team/API"', '"team/ok\\u001b[31m"'],
    }]);
    assert.equal(server.requests.map((r) => r.path), ['/v2/_catalog'], 'only the catalog was asked for');
  });
});

test('a repo with its own entry keeps it; a repo two patterns match belongs to the first; one listing serves both', async () => {
  await withCatalog(async (server, open) => {
    const config = configFor(server.host, [
      `  - repo: ${server.host}/team/**`, '    cleanup: ci',
      `  - repo: ${server.host}/team/web`, '    cleanup: hold',
      `  - repo: ${server.host}/team/*`, '    cleanup: hold',
    ]);
    const expanded = await expandRepoPatterns(config.repoPatterns ?? [], { config, open: open(config) });
    const [all, single] = expanded.expansions;
    assert.equal(all?.repos, [`${server.host}/team/api`, `${server.host}/team/legacy-api`, `${server.host}/team/sub/deep`]);
    assert.equal(all?.shadowed, [{ repo: `${server.host}/team/web`, by: `its own entry (${server.host}/team/web)` }]);
    assert.equal(all?.rejected, ['"team/../admin"', '"team/API"', '"team/ok\\u001b[31m"']);
    assert.equal(single?.repos, []);
    assert.equal(single?.shadowed?.map((s) => s.by), [`${server.host}/team/**`, `its own entry (${server.host}/team/web)`, `${server.host}/team/**`]);
    assert.is(server.requests.filter((r) => r.path === '/v2/_catalog').length, 1);
    // Narrowed to one repo (a --repo glob, a shard): the first keeps it; the second had none and stays to say why.
    // Plans list expansions sorted by pattern (team/* before team/**), whatever the config order.
    assert.equal(narrowExpansions(expanded.expansions, expanded.repos.slice(0, 1)).map((e) => [e.pattern, e.repos]), [[`${server.host}/team/*`, []], [`${server.host}/team/**`, [`${server.host}/team/api`]]]);
    assert.equal(narrowExpansions(expanded.expansions.slice(0, 1), []), [], 'an expansion narrowed to nothing is dropped');
  });
});

test('a pattern matching nothing is an error naming it, its line and what the registry did list', async () => {
  await withCatalog(async (server, open) => {
    const config = configFor(server.host, [`  - repo: ${server.host}/team/*-svc`, '    cleanup: ci']);
    try {
      await expandRepoPatterns(config.repoPatterns ?? [], { config, open: open(config) });
      assert.unreachable('expected an error');
    } catch (error) {
      const { message, hint } = error as { message: string; hint: string };
      assert.is(message, `repo pattern "${server.host}/team/*-svc" (/work/app/registry.config.yaml:9:11) matches no repository on ${server.host}`);
      assert.match(hint, 'the registry lists 7 under "team/": "team/api", "team/web"');
    }
  });
});

test('a registry whose driver cannot list repositories is an error saying to list the repos explicitly', async () => {
  const config = configFor('registry.example.com', ['  - repo: registry.example.com/acme/*', '    cleanup: ci']);
  const driver: Driver = {
    type: 'nexus',
    capabilities: { push: true, bundles: true, customArtifactType: true, cleanupPath: '', untag: false, listUntagged: false, nativeCredentials: [] },
    listTags: async () => [],
    resolveTag: async () => undefined,
    deleteManifest: async () => undefined,
  };
  const open = (address: string): OpenedRepo => ({ repo: address, ref: { kind: 'registry', address, host: 'registry.example.com', name: 'acme/x' }, name: 'acme/x', hostKey: 'registry.example.com', driver });
  try {
    await expandRepoPatterns(config.repoPatterns ?? [], { config, open });
    assert.unreachable('expected an error');
  } catch (error) {
    const { message, hint } = error as { message: string; hint: string };
    assert.match(message, 'cannot expand repo pattern "registry.example.com/acme/*" (/work/app/registry.config.yaml:9:11): the nexus driver for registry.example.com cannot list repositories');
    assert.match(hint, 'list the repos explicitly in repos[]');
  }
});

test('apply takes a saved plan\'s expansions only when the config has the pattern and the pattern matches each repo', () => {
  const config = configFor('ghcr.io', ['  - repo: ghcr.io/acme/*', '    cleanup: ci', '    exclude: [ghcr.io/acme/legacy]', '  - repo: ghcr.io/acme/web', '    cleanup: hold']);
  const addresses = plannedRepoAddresses({ expansions: [{ pattern: 'ghcr.io/acme/*', repos: ['ghcr.io/acme/api'] }] }, config);
  assert.equal([...addresses], [['ghcr.io/acme/web', 'ghcr.io/acme/web'], ['ghcr.io/acme/api', 'ghcr.io/acme/api']]);
  for (const [expansion, why] of [
    [{ pattern: 'ghcr.io/other/*', repos: ['ghcr.io/other/api'] }, /repo pattern "ghcr.io\/other\/\*" of the plan is not in/],
    [{ pattern: 'ghcr.io/acme/*', repos: ['ghcr.io/evil/api'] }, /"ghcr.io\/evil\/api" is recorded as an expansion of "ghcr.io\/acme\/\*".*does not match it/],
    [{ pattern: 'ghcr.io/acme/*', repos: ['ghcr.io/acme/legacy'] }, /does not match it/],
    [{ pattern: 'ghcr.io/acme/*', repos: ['quay.io/acme/api'] }, /does not match it/],
  ] as const) {
    assert.throws(() => plannedRepoAddresses({ expansions: [{ ...expansion, repos: [...expansion.repos] }] }, config), (e: unknown) => e instanceof StalePlanError && why.test(e.message));
  }
});

test.run();
