/**
 * The keep rules issue 12 added, end to end through runCli: `groupBy` on the real distribution registry (checked
 * with skopeo after apply), `pulledWithin` on the Harbor emulator (pull times recorded per tag and per artifact),
 * and `settings.maxDeletions` stopping a plan on the real registry until --allow-mass-delete. (`inUse` has its
 * own e2e against a fake Kubernetes API server: src/plan/in-use/kubernetes.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startHarborEmulator } from '../emulators/harbor.ts';
import { startRegistry } from '../harness/registry.ts';
import { seedImage, skopeoListTags } from '../harness/seed.ts';
import { captureIo } from '../support/io.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function configDir(lines: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-rules-e2e-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'registry.config.yaml'), [...lines, ''].join('\n'));
  return dir;
}

test('groupBy on the real registry: the 2 newest builds of every PR stay, older ones go, other tags are not grouped', async () => {
  const registry = await startRegistry({ auth: 'none' });
  try {
    const builds = [['pr-12-a', 1], ['pr-12-b', 2], ['pr-12-c', 3], ['pr-7-a', 4], ['pr-7-b', 5], ['pr-3-a', 6], ['main-1', 7]] as const;
    for (const [tag, n] of builds) await seedImage(registry, { repo: 'acme/app', tag, created: day(n), content: tag });
    const dir = await configDir([
      'version: 1',
      'policies:',
      '  ci:',
      "    keep: [{ newest: 2, groupBy: '^pr-(\\d+)-' }]",
      "    delete: { tags: '^(pr|main)-' }",
      'repos:',
      `  - repo: ${registry.host}/acme/app`,
      '    cleanup: ci',
    ]);
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), DOCKER_CONFIG: registry.dockerConfigDir };
    const planned = captureIo(env, dir);
    assert.is(await runCli(['plan', '--json', '--out', 'plan.json'], planned), 0, planned.err());
    const plan = JSON.parse(planned.out()) as Plan;
    assert.equal(plan.kept.map((k) => [k.tag, k.rules]), [
      ['pr-12-b', ['newest 2 in group "12" of ^pr-(\\d+)-']],
      ['pr-12-c', ['newest 2 in group "12" of ^pr-(\\d+)-']],
      ['pr-3-a', ['newest 2 in group "3" of ^pr-(\\d+)-']],
      ['pr-7-a', ['newest 2 in group "7" of ^pr-(\\d+)-']],
      ['pr-7-b', ['newest 2 in group "7" of ^pr-(\\d+)-']],
    ]);
    const applied = captureIo(env, dir);
    assert.is(await runCli(['apply', 'plan.json'], applied), 0, applied.err());
    assert.equal((await skopeoListTags(registry, 'acme/app')).sort(), ['pr-12-b', 'pr-12-c', 'pr-3-a', 'pr-7-a', 'pr-7-b']);
  } finally {
    await registry.stop();
  }
});

test('maxDeletions on the real registry: a plan over the limit is refused and deletes nothing until --allow-mass-delete', async () => {
  const registry = await startRegistry({ auth: 'none' });
  try {
    for (let i = 0; i < 6; i++) await seedImage(registry, { repo: 'acme/app', tag: `pr-${i}`, created: day(i), content: `pr-${i}` });
    await seedImage(registry, { repo: 'acme/app', tag: 'v1', created: day(9), content: 'v1' });
    const dir = await configDir([
      'version: 1',
      "settings: { maxDeletions: '50%' }",
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      'repos:',
      `  - repo: ${registry.host}/acme/app`,
      '    cleanup: ci',
    ]);
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), DOCKER_CONFIG: registry.dockerConfigDir };
    const refused = captureIo(env, dir);
    assert.is(await runCli(['apply', '--auto-approve'], refused), 1);
    assert.match(refused.err(), `${registry.host}/acme/app: 6 deletions of 7 (86%), over maxDeletions per repo 50%`);
    assert.is((await skopeoListTags(registry, 'acme/app')).length, 7, 'nothing deleted');
    const allowed = captureIo(env, dir);
    assert.is(await runCli(['apply', '--auto-approve', '--allow-mass-delete'], allowed), 0, allowed.err());
    assert.equal(await skopeoListTags(registry, 'acme/app'), ['v1']);
  } finally {
    await registry.stop();
  }
});

test('pulledWithin on Harbor: recently pulled tags (by tag, or their artifact by digest) stay; never or long-ago pulled go', async () => {
  const harbor = await startHarborEmulator({ users: { admin: 'Adm1n-pulls' } });
  try {
    const seed = (tag: string, n: number) => harbor.store.seedImage('acme/app', [tag], { pushedAt: day(n), content: tag });
    seed('old-never', 1);
    seed('old-long-ago', 2);
    seed('old-by-tag', 3);
    const byDigest = seed('old-by-digest', 4);
    harbor.store.recordPull('acme/app', 'old-long-ago', new Date(Date.now() - 90 * 86_400_000));
    harbor.store.recordPull('acme/app', 'old-by-tag', new Date(Date.now() - 2 * 86_400_000));
    harbor.store.recordPull('acme/app', byDigest.digest, new Date(Date.now() - 86_400_000));
    const dir = await configDir([
      'version: 1',
      'registries:',
      `  ${harbor.host}: { type: harbor, api: ${harbor.apiBase} }`,
      'policies:',
      '  ci:',
      '    keep: [{ pulledWithin: 30d }]',
      "    delete: { tags: '^old-' }",
      'repos:',
      `  - repo: ${harbor.host}/acme/app`,
      '    cleanup: ci',
    ]);
    const docker = path.join(dir, 'docker');
    await mkdir(docker, { recursive: true });
    await writeFile(path.join(docker, 'config.json'), JSON.stringify({ auths: { [harbor.host]: { auth: Buffer.from('admin:Adm1n-pulls').toString('base64') } } }));
    const env = { HOME: dir, DOCKER_CONFIG: docker, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
    const planned = captureIo(env, dir);
    assert.is(await runCli(['plan', '--json', '--out', 'plan.json'], planned), 0, planned.err());
    const plan = JSON.parse(planned.out()) as Plan;
    assert.equal(plan.kept.map((k) => [k.tag, k.rules]), [['old-by-digest', ['pulledWithin 30d']], ['old-by-tag', ['pulledWithin 30d']]]);
    assert.equal(plan.actions.map((a) => (a as { tag?: string }).tag).sort(), ['old-long-ago', 'old-never']);
    const applied = captureIo(env, dir);
    assert.is(await runCli(['apply', 'plan.json'], applied), 0, applied.err());
    assert.equal(harbor.store.tags('acme/app').map((t) => t.tag), ['old-by-digest', 'old-by-tag']);
  } finally {
    await harbor.stop();
  }
});

test.run();
