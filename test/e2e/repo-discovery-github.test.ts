/**
 * Repo discovery through a native listing end to end: `repo: <ghcr>/acme/*` expanded by the GitHub driver's package
 * listing (the GitHub emulator), planned and applied with runCli; apply acts on exactly the expanded packages, and
 * a package created after the plan is not touched. The Registry API catalog is never asked for.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startGithubEmulator } from '../emulators/github.ts';
import { captureIo } from '../support/io.ts';

const TOKEN = 'ghp_discoverySecretToken7';
const daysAgo = (n: number): Date => new Date(Date.now() - n * 86_400_000);

test('a pattern on GHCR expands through the package listing; apply deletes in exactly the planned packages', async () => {
  const gh = await startGithubEmulator({ tokens: { [TOKEN]: { login: 'octo', scopes: ['read:packages', 'delete:packages'] } } });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-discovery-gh-'));
  try {
    const seed = (repo: string) => {
      gh.store.seedImage(repo, ['v1.0.0'], { pushedAt: daysAgo(30), content: `${repo}:v1` });
      gh.store.seedImage(repo, ['pr-1'], { pushedAt: daysAgo(20), content: `${repo}:pr-1` });
    };
    for (const repo of ['acme/api', 'acme/web', 'acme/legacy', 'other/x']) seed(repo);
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'registries:',
      `  "${gh.host}": { type: github, api: "${gh.apiUrl}" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${gh.host}/acme/*`,
      '    cleanup: ci',
      `    exclude: [${gh.host}/acme/legacy]`,
      '',
    ].join('\n'));
    const run = async (...argv: string[]) => {
      const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache'), REGPLAN_REPO_GITHUB_TOKEN: TOKEN }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const planned = await run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    assert.equal(plan.expansions, [{
      pattern: `${gh.host}/acme/*`,
      repos: [`${gh.host}/acme/api`, `${gh.host}/acme/web`],
      excluded: [{ repo: `${gh.host}/acme/legacy`, by: `${gh.host}/acme/legacy` }],
    }]);
    assert.equal(plan.actions.map((a) => `${a.repo}:${a.tag}`).sort(), [`${gh.host}/acme/api:pr-1`, `${gh.host}/acme/web:pr-1`]);
    assert.is(gh.requestsTo('/v2/_catalog', 'GET').length, 0, 'the native listing, not the catalog');
    assert.not.ok(JSON.stringify(plan).includes(TOKEN));

    seed('acme/newcomer');
    const applied = await run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.out + applied.err);
    for (const repo of ['acme/api', 'acme/web']) assert.equal(gh.store.tags(repo).map((t) => t.tag), ['v1.0.0'], repo);
    for (const repo of ['acme/legacy', 'acme/newcomer', 'other/x']) assert.equal(gh.store.tags(repo).map((t) => t.tag), ['pr-1', 'v1.0.0'], repo);
  } finally {
    await gh.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
