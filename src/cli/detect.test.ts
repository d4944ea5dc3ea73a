import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './main.ts';
import { captureIo } from '../../test/support/io.ts';

interface Ctx {
  dir: string;
  /** An empty Docker config dir and HOME, so nothing from the machine leaks in. */
  env: Record<string, string>;
  missingConfig: string;
}

const test = suite<Ctx>('regplan detect');

test.before.each((ctx) => {
  ctx.dir = mkdtempSync(path.join(tmpdir(), 'regplan-detect-'));
  ctx.env = { HOME: ctx.dir, DOCKER_CONFIG: path.join(ctx.dir, 'docker'), PATH: '' };
  ctx.missingConfig = path.join(ctx.dir, 'no-such.yaml');
});
test.after.each((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string>, cwd?: string) {
  const io = captureIo(env, cwd);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

test('names the registry type, the rule that chose it, and what the registry can do', async (ctx) => {
  const r = await run(['detect', 'ghcr.io/acme/api', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'Repo:      ghcr.io/acme/api');
  assert.match(r.out, 'Host:      ghcr.io');
  assert.match(r.out, 'Registry:  github (GitHub Packages)');
  assert.match(r.out, 'Why:       host "ghcr.io" matches ^ghcr\\.io$ (GitHub Packages)');
  assert.match(r.out, /push\s+yes/);
  assert.match(r.out, /bundles\s+yes/);
  assert.match(r.out, /untag\s+no/);
  assert.match(r.out, /cleanup path\s+GitHub REST/);
  assert.match(r.out, '--repo-github-token / $REGPLAN_REPO_GITHUB_TOKEN: not set');
  assert.match(r.out, /config dir\s+.*docker \(from \$DOCKER_CONFIG\)/);
  assert.match(r.out, /source\s+none: anonymous access \(run docker login ghcr.io\)/);
  assert.match(r.out, 'Registry API DELETE answers 405');
  assert.is(r.err, '');
});

test('GitLab: the job token shows as set inside GitLab CI (used when no GitLab token is set), never its value', async (ctx) => {
  const outside = await run(['detect', 'registry.gitlab.com/acme/api', '-c', ctx.missingConfig], ctx.env);
  assert.is(outside.code, 0, outside.err);
  assert.match(outside.out, '--repo-gitlab-token / $REGPLAN_REPO_GITLAB_TOKEN: not set');
  assert.match(outside.out, '$CI_JOB_TOKEN inside the CI job ($GITLAB_CI set): not set');
  const inCi = await run(['detect', 'registry.gitlab.com/acme/api', '-c', ctx.missingConfig], { ...ctx.env, GITLAB_CI: 'true', CI_JOB_TOKEN: 'job-secret-123' });
  assert.match(inCi.out, /GitLab CI job token, used when no GitLab token is set .*\n\s+\$CI_JOB_TOKEN inside the CI job \(\$GITLAB_CI set\): set \(\$CI_JOB_TOKEN\)/);
  assert.not.match(inCi.out, 'job-secret-123');
});

test('the legacy GitHub host refuses bundles with a reason', async (ctx) => {
  const r = await run(['detect', 'docker.pkg.github.com/acme/repo/api', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /bundles\s+no: docker\.pkg\.github\.com .* does not store OCI artifacts/);
});

test('a plain registry needs no native credentials', async (ctx) => {
  const r = await run(['detect', 'localhost:5000/demo/app', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'Registry:  default (Default (OCI Distribution))');
  assert.match(r.out, 'Why:       no rule matched: plain Distribution registry');
  assert.match(r.out, 'none needed: the Docker login is enough');
});

test('a host no rule matches says how to override its type, by flag or by config key', async (ctx) => {
  const r = await run(['detect', 'registry.example.com/team/api', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'Override:  if registry.example.com is not a plain Distribution registry, pass --repo-container-registry TYPE or set registries["registry.example.com"].type: TYPE in the config (TYPE: ecr, acr, dockerhub, gcr, github, gitlab, harbor, artifactory, nexus, quay, yandex, selectel; see "regplan registries")');
  const named = await run(['detect', 'registry.example.com/team/api', '--repo-container-registry', 'default', '-c', ctx.missingConfig], ctx.env);
  assert.not.match(named.out, 'Override:');
  const known = await run(['detect', 'ghcr.io/acme/api', '-c', ctx.missingConfig], ctx.env);
  assert.not.match(known.out, 'Override:');
});

test('--repo-container-registry beats $REGPLAN_REPO_CONTAINER_REGISTRY, which beats the host rules', async (ctx) => {
  const byFlag = await run(['detect', 'ghcr.io/acme/api', '--repo-container-registry', 'harbor', '-c', ctx.missingConfig], { ...ctx.env, REGPLAN_REPO_CONTAINER_REGISTRY: 'quay' });
  assert.is(byFlag.code, 0, byFlag.err);
  assert.match(byFlag.out, 'Registry:  harbor (Harbor)');
  assert.match(byFlag.out, 'Why:       set by --repo-container-registry');
  const byEnv = await run(['detect', 'ghcr.io/acme/api', '-c', ctx.missingConfig], { ...ctx.env, REGPLAN_REPO_CONTAINER_REGISTRY: 'quay' });
  assert.match(byEnv.out, 'Registry:  quay (Quay)');
  assert.match(byEnv.out, 'Why:       set by $REGPLAN_REPO_CONTAINER_REGISTRY');
});

test('the config\'s registries.<host>.type is used when the file exists, and its credential refs count as set', async (ctx) => {
  const file = path.join(ctx.dir, 'registry.config.yaml');
  writeFileSync(file, [
    'version: 1',
    'registries:',
    '  registry.example.com:5000:',
    '    type: dockerhub',
    '    credentials: { token: { env: HUB_TOKEN_FOR_TEST } }',
    '',
  ].join('\n'));
  const r = await run(['detect', 'registry.example.com:5000/team/api'], { ...ctx.env, HUB_TOKEN_FOR_TEST: 'x' }, ctx.dir);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'Registry:  dockerhub (Docker Hub)');
  assert.match(r.out, `Why:       set by registries["registry.example.com:5000"].type in ${file}`);
  assert.match(r.out, '--repo-docker-hub-token / $REGPLAN_REPO_DOCKER_HUB_TOKEN: set (config: $HUB_TOKEN_FOR_TEST)');
  assert.match(r.out, '--repo-docker-hub-password / $REGPLAN_REPO_DOCKER_HUB_PASSWORD: not set');
});

test('a broken config is a warning, not a failure', async (ctx) => {
  const file = path.join(ctx.dir, 'broken.yaml');
  writeFileSync(file, 'version: 1\nregistries: [oops\n');
  const r = await run(['detect', 'quay.io/acme/api', '-c', file], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /^Warning: .*broken\.yaml has \d+ problems? \(run "regplan validate"\)/);
  assert.match(r.out, 'Registry:  quay (Quay)');
});

test('an unknown registry name exits 2 and lists the valid names', async (ctx) => {
  const r = await run(['detect', 'ghcr.io/acme/api', '--repo-container-registry', 'gcp', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 2);
  assert.match(r.err, 'Error: unknown container registry "gcp"');
  assert.match(r.err, 'Hint: use one of: auto default ecr acr dockerhub gcr github gitlab harbor artifactory nexus quay yandex selectel');
  assert.is(r.out, '');
});

test('usage errors exit 2: no repo, two repos, an unknown flag, an invalid address', async (ctx) => {
  for (const argv of [['detect'], ['detect', 'a/b', 'c/d'], ['detect', 'a/b', '--frob'], ['detect', 'ghcr.io/acme/api:latest']]) {
    const r = await run([...argv, '-c', ctx.missingConfig], ctx.env);
    assert.is(r.code, 2, argv.join(' '));
    assert.match(r.err, /^Error: /);
  }
});

test('--json prints the report as data', async (ctx) => {
  const r = await run(['detect', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api', '--json', '-c', ctx.missingConfig], { ...ctx.env, AWS_PROFILE: 'ci' });
  assert.is(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.is(report.repo, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api');
  assert.is(report.kind, 'registry');
  assert.is(report.host, '123456789012.dkr.ecr.eu-west-1.amazonaws.com');
  assert.is(report.name, 'api');
  assert.is(report.type, 'ecr');
  assert.is(report.title, 'AWS ECR');
  assert.match(report.reason, /^host "123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com" matches /);
  assert.equal(report.captures, { account: '123456789012', region: 'eu-west-1' });
  assert.equal(
    { push: report.capabilities.push, bundles: report.capabilities.bundles, untag: report.capabilities.untag, listUntagged: report.capabilities.listUntagged },
    { push: true, bundles: true, untag: true, listUntagged: true },
  );
  assert.type(report.capabilities.cleanupPath, 'string');
  assert.is(report.cleanup, '*ok');
  assert.is(report.nativeCredentials.length, 1);
  assert.is(report.nativeCredentials[0].source, 'chain');
  assert.is(report.nativeCredentials[0].set, true);
  assert.is(report.nativeCredentials[0].via, '$AWS_PROFILE');
  assert.is(report.dockerCredentials.configDir, path.join(ctx.dir, 'docker'));
  assert.is(report.dockerCredentials.configDirReason, 'from $DOCKER_CONFIG');
  assert.equal(report.warnings, []);
});

test('an oci: layout shows its directory and no Docker credentials', async (ctx) => {
  const r = await run(['detect', 'oci:./build/layout', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'Directory: ./build/layout');
  assert.match(r.out, 'Registry:  oci (OCI image layout (local directory))');
  assert.match(r.out, 'Why:       oci: prefix: local OCI image layout');
  assert.not.match(r.out, 'Docker credentials');
  const json = JSON.parse((await run(['detect', 'oci:./build/layout', '--json', '-c', ctx.missingConfig], ctx.env)).out);
  assert.is(json.kind, 'oci-layout');
  assert.is(json.dir, './build/layout');
  assert.is(json.dockerCredentials, undefined);
});

test('--docker-config picks the Docker config dir and says so', async (ctx) => {
  const other = path.join(ctx.dir, 'other-docker');
  const r = await run(['--docker-config', other, 'detect', 'quay.io/acme/api', '-c', ctx.missingConfig], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `${other} (from --docker-config)`);
});

test('canary: secrets from the Docker config and native-token env vars never reach stdout or stderr', async (ctx) => {
  const secret = 'CANARY-secret-7f3a9c';
  const user = 'CANARY-user-41b2';
  const auth = Buffer.from(`${user}:${secret}`).toString('base64');
  const dockerDir = path.join(ctx.dir, 'docker');
  mkdirSync(dockerDir, { recursive: true });
  writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({
    auths: { 'ghcr.io': { auth, identitytoken: `${secret}-identity` }, 'https://index.docker.io/v1/': { auth } },
  }));
  const env = {
    ...ctx.env,
    REGPLAN_REPO_GITHUB_TOKEN: `${secret}-github`,
    REGPLAN_REPO_DOCKER_HUB_PASSWORD: `${secret}-hub`,
    REGPLAN_REPO_DOCKER_HUB_USERNAME: user,
    AWS_ACCESS_KEY_ID: `${secret}-aws`,
  };
  const runs = [
    await run(['detect', 'ghcr.io/acme/api', '-c', ctx.missingConfig], env),
    await run(['detect', 'ghcr.io/acme/api', '--json', '--debug', '-c', ctx.missingConfig], env),
    await run(['detect', 'acme/api', '-c', ctx.missingConfig], env),
    await run(['detect', 'acme/api', '--json', '-c', ctx.missingConfig], env),
    await run(['detect', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api', '-c', ctx.missingConfig], env),
  ];
  for (const r of runs) assert.is(r.code, 0, r.err);
  // the runs did see the credentials (so the test can fail) ...
  assert.match((runs[0]?.out ?? ''), 'set ($REGPLAN_REPO_GITHUB_TOKEN)');
  assert.match((runs[0]?.out ?? ''), /auths\["ghcr\.io"\] in .*config\.json/);
  assert.match((runs[2]?.out ?? ''), 'set ($REGPLAN_REPO_DOCKER_HUB_PASSWORD)');
  assert.match((runs[4]?.out ?? ''), 'set ($AWS_ACCESS_KEY_ID)');
  // ... and printed none of them
  for (const r of runs) {
    for (const text of [r.out, r.err]) {
      assert.not.match(text, 'CANARY');
      assert.not.match(text, auth);
    }
  }
});

test.run();
