/**
 * `regplan drift` against the Harbor emulator: the project's tag retention policy (GET /projects/<p>
 * metadata.retention_id -> GET /retentions/<id>) that retains only the newest artifact would delete releases
 * regplan keeps (exit 2); the retention policy export-policy prints, installed, shows no drift (exit 0); a project
 * without a retention policy says so.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Buffer } from 'node:buffer';
import { runCli } from '../../src/cli/main.ts';
import type { PolicyExport } from '../../src/export/types.ts';
import { startHarborEmulator, type HarborEmulator } from '../emulators/harbor.ts';
import { captureIo } from '../support/io.ts';

const PASSWORD = 'Harbor-drift-secret-42';
const REPO = 'acme/api';
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

async function withWorld(body: (harbor: HarborEmulator, run: (argv: string[]) => Promise<{ code: number; out: string; err: string }>) => Promise<void>) {
  const harbor = await startHarborEmulator({ users: { admin: PASSWORD } });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-drift-harbor-'));
  try {
    harbor.store.seedImage(REPO, ['v1.0.0'], { pushedAt: daysAgo(40), content: 'release 1.0.0' });
    harbor.store.seedImage(REPO, ['v1.1.0', 'pr-2'], { pushedAt: daysAgo(35), content: 'release 1.1.0' });
    harbor.store.seedImage(REPO, ['pr-1'], { pushedAt: daysAgo(30), content: 'pr 1' });
    harbor.store.seedImage(REPO, ['pr-3'], { pushedAt: daysAgo(1), content: 'pr 3' });
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${harbor.host}": { type: harbor, api: "${harbor.apiBase}" }`,
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }, { pushedWithin: 7d }]",
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${harbor.host}/${REPO}`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [harbor.host]: { auth: Buffer.from(`admin:${PASSWORD}`).toString('base64') } } }));
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), REGPLAN_REPO_HARBOR_USERNAME: 'admin', REGPLAN_REPO_HARBOR_PASSWORD: PASSWORD }, dir);
      const code = await runCli(argv, io);
      assert.not.ok(io.out().includes(PASSWORD) || io.err().includes(PASSWORD), 'no password in the output');
      return { code, out: io.out(), err: io.err() };
    };
    await body(harbor, run);
  } finally {
    await harbor.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const retainNewest = (k: number) => ({
  algorithm: 'or',
  rules: [{ disabled: false, action: 'retain', template: 'latestPushedK', params: { latestPushedK: k }, tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**', extras: '{"untagged":false}' }], scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] } }],
  trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' } },
  scope: { level: 'project', ref: 1 },
});

test('drift: a retention policy keeping only the newest artifact would delete the releases regplan keeps (exit 2)', async () => {
  await withWorld(async (harbor, run) => {
    harbor.setRetention('acme', retainNewest(1));
    const result = await run(['drift', '--format', 'json']);
    assert.is(result.code, 2, result.err);
    const [repo] = (JSON.parse(result.out) as { repos: { source: string; drift: { tag?: string; serverRule: string; keptBecause: string }[] }[] }).repos;
    assert.match(repo?.source ?? '', 'GET /retentions/1');
    // Harbor deletes artifacts with all their tags: v1.0.0, and v1.1.0 with pr-2 (regplan only untags pr-2).
    assert.equal(repo?.drift.map((d) => d.tag), ['v1.0.0', 'v1.1.0']);
    assert.match(repo?.drift[0]?.serverRule ?? '', 'no rule retains it');
  });
});

test('drift: no retention policy says so (exit 0); the exported policy, installed, shows no drift (exit 0)', async () => {
  await withWorld(async (harbor, run) => {
    const none = await run(['drift']);
    assert.is(none.code, 0, none.err);
    assert.match(none.out, 'no policy installed');
    const exported = await run(['export-policy', '--format', 'json']);
    const [entry] = (JSON.parse(exported.out) as { exports: PolicyExport[] }).exports;
    assert.is(entry?.status, 'exported', JSON.stringify(entry?.limitations));
    harbor.setRetention('acme', entry?.policy as Record<string, unknown>);
    const checked = await run(['drift']);
    assert.is(checked.code, 0, checked.out + checked.err);
    // Only pr-1 goes (30 days old, no keep rule); pr-2 shares v1.1.0's artifact, which a rule retains.
    assert.match(checked.out, /no drift \(the installed policy from GET \/projects\/acme \(retention_id 1\) \+ GET \/retentions\/1 would delete 1, nothing regplan keeps\)/);
  });
});

test.run();
