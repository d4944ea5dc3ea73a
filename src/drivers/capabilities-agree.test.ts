/**
 * One truth about what each registry type can do: the capabilities its factory declares, the capabilities of the
 * driver regplan really builds, `regplan registries --json` and `regplan detect --json` must all agree, for every
 * type and host variant. (Issue: GCR and Yandex were advertised with abilities their drivers forced off.) The
 * rows finished natively in issue 12 say what they now do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../cli/main.ts';
import { REGISTRY_TYPES } from '../config/types.ts';
import { captureIo } from '../../test/support/io.ts';
import { canListRepositories, canUntagByPlaceholder, type DriverContext } from './driver.ts';
import { capabilitiesFor, declaredCapabilities, DRIVER_FACTORIES } from './index.ts';

const HOSTS: Record<string, string> = {
  acr: 'example.azurecr.io', artifactory: 'example.jfrog.io', default: 'registry.example.com', dockerhub: 'docker.io',
  ecr: '123456789012.dkr.ecr.us-east-1.amazonaws.com', gcr: 'europe-docker.pkg.dev', github: 'ghcr.io', gitlab: 'registry.gitlab.com',
  harbor: 'harbor.example.com', nexus: 'nexus.example.com', oci: 'oci:./layout', quay: 'quay.io', selectel: 'cr.selcloud.ru', yandex: 'cr.yandex',
};

async function json(argv: string[]): Promise<unknown> {
  const io = captureIo({ HOME: '/nonexistent', PATH: '' });
  const code = await runCli(argv, io);
  assert.is(code, 0, io.err());
  return JSON.parse(io.out());
}

const shown = (c: { untag: boolean; untagByPlaceholder?: boolean; listUntagged: boolean; push: boolean; bundles: boolean; cleanupPath: string; repositoryListing?: string }) =>
  ({ untag: c.untag, untagByPlaceholder: c.untagByPlaceholder === true, listUntagged: c.listUntagged, push: c.push, bundles: c.bundles, cleanupPath: c.cleanupPath, repositoryListing: c.repositoryListing });

test('only plain distribution untags through a placeholder (issue 12 item 6; registry-apis.md §1.9: elsewhere a digest delete is refused or its tag effects vary)', async () => {
  const declaring = REGISTRY_TYPES.filter((type) => capabilitiesFor(DRIVER_FACTORIES[type], HOSTS[type]).untagByPlaceholder === true);
  assert.equal(declaring, ['default']);
  const { registries: rows } = (await json(['registries', '--json'])) as { registries: { type: string; untagByPlaceholder: boolean }[] };
  assert.equal(rows.filter((r) => r.untagByPlaceholder).map((r) => r.type), ['default']);
  const inert: DriverContext = { host: HOSTS.default ?? '', type: 'default', credentials: async () => undefined, nativeSecret: async () => undefined };
  assert.ok(canUntagByPlaceholder(DRIVER_FACTORIES.default.create(inert)), 'the built driver has the push and read primitives it needs');
});

test('the native drivers declare how repo discovery lists repositories (issue 11)', () => {
  const declaring = REGISTRY_TYPES.filter((type) => DRIVER_FACTORIES[type].capabilities.repositoryListing !== undefined);
  assert.equal(declaring.sort(), ['acr', 'dockerhub', 'ecr', 'github', 'gitlab', 'harbor', 'quay']);
});

test('GCR and Artifactory are native (issue 12 item 7): ready, untag, GCR lists untagged manifests, and "registries --json" says so', async () => {
  const { registries: rows } = (await json(['registries', '--json'])) as { registries: { type: string; status: string; untag: boolean; listUntagged: boolean }[] };
  for (const [type, listUntagged] of [['gcr', true], ['artifactory', false]] as const) {
    const factory = DRIVER_FACTORIES[type];
    const built = capabilitiesFor(factory, HOSTS[type]);
    assert.is(factory.status, 'ready', type);
    assert.equal({ untag: built.untag, listUntagged: built.listUntagged }, { untag: true, listUntagged }, type);
    const row = rows.find((r) => r.type === type);
    assert.equal({ status: row?.status, untag: row?.untag, listUntagged: row?.listUntagged }, { status: 'ready', untag: true, listUntagged }, type);
  }
});

for (const type of REGISTRY_TYPES) {
  test(`${type}: declared, built, "registries --json" and "detect --json" capabilities agree`, async () => {
    const factory = DRIVER_FACTORIES[type];
    const host = HOSTS[type] ?? '';
    const built = capabilitiesFor(factory, host);
    assert.equal(shown(built), shown(declaredCapabilities(factory, host)), 'the factory declares what its driver does');
    assert.equal(built.nativeCredentials, declaredCapabilities(factory, host).nativeCredentials);
    const inert: DriverContext = { host, type, credentials: async () => undefined, nativeSecret: async () => undefined };
    if (built.repositoryListing !== undefined) assert.ok(canListRepositories(factory.create(inert)), 'a driver declaring a repository listing has listRepositories');
    const { registries: rows } = (await json(['registries', '--json'])) as { registries: { type: string; detect: string; untag: boolean; listUntagged: boolean; push: boolean; bundles: boolean; cleanupPath: string; repositoryListing?: string }[] };
    const row = rows.find((r) => r.type === type && !r.detect.includes('docker.pkg.github.com'));
    assert.ok(row, `a row for ${type}`);
    assert.equal(shown(row), shown(capabilitiesFor(factory, undefined)));
    const detected = (await json(type === 'oci' ? ['detect', '--json', host] : ['detect', '--json', '--repo-container-registry', type, `${host}/team/app`])) as { capabilities: { untag: boolean; listUntagged: boolean; push: boolean; bundles: boolean; cleanupPath: string; repositoryListing?: string } };
    assert.equal(shown(detected.capabilities), shown(built));
  });
}

test('nexus with registries.<host>.api set to its repository URL: detect shows the components API the driver then uses', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-caps-'));
  try {
    const api = 'https://nexus.example.com/repository/docker-hosted';
    const file = path.join(dir, 'registry.config.yaml');
    await writeFile(file, `version: 1\nregistries:\n  nexus.example.com: { type: nexus, api: "${api}" }\nrepos: []\n`);
    const factory = DRIVER_FACTORIES.nexus;
    const built = factory.create({ host: 'nexus.example.com', type: 'nexus', registry: { host: 'nexus.example.com', insecure: false, api }, credentials: async () => undefined, nativeSecret: async () => undefined }).capabilities;
    assert.is(built.untag, true, 'the components API deletes one tag');
    assert.match(built.cleanupPath, 'Nexus components API');
    const detected = (await json(['detect', '--json', '--config', file, 'nexus.example.com/team/app'])) as { type: string; capabilities: Parameters<typeof shown>[0] };
    assert.is(detected.type, 'nexus');
    assert.equal(shown(detected.capabilities), shown(built));
    assert.not.equal(shown(detected.capabilities), shown(capabilitiesFor(factory, 'nexus.example.com')), 'and differs from the row without api');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
