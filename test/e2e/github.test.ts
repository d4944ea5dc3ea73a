/**
 * GitHub Packages end to end: `regplan plan` and `regplan apply` through runCli against the GitHub emulator
 * (Registry API with GHCR's 405 deletes, REST package versions under /github-api), the token from
 * REGPLAN_REPO_GITHUB_TOKEN. Asserts what the emulator's store holds afterwards: old tags and untagged versions
 * gone, a tag sharing its manifest with a kept tag skipped (GitHub cannot untag), index children kept, and the
 * last-tagged-version refusal reported as a failure with GitHub's message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startGithubEmulator, type GithubEmulator, type GithubEmulatorOptions } from '../emulators/github.ts';
import { captureIo } from '../support/io.ts';
import { cleanupScenarioConfig, seedCleanupScenario } from '../support/cleanup-scenario.ts';

const TOKEN = 'ghp_e2eSecretTokenValue42';
const daysAgo = (n: number): Date => new Date(Date.now() - n * 86_400_000);
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A temp dir with a config pointing `repos` at the emulator, and a runner with the token in env. */
async function workspace(gh: GithubEmulator, repos: readonly string[], token: string | null = TOKEN) {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-github-e2e-'));
  dirs.push(dir);
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${gh.host}": { type: github, api: "${gh.apiUrl}" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v\\d+' }]",
      "    delete: { tags: '^(pr|main)-' }",
      '    untagged: delete',
      'repos:',
      ...repos.flatMap((repo) => [`  - repo: ${gh.host}/${repo}`, '    cleanup: ci']),
      '',
    ].join('\n'),
  );
  const run = async (...argv: string[]) => {
    const env: Record<string, string> = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache'), ...(token === null ? {} : { REGPLAN_REPO_GITHUB_TOKEN: token }) };
    const io = captureIo(env, dir);
    const code = await runCli(argv, io);
    return { code, out: io.out(), err: io.err() };
  };
  return { dir, run };
}

async function withGithub(body: (gh: GithubEmulator) => Promise<void>, options: GithubEmulatorOptions = {}): Promise<void> {
  const gh = await startGithubEmulator({ tokens: { [TOKEN]: { login: 'octo', scopes: ['read:packages', 'delete:packages'] } }, ...options });
  try {
    await body(gh);
  } finally {
    await gh.stop();
  }
}

test('plan and apply delete old versions and untagged ones, skip a tag sharing a kept manifest, keep index children', async () => {
  await withGithub(async (gh) => {
    const repo = 'acme/tools/api';
    gh.store.seedImage(repo, ['v1.0.0', 'main-abc'], { pushedAt: daysAgo(30) });
    const index = gh.store.seedImage(repo, ['v2.0.0'], { pushedAt: daysAgo(20), platforms: ['linux/amd64', 'linux/arm64'] });
    const pr1 = gh.store.seedImage(repo, ['pr-1'], { pushedAt: daysAgo(10), content: 'pr-1' });
    gh.store.seedImage(repo, ['pr-2', 'pr-2-alias'], { pushedAt: daysAgo(9), content: 'pr-2' });
    gh.store.seedImage(repo, ['pr-3'], { pushedAt: new Date(), content: 'pr-3' });
    const orphan = gh.store.seedImage(repo, [], { pushedAt: daysAgo(15), content: 'orphan' });
    const { run } = await workspace(gh, [repo]);

    const planned = await run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.map((a) => a.tag ?? a.digest).sort(), ['pr-1', 'pr-2', 'pr-2-alias', orphan.digest].sort());
    assert.equal(plan.skipped.map((s) => s.tag), ['main-abc']);
    assert.match(plan.skipped[0]?.reason ?? '', /shares manifest sha256:\w+ with kept tag v1\.0\.0/);
    assert.not.ok(JSON.stringify(plan).includes(TOKEN));

    const applied = await run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.err);
    assert.not.ok(`${applied.out}${applied.err}`.includes(TOKEN));
    assert.equal(gh.store.tags(repo).map((t) => t.tag), ['main-abc', 'pr-3', 'v1.0.0', 'v2.0.0']);
    assert.is(gh.store.manifest(repo, pr1.digest), undefined);
    assert.is(gh.store.manifest(repo, orphan.digest), undefined);
    for (const child of Object.values(index.platformDigests)) assert.ok(gh.store.manifest(repo, child), `index child ${child} kept`);
    const deleted = gh.apiCalls.filter((c) => c.method === 'DELETE');
    assert.is(deleted.length, 3, 'pr-2 and pr-2-alias are one version: one DELETE');
    assert.ok(deleted.every((c) => c.path.startsWith('/github-api/orgs/acme/packages/container/tools%2Fapi/versions/') && c.status === 204));
    assert.is(gh.requestsTo('/v2/', 'DELETE').length, 0, 'nothing is deleted through the Registry API (it answers 405)');

    const again = await run('plan', '--detailed-exitcode');
    assert.is(again.code, 0, again.err);
  });
});

