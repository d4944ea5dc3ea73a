import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Config, RegistryType } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { CONTAINER_REGISTRY_NAMES, detectRegistry, HOST_RULES } from './detect.ts';

const noEnv = {};
const detect = (address: string) => detectRegistry(address, { env: noEnv });

function configWith(registries: Record<string, RegistryType | undefined>): Config {
  return {
    version: 1,
    file: '/repo/registry.config.yaml',
    dir: '/repo',
    settings: { concurrency: 8, graceMs: 0 },
    registries: Object.fromEntries(
      Object.entries(registries).map(([host, type]) => [host, { host, insecure: false, ...(type === undefined ? {} : { type }) }]),
    ),
    policies: {},
    repos: [],
  };
}

const positives: [string, RegistryType][] = [
  ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/api', 'ecr'],
  ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api', 'ecr'],
  ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/api', 'ecr'],
  ['acme.azurecr.io/api', 'acr'],
  ['docker.io/acme/api', 'dockerhub'],
  ['index.docker.io/acme/api', 'dockerhub'],
  ['registry-1.docker.io/acme/api', 'dockerhub'],
  ['registry.hub.docker.com/acme/api', 'dockerhub'],
  ['acme/api', 'dockerhub'],
  ['nginx', 'dockerhub'],
  ['gcr.io/project/api', 'gcr'],
  ['eu.gcr.io/project/api', 'gcr'],
  ['container.cloud.google.com/registry/api', 'gcr'],
  ['europe-west4-docker.pkg.dev/project/repo/api', 'gcr'],
  ['ghcr.io/acme/api', 'github'],
  ['docker.pkg.github.com/acme/repo/api', 'github'],
  ['gitlab.com/acme/api', 'gitlab'],
  ['registry.gitlab.com/acme/api', 'gitlab'],
  ['harbor.company.com/project/api', 'harbor'],
  ['harbor.company.com:8443/project/api', 'harbor'],
  ['demo.goharbor.io/library/api', 'harbor'],
  ['acme.jfrog.io/docker-local/api', 'artifactory'],
  ['quay.io/acme/api', 'quay'],
  ['quay.apps.example.com/acme/api', 'quay'],
  ['cr.yandex/crp123/api', 'yandex'],
  ['cr.selcloud.ru/acme/api', 'selectel'],
  ['localhost:5000/demo/app', 'default'],
  ['127.0.0.1:5000/demo/app', 'default'],
  ['registry.example.com/team/api', 'default'],
  ['nexus.example.com:8082/team/api', 'default'],
];

for (const [address, type] of positives) {
  test(`auto: "${address}" is detected as ${type}`, () => {
    assert.is(detect(address).type, type);
  });
}

test('auto: lookalike hosts do not match a rule meant for another host', () => {
  for (const address of ['gcr.io.example.com/x/y', 'ghcr.io.evil.com/x/y', 'myharbor.example.com/x/y', 'quay.example.org/x/y', 'cr.yandex.example.com/x/y', '12345.dkr.ecr.eu-west-1.amazonaws.com/x', 'pkg.dev/x/y']) {
    assert.is(detect(address).type, 'default', address);
  }
});

test('auto: every host rule has at least one positive example above', () => {
  for (const rule of HOST_RULES) {
    const hit = positives.some(([address, type]) => type === rule.type && detect(address).rule === rule.pattern.source);
    assert.ok(hit, `no positive example for ${rule.pattern.source}`);
  }
});

test('auto: the reason names the host, the pattern and the registry', () => {
  const detection = detect('ghcr.io/acme/api');
  assert.is(detection.reason, 'host "ghcr.io" matches ^ghcr\\.io$ (GitHub Packages)');
  assert.is(detection.rule, '^ghcr\\.io$');
  assert.equal(detection.ref, { kind: 'registry', address: 'ghcr.io/acme/api', host: 'ghcr.io', name: 'acme/api' });
});

test('auto: ECR detection captures the account and the region', () => {
  assert.equal(detect('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/api').captures, { account: '123456789012', region: 'us-east-1' });
  assert.equal(detect('210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/api').captures, { account: '210987654321', region: 'cn-north-1' });
});

test('auto: nothing matching falls back to default with a plain reason', () => {
  const detection = detect('localhost:5000/demo/app');
  assert.is(detection.reason, 'no rule matched: plain Distribution registry');
  assert.is(detection.rule, undefined);
});

test('auto: a host-less name is Docker Hub under docker.io', () => {
  const detection = detect('acme/api');
  assert.is(detection.type, 'dockerhub');
  assert.is(detection.ref.kind === 'registry' && detection.ref.host, 'docker.io');
});

