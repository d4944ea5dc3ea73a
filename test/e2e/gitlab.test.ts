/**
 * regplan plan + apply end to end against the GitLab emulator, in process through runCli: tags listed with digests
 * and push times through the GitLab API, deletes through its tag DELETE (never the Registry API, never by regex),
 * a tag sharing its manifest with a kept tag only untagged, and what remains in the registry afterwards. Also the
 * errors a user meets: no token, no API base for a self-hosted registry, and that the token never shows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startGitlabEmulator, type GitlabEmulator } from '../emulators/gitlab.ts';
import { captureIo } from '../support/io.ts';

const TOKEN = 'glpat-e2e-secret-5f3a9c1b7d';
const REPO = 'acme/platform/api';
const old = new Date(Date.now() - 30 * 86_400_000);

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface World {
  gitlab: GitlabEmulator;
  dir: string;
  shared: string;
  run: (argv: string[], env?: Record<string, string>) => Promise<{ code: number; out: string; err: string }>;
}

/** A GitLab with one project and a config that cleans its `api` image; `api: false` leaves the API base out. */
async function withWorld(options: { api?: boolean }, body: (world: World) => Promise<void>): Promise<void> {
  const gitlab = await startGitlabEmulator({ projects: [{ id: 42, path: 'acme/platform' }], tokens: { [TOKEN]: 'api' }, maxPerPage: 4 });
  try {
    const dir = await mkdtemp(path.join(tmpdir(), 'regplan-gitlab-e2e-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'docker'));
    const store = gitlab.store;
    const shared = store.seedImage(REPO, ['v1.0.0', 'pr-2'], { pushedAt: old, content: 'release 1.0.0' }).digest;
    store.seedImage(REPO, ['v1.1.0'], { pushedAt: old, content: 'release 1.1.0' });
    store.seedImage(REPO, ['pr-1'], { pushedAt: old, content: 'pr 1' });
    store.seedImage(REPO, ['main-1'], { pushedAt: old, content: 'main 1' });
    store.seedImage(REPO, ['pr-4', 'pr-5'], { pushedAt: old, content: 'pr 4 and 5' });
    store.seedImage(REPO, ['pr-3'], { content: 'pr 3, pushed just now' });
    store.seedImage('acme/platform/web', ['pr-9'], { pushedAt: old, content: 'another image' });
    const config = [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${gitlab.host}":`,
      '    type: gitlab',
      ...(options.api === false ? [] : [`    api: "${gitlab.url}"`]),
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v\\d+' }]",
      "    delete: { tags: '^(pr|main)-' }",
      'repos:',
      `  - repo: ${gitlab.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'registry.config.yaml'), config);
    const run = async (argv: string[], env: Record<string, string> = { REGPLAN_REPO_GITLAB_TOKEN: TOKEN }) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), ...env }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ gitlab, dir, shared, run });
  } finally {
    await gitlab.stop();
  }
}

/** Every file regplan wrote in the world's directory, as one string (plan, journal), to look for secrets. */
async function writtenFiles(dir: string): Promise<string> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const texts = await Promise.all(names.map((e) => readFile(path.join(e.parentPath, e.name), 'utf8').catch(() => '')));
  return texts.join('\n');
}

test('plan lists through the GitLab API; apply deletes the planned tags by tag and only untags the one sharing a kept manifest', async () => {
  await withWorld({}, async ({ gitlab, dir, shared, run }) => {
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.map((a) => `${a.tag}:${a.mode}`).sort(), ['main-1:manifest', 'pr-1:manifest', 'pr-2:untag', 'pr-4:manifest', 'pr-5:manifest']);
    assert.match(deletes.find((a) => a.tag === 'pr-2')?.reason ?? '', /shares manifest sha256:\w+ with kept tag v1\.0\.0/);
    assert.equal(plan.kept.map((k) => k.tag).sort(), ['pr-3', 'v1.0.0', 'v1.1.0']);
    assert.ok(gitlab.apiRequests().some((r) => r.method === 'GET' && /\/tags\/pr-1$/.test(r.path)), 'digests and times come from tag details');

    const human = await run(['plan']);
    assert.match(human.out, /- pr-2 .*\[untag only\]/);
    assert.match(human.out, /Plan: 0 to push, 5 to delete, 3 kept, 0 skipped\./);

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err);
    assert.match(applied.out, /Apply: 5 done, 0 stale, 0 failed\./);
    assert.equal(gitlab.store.tags(REPO).map((t) => t.tag), ['pr-3', 'v1.0.0', 'v1.1.0']);
    assert.ok(gitlab.store.manifest(REPO, shared), 'the manifest v1.0.0 shares with pr-2 is still there');
    assert.is(gitlab.store.resolve(REPO, 'v1.0.0')?.digest, shared);
    assert.equal(gitlab.store.tags('acme/platform/web').map((t) => t.tag), ['pr-9'], 'another image of the project is untouched');
    const deleted = gitlab.apiRequests().filter((r) => r.method === 'DELETE').map((r) => decodeURIComponent(r.path.split('/').at(-1) ?? ''));
    assert.equal(deleted.sort(), ['main-1', 'pr-1', 'pr-2', 'pr-4', 'pr-5'], 'one DELETE per tag, none by regex');
    assert.is(gitlab.requestsTo('/v2/', 'DELETE').length, 0, 'nothing deleted through the Registry API');

    const again = await run(['plan', '--detailed-exitcode']);
    assert.is(again.code, 0, again.err);
    assert.match(again.out, /No changes\. 3 kept, 0 skipped\./);
    const everything = `${planned.out}${planned.err}${human.out}${applied.out}${applied.err}${await writtenFiles(dir)}`;
    assert.not.ok(everything.includes(TOKEN), 'the token appears nowhere');
  });
});

test('apply leaves a tag re-pushed since the plan alone and reports it stale', async () => {
  await withWorld({}, async ({ gitlab, run }) => {
    assert.is((await run(['plan', '--out', 'plan.json'])).code, 0);
    const moved = gitlab.store.seedImage(REPO, ['pr-1'], { content: 'pr 1, rebuilt' }).digest;
    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.err);
    assert.match(applied.out, /stale\s+\S+:pr-1: tag now points at sha256:\w+/);
    assert.is(gitlab.store.resolve(REPO, 'pr-1')?.digest, moved);
    assert.equal(gitlab.store.tags(REPO).map((t) => t.tag), ['pr-1', 'pr-3', 'v1.0.0', 'v1.1.0']);
  });
});

test('without a GitLab token the plan stops before planning anything and says which flag or env to set', async () => {
  await withWorld({}, async ({ gitlab, run }) => {
    const planned = await run(['plan'], {});
    assert.is(planned.code, 1);
    assert.match(planned.err, 'no GitLab token is set');
    assert.match(planned.err, /Hint: .*--repo-gitlab-token \/ REGPLAN_REPO_GITLAB_TOKEN.*CI_JOB_TOKEN cannot delete/);
    assert.is(planned.out, '');
    assert.is(gitlab.apiRequests().length, 0);
  });
});

test('a refused token fails the plan with the token hint and without the token', async () => {
  await withWorld({}, async ({ run }) => {
    const wrong = 'glpat-not-a-valid-token-1234';
    const planned = await run(['plan'], { REGPLAN_REPO_GITLAB_TOKEN: wrong });
    assert.is(planned.code, 1);
    assert.match(planned.err, 'HTTP 401');
    assert.match(planned.err, 'CI_JOB_TOKEN cannot delete');
    assert.not.ok(planned.err.includes(wrong));
  });
});

test('a self-hosted registry without registries.<host>.api is refused at plan time, naming the setting', async () => {
  await withWorld({ api: false }, async ({ gitlab, run }) => {
    const planned = await run(['plan']);
    assert.is(planned.code, 1);
    assert.match(planned.err, `cannot clean up "${gitlab.host}" as a GitLab registry`);
    assert.match(planned.err, `registries."${gitlab.host}".api`);
    assert.equal(gitlab.store.tags(REPO).length, 8);
  });
});

test.run();
