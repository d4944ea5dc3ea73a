/**
 * `regplan drift` against the GitLab emulator: the project's cleanup policy (GET /projects/:id ->
 * container_expiration_policy, GitLab's default-like "keep 10, older than 90d, every tag" made aggressive here)
 * would delete release tags regplan keeps (exit 2, each with the policy and regplan's reason); the policy
 * export-policy prints, installed, shows no drift (exit 0); a disabled policy counts as none.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { GitlabCleanupPolicy } from '../../src/export/gitlab.ts';
import type { PolicyExport } from '../../src/export/types.ts';
import { startGitlabEmulator } from '../emulators/gitlab.ts';
import { captureIo } from '../support/io.ts';

const TOKEN = 'glpat-drift-secret-9e1d2c3b4a';
const REPO = 'acme/platform/api';
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

async function withWorld(policy: Record<string, unknown> | undefined, body: (run: (argv: string[]) => Promise<{ code: number; out: string; err: string }>, setPolicy: (p: Record<string, unknown>) => void) => Promise<void>) {
  const project: { id: number; path: string; containerExpirationPolicy?: Record<string, unknown> } = { id: 42, path: 'acme/platform', ...(policy === undefined ? {} : { containerExpirationPolicy: policy }) };
  const gitlab = await startGitlabEmulator({ projects: [project], tokens: { [TOKEN]: 'read_api' } });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-drift-gitlab-'));
  try {
    await mkdir(path.join(dir, 'docker'));
    gitlab.store.seedImage(REPO, ['v1.0.0'], { pushedAt: daysAgo(40), content: 'release 1.0.0' });
    gitlab.store.seedImage(REPO, ['v1.1.0', 'pr-2'], { pushedAt: daysAgo(35), content: 'release 1.1.0' });
    gitlab.store.seedImage(REPO, ['pr-1'], { pushedAt: daysAgo(30), content: 'pr 1' });
    gitlab.store.seedImage(REPO, ['pr-3'], { pushedAt: daysAgo(1), content: 'pr 3' });
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${gitlab.host}": { type: gitlab, api: "${gitlab.url}" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v\\d+' }, { pushedWithin: 7d }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${gitlab.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), REGPLAN_REPO_GITLAB_TOKEN: TOKEN }, dir);
      const code = await runCli(argv, io);
      assert.not.ok(io.out().includes(TOKEN) || io.err().includes(TOKEN), 'no token in the output');
      return { code, out: io.out(), err: io.err() };
    };
    await body(run, (p) => void (project.containerExpirationPolicy = p));
  } finally {
    await gitlab.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

test('drift: a cleanup policy deleting every tag older than 14d would delete the releases regplan keeps (exit 2)', async () => {
  await withWorld({ enabled: true, cadence: '1d', keep_n: 1, older_than: '14d', name_regex_delete: '.*', name_regex_keep: null }, async (run) => {
    const result = await run(['drift', '--format', 'json']);
    assert.is(result.code, 2, result.err);
    const [repo] = (JSON.parse(result.out) as { repos: { status: string; source: string; drift: { tag?: string; serverRule: string; keptBecause: string }[] }[] }).repos;
    assert.is(repo?.status, 'checked');
    assert.match(repo?.source ?? '', 'container_expiration_policy');
    // GitLab deletes tags: pr-1 and pr-2 go in both; v1.0.0 and v1.1.0 only on the server.
    assert.equal(repo?.drift.map((d) => d.tag), ['v1.0.0', 'v1.1.0']);
    assert.match(repo?.drift[0]?.serverRule ?? '', 'keep_n 1, older_than 14d');
    assert.match(repo?.drift[0]?.keptBecause ?? '', 'tags ^v\\d+');
  });
});

test('drift: a disabled policy is none (exit 0); the exported policy, installed, shows no drift (exit 0)', async () => {
  await withWorld(undefined, async (run, setPolicy) => {
    const none = await run(['drift']);
    assert.is(none.code, 0, none.err);
    assert.match(none.out, 'no policy installed');
    const exported = await run(['export-policy', '--format', 'json']);
    const [entry] = (JSON.parse(exported.out) as { exports: PolicyExport[] }).exports;
    assert.is(entry?.status, 'exported', JSON.stringify(entry?.limitations));
    setPolicy((entry?.policy as GitlabCleanupPolicy).container_expiration_policy_attributes);
    const checked = await run(['drift']);
    assert.is(checked.code, 0, checked.out + checked.err);
    // pr-1 (30 days old) goes on the server too; pr-2 (on v1.1.0's manifest) is a tag-level delete in GitLab.
    assert.match(checked.out, /no drift \(the installed policy from GET \/projects\/:id \(container_expiration_policy\) would delete 2, nothing regplan keeps\)/);
  });
});

test.run();