test('deleting every tag of a package: GitHub refuses the last tagged version; apply reports it and exits 1', async () => {
  await withGithub(async (gh) => {
    const repo = 'acme/previews';
    gh.store.seedImage(repo, ['pr-1'], { pushedAt: daysAgo(10), content: 'a' });
    gh.store.seedImage(repo, ['pr-2'], { pushedAt: daysAgo(9), content: 'b' });
    const { run } = await workspace(gh, [repo]);
    const applied = await run('apply', '--auto-approve');
    assert.is(applied.code, 1, applied.out);
    assert.match(`${applied.out}${applied.err}`, 'You cannot delete the last tagged version of a package');
    assert.match(`${applied.out}${applied.err}`, /delete the whole package/);
    assert.is(gh.store.tags(repo).length, 1);
  });
});

test('plan without a token fails before any GitHub API call, naming the flag and env var', async () => {
  await withGithub(async (gh) => {
    gh.store.seedImage('acme/api', ['pr-1'], { pushedAt: daysAgo(10) });
    const { run } = await workspace(gh, ['acme/api'], null);
    const planned = await run('plan');
    assert.is(planned.code, 1);
    assert.match(planned.err, 'no GitHub token is set');
    assert.match(planned.err, '--repo-github-token or REGPLAN_REPO_GITHUB_TOKEN');
    assert.is(gh.apiCalls.length, 0);
  });
});

test('the shared cleanup scenario with 143 more builds: listed across pages of 100 while deletes run, everything planned deleted', async () => {
  await withGithub(async (gh) => {
    const repo = 'acme/team/app';
    const { release, orphan } = seedCleanupScenario(gh.store, repo);
    const bulk = Array.from({ length: 143 }, (_, i) => `pr-bulk-${String(i).padStart(3, '0')}`);
    bulk.forEach((tag, i) => gh.store.seedImage(repo, [tag], { pushedAt: daysAgo(45 + i / 100), content: tag }));
    const { dir, run } = await workspace(gh, []);
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: gh.host, type: 'github', api: gh.apiUrl, repo }));

    const planned = await run('plan', '--json', '--out', 'plan.json');
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.is(deletes.length, 143 + 6 + 1, 'the bulk builds, pr-1..3, pr-locked, main-1, main-2 and the untagged manifest');
    assert.equal(plan.skipped.map((s) => s.tag), ['pr-shared'], 'GitHub cannot untag: the tag sharing v1.1.0 is skipped');

    const applied = await run('apply', 'plan.json');
    assert.is(applied.code, 0, applied.err + applied.out);
    assert.match(applied.out, /Apply: 150 done, 0 stale, 0 failed\./);
    assert.equal(gh.store.tags(repo).map((t) => t.tag), ['main-3', 'main-4', 'pr-fresh', 'pr-shared', 'v1.0.0', 'v1.1.0']);
    assert.ok(gh.store.manifest(repo, release));
    assert.is(gh.store.manifest(repo, orphan), undefined);
    const pages = gh.apiCalls.filter((c) => c.method === 'GET' && c.path.endsWith('/versions')).map((c) => new URLSearchParams(c.query).get('page'));
    assert.ok(pages.includes('2'), `more than one page was served (${pages.join(',')})`);
    assert.is(gh.apiCalls.filter((c) => c.method === 'DELETE' && c.status === 204).length, 150);
  });
});

test('a token without admin access to the package: GitHub answers 404 on DELETE; apply reports failures, not "done"', async () => {
  await withGithub(
    async (gh) => {
      const repo = 'acme/api';
      gh.store.seedImage(repo, ['v1.0.0'], { pushedAt: daysAgo(30) });
      gh.store.seedImage(repo, ['pr-1'], { pushedAt: daysAgo(10), content: 'pr-1' });
      gh.store.seedImage(repo, ['pr-2'], { pushedAt: daysAgo(10), content: 'pr-2' });
      const { run } = await workspace(gh, [repo]);
      const applied = await run('apply', '--auto-approve');
      assert.is(applied.code, 1, applied.out + applied.err);
      assert.match(applied.out, /Apply: 0 done, 0 stale, 2 failed\./);
      assert.match(applied.out + applied.err, 'Package not found.');
      assert.match(applied.out + applied.err, /admin access to the package/);
      assert.equal(gh.store.tags(repo).map((t) => t.tag), ['pr-1', 'pr-2', 'v1.0.0']);
    },
    { noAdmin: ['acme/api'] },
  );
});

test('a package that does not exist fails the plan with the URLs tried, never "No changes."', async () => {
  await withGithub(async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const { run } = await workspace(gh, ['acme/typo']);
    const planned = await run('plan');
    assert.is(planned.code, 1, planned.out);
    assert.not.match(planned.out, 'No changes');
    assert.match(planned.err, `"${gh.host}/acme/typo"`);
    assert.match(planned.err, '/users/acme/packages/container/typo/versions');
  });
});

test.run();