test('oci: an oci: address is the local layout, whatever the overrides say', () => {
  const detection = detectRegistry('oci:./dir', { flag: 'ecr', env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'gitlab' } });
  assert.is(detection.type, 'oci');
  assert.is(detection.reason, 'oci: prefix: local OCI image layout');
  assert.equal(detection.ref, { kind: 'oci-layout', address: 'oci:./dir', dir: './dir' });
});

test('override: the flag beats the env, the config and the host rules', () => {
  const detection = detectRegistry('ghcr.io/acme/api', {
    flag: 'harbor',
    env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'quay' },
    config: configWith({ 'ghcr.io': 'nexus' }),
  });
  assert.is(detection.type, 'harbor');
  assert.is(detection.reason, 'set by --repo-container-registry');
  assert.is(detection.rule, undefined);
});

test('override: the env beats the config and the host rules', () => {
  const detection = detectRegistry('ghcr.io/acme/api', { env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'quay' }, config: configWith({ 'ghcr.io': 'nexus' }) });
  assert.is(detection.type, 'quay');
  assert.is(detection.reason, 'set by $REGPLAN_REPO_CONTAINER_REGISTRY');
});

test('override: the config beats the host rules and names its file', () => {
  const detection = detectRegistry('registry.example.com:5000/team/api', { env: noEnv, config: configWith({ 'registry.example.com:5000': 'nexus' }) });
  assert.is(detection.type, 'nexus');
  assert.is(detection.reason, 'set by registries["registry.example.com:5000"].type in /repo/registry.config.yaml');
});

test('override: a config entry for another host or without a type leaves detection alone', () => {
  assert.is(detectRegistry('ghcr.io/acme/api', { env: noEnv, config: configWith({ 'quay.io': 'nexus', 'ghcr.io': undefined }) }).type, 'github');
  assert.is(detectRegistry('registry.example.com/team/api', { env: noEnv, config: configWith({ 'registry.example.com:5000': 'nexus' }) }).type, 'default');
});

test('override: Docker Hub config under any of its names applies to host-less repos', () => {
  assert.is(detectRegistry('acme/api', { env: noEnv, config: configWith({ 'index.docker.io': 'default' }) }).type, 'default');
});

test('override: "auto" and empty values mean detect, at every level', () => {
  const detection = detectRegistry('quay.io/acme/api', { flag: 'auto', env: { REGPLAN_REPO_CONTAINER_REGISTRY: '' }, config: configWith({}) });
  assert.is(detection.type, 'quay');
  assert.match(detection.reason, /^host "quay.io" matches/);
  // auto on the flag falls through to the env
  assert.is(detectRegistry('quay.io/acme/api', { flag: 'auto', env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'default' } }).type, 'default');
});

test('override: names are case-insensitive and trimmed', () => {
  assert.is(detectRegistry('ghcr.io/acme/api', { flag: ' GitLab ', env: noEnv }).type, 'gitlab');
});

test('override: an unknown name is a usage error listing every valid name', () => {
  for (const options of [{ flag: 'gcp', env: noEnv }, { env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'gcp' } }]) {
    try {
      detectRegistry('ghcr.io/acme/api', options);
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, UsageError);
      const e = error as UsageError;
      assert.match(e.message, 'unknown container registry "gcp"');
      assert.is(e.exitCode, 2);
      assert.match(e.hint ?? '', 'auto default ecr acr dockerhub gcr github gitlab harbor artifactory nexus quay yandex selectel');
    }
  }
});

test('override: an unknown name is rejected even when a higher-precedence override is set', () => {
  assert.throws(() => detectRegistry('ghcr.io/acme/api', { flag: 'quay', env: { REGPLAN_REPO_CONTAINER_REGISTRY: 'nope' } }), /unknown container registry "nope"/);
});

test('override: "oci" is not a registry name for a host', () => {
  assert.throws(() => detectRegistry('ghcr.io/acme/api', { flag: 'oci', env: noEnv }), /unknown container registry "oci"/);
});

test('names: the accepted list is exactly the design\'s', () => {
  assert.is(CONTAINER_REGISTRY_NAMES.join(' '), 'auto default ecr acr dockerhub gcr github gitlab harbor artifactory nexus quay yandex selectel');
});

test('an invalid address is a usage error', () => {
  assert.throws(() => detect('ghcr.io/Acme/API:latest'), /invalid repository address/);
});

test.run();
