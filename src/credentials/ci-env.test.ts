import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CredentialsError } from '../errors.ts';
import { basicAuth, makeDockerConfigDir, makeFakeHelper } from '../../test/support/credentials.ts';
import { rejection } from '../../test/support/rejection.ts';
import { ciEnvLines, ciLoginFromEnv, prepareCiEnv, renderCiEnv, type CiEnvLine } from './ci-env.ts';

const cleanups: Array<() => Promise<void>> = [];
test.after.each(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const GITLAB = { CI_REGISTRY: 'registry.gitlab.com', CI_REGISTRY_IMAGE: 'registry.gitlab.com/acme/api', CI_JOB_TOKEN: 'job-token' };
const GITHUB = { GITHUB_ACTOR: 'octocat', GITHUB_TOKEN: 'gh-token', GITHUB_REPOSITORY: 'acme/api' };

test('gitlab: logs in to CI_REGISTRY as gitlab-ci-token with CI_JOB_TOKEN', () => {
  assert.equal(ciLoginFromEnv('gitlab', GITLAB), {
    host: 'registry.gitlab.com',
    username: 'gitlab-ci-token',
    password: 'job-token',
    hostFrom: '$CI_REGISTRY',
    passwordFrom: '$CI_JOB_TOKEN',
  });
});

test('gitlab: without CI_REGISTRY the host of CI_REGISTRY_IMAGE is used; --registry wins over both', () => {
  const self = { CI_REGISTRY_IMAGE: 'gitlab.example.com:5050/group/sub/project', CI_JOB_TOKEN: 't' };
  assert.is(ciLoginFromEnv('gitlab', self).host, 'gitlab.example.com:5050');
  assert.is(ciLoginFromEnv('gitlab', self).hostFrom, 'the host of $CI_REGISTRY_IMAGE');
  assert.is(ciLoginFromEnv('gitlab', { ...GITLAB, CI_REGISTRY: 'https://gitlab.example.com:5050/' }).host, 'gitlab.example.com:5050');
  assert.is(ciLoginFromEnv('gitlab', GITLAB, { registry: 'mirror.example.com' }).host, 'mirror.example.com');
});

test('github: logs in to ghcr.io as GITHUB_ACTOR with GITHUB_TOKEN; --registry picks docker.pkg.github.com', () => {
  assert.equal(ciLoginFromEnv('github', GITHUB), {
    host: 'ghcr.io',
    username: 'octocat',
    password: 'gh-token',
    hostFrom: 'the default',
    passwordFrom: '$GITHUB_TOKEN',
  });
  assert.is(ciLoginFromEnv('github', GITHUB, { registry: 'docker.pkg.github.com' }).host, 'docker.pkg.github.com');
});

test('missing CI variables are one error naming every one of them; empty counts as missing', async () => {
  const gitlab = await rejection(Promise.resolve().then(() => ciLoginFromEnv('gitlab', { CI_JOB_TOKEN: '' })), CredentialsError);
  assert.is(gitlab.message, 'cannot log in to the GitLab registry: CI_REGISTRY (or CI_REGISTRY_IMAGE) and CI_JOB_TOKEN are not set');
  assert.match(gitlab.hint ?? '', '--no-login');
  const token = await rejection(Promise.resolve().then(() => ciLoginFromEnv('gitlab', { CI_REGISTRY: 'r.example.com' })), CredentialsError);
  assert.is(token.message, 'cannot log in to the GitLab registry: CI_JOB_TOKEN is not set');
  const github = await rejection(Promise.resolve().then(() => ciLoginFromEnv('github', { GITHUB_REPOSITORY: 'a/b' })), CredentialsError);
  assert.is(github.message, 'cannot log in to the GitHub registry: GITHUB_ACTOR and GITHUB_TOKEN are not set');
  assert.match(github.hint ?? '', 'secrets.GITHUB_TOKEN');
});

test('github exports the config dir and the cleanup token as a reference to $GITHUB_TOKEN, never its value', () => {
  const lines = ciEnvLines('github', { configDir: '/tmp/x', env: GITHUB });
  assert.equal(lines, [
    { kind: 'export', name: 'DOCKER_CONFIG', value: '/tmp/x' },
    { kind: 'export', name: 'REGPLAN_DOCKER_CONFIG', value: '/tmp/x' },
    { kind: 'reference', name: 'REGPLAN_REPO_GITHUB_TOKEN', variable: 'GITHUB_TOKEN' },
  ]);
  const { text } = renderCiEnv(lines, 'sh');
  assert.is(text, 'export DOCKER_CONFIG="/tmp/x"\nexport REGPLAN_DOCKER_CONFIG="/tmp/x"\nexport REGPLAN_REPO_GITHUB_TOKEN="${GITHUB_TOKEN}"\n');
  assert.not.match(text, 'gh-token');
});

test('github leaves an already set REGPLAN_REPO_GITHUB_TOKEN alone, and says nothing of a token that is not there', () => {
  const set = ciEnvLines('github', { configDir: '/d', env: { ...GITHUB, REGPLAN_REPO_GITHUB_TOKEN: 'pat' } });
  assert.equal(set[2], { kind: 'comment', text: 'skip export REGPLAN_REPO_GITHUB_TOKEN (already set)' });
  assert.is(ciEnvLines('github', { configDir: '/d', env: {} }).length, 2);
});

test('gitlab explains what cleanup needs, and how a self-hosted registry gets the gitlab driver', () => {
  const hosted = ciEnvLines('gitlab', { configDir: '/d', env: GITLAB, registryHost: 'registry.gitlab.com', gitlabDetected: true });
  assert.equal(hosted.map((l) => l.kind), ['export', 'export', 'comment']);
  assert.match(renderCiEnv(hosted, 'sh').text, '# cleanup uses CI_JOB_TOKEN (as JOB-TOKEN, GitLab 13.12+) in this project only; for other projects set REGPLAN_REPO_GITLAB_TOKEN to a token with api scope\n');
  const withToken = ciEnvLines('gitlab', { configDir: '/d', env: { ...GITLAB, REGPLAN_REPO_GITLAB_TOKEN: 'glpat-x' } });
  assert.match(renderCiEnv(withToken, 'sh').text, '# cleanup uses REGPLAN_REPO_GITLAB_TOKEN (already set)\n');
  assert.not.match(renderCiEnv(withToken, 'sh').text, 'glpat-x');
  const self = ciEnvLines('gitlab', { configDir: '/d', env: GITLAB, registryHost: 'gitlab.example.com:5050', gitlabDetected: false });
  assert.match(renderCiEnv(self, 'sh').text, '# gitlab.example.com:5050 is not detected as GitLab: add "registries: {gitlab.example.com:5050: {type: gitlab}}" to the config\n');
});

const tricky = '/tmp/we "ird" $HOME `id` \\ dir\'s';

test('sh output survives a real shell: quotes, $, backquotes and backslashes stay literal; the reference expands', () => {
  const lines: CiEnvLine[] = [
    { kind: 'export', name: 'DOCKER_CONFIG', value: tricky },
    { kind: 'reference', name: 'REGPLAN_REPO_GITHUB_TOKEN', variable: 'GITHUB_TOKEN' },
    { kind: 'comment', text: 'a note' },
  ];
  const script = `${renderCiEnv(lines, 'sh').text}printf '%s|%s' "$DOCKER_CONFIG" "$REGPLAN_REPO_GITHUB_TOKEN"`;
  const out = execFileSync('/bin/sh', ['-c', script], { env: { PATH: '/usr/bin:/bin', HOME: '/root', GITHUB_TOKEN: 'tok' }, encoding: 'utf8' });
  assert.is(out, `${tricky}|tok`);
});

test('powershell output uses $Env: with backtick escapes; the reference reads $Env:GITHUB_TOKEN', () => {
  const lines: CiEnvLine[] = [
    { kind: 'export', name: 'DOCKER_CONFIG', value: 'C:\\Temp\\a "b" $c `d' },
    { kind: 'reference', name: 'REGPLAN_REPO_GITHUB_TOKEN', variable: 'GITHUB_TOKEN' },
    { kind: 'comment', text: 'a note' },
  ];
  assert.is(
    renderCiEnv(lines, 'powershell').text,
    '$Env:DOCKER_CONFIG = "C:\\Temp\\a `"b`" `$c ``d"\n$Env:REGPLAN_REPO_GITHUB_TOKEN = $Env:GITHUB_TOKEN\n# a note\n',
  );
});

test('env-file output is K=V with literal values; comments and references become notes', () => {
  const lines = ciEnvLines('github', { configDir: '/tmp/a b', env: GITHUB });
  const rendered = renderCiEnv(lines, 'env-file');
  assert.is(rendered.text, 'DOCKER_CONFIG=/tmp/a b\nREGPLAN_DOCKER_CONFIG=/tmp/a b\n');
  assert.equal(rendered.notes, ['an env file cannot refer to $GITHUB_TOKEN: set REGPLAN_REPO_GITHUB_TOKEN from it in the job yourself']);
  assert.throws(() => renderCiEnv([{ kind: 'export', name: 'K', value: 'a\nb' }], 'env-file'), /contains a line break/);
});

async function sourceDir(config: unknown) {
  const made = await makeDockerConfigDir(config);
  cleanups.push(made.cleanup);
  return made.dir;
}

test('prepareCiEnv copies, logs in, and reports where the login went without the password', async () => {
  const dir = await sourceDir({ auths: {} });
  const result = await prepareCiEnv('github', { env: GITHUB, sourceDir: dir, login: true });
  cleanups.push(() => rm(result.config.dir, { recursive: true, force: true }));
  assert.equal(result.login, {
    host: 'ghcr.io',
    username: 'octocat',
    hostFrom: 'the default',
    passwordFrom: '$GITHUB_TOKEN',
    place: { kind: 'auths', file: path.join(result.config.dir, 'config.json'), key: 'ghcr.io' },
  });
  const written = JSON.parse(await readFile(path.join(result.config.dir, 'config.json'), 'utf8'));
  assert.is(written.auths['ghcr.io'].auth, basicAuth('octocat', 'gh-token'));
});

/** Runs `body` with the process temp dir pointed at a fresh empty dir, and returns what is left in it. */
async function inPrivateTmp(body: () => Promise<void>): Promise<string[]> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'regplan-ci-env-tmp-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = tmp;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
  return readdir(tmp);
}

test('prepareCiEnv checks the variables before making anything, and removes its dir when the login fails', async () => {
  const helper = await makeFakeHelper('broken', {}, { storeFails: 'no keyring' });
  cleanups.push(helper.cleanup);
  const dir = await sourceDir({ credsStore: 'broken' });
  const left = await inPrivateTmp(async () => {
    const before = await rejection(prepareCiEnv('gitlab', { env: {}, sourceDir: dir, login: true }), CredentialsError);
    assert.match(before.message, 'CI_JOB_TOKEN');
    const failed = await rejection(prepareCiEnv('gitlab', { env: { ...GITLAB, PATH: helper.path }, sourceDir: dir, login: true }), CredentialsError);
    assert.match(failed.message, 'could not store the login');
  });
  assert.equal(left, []);
  // The same run with a working login does leave its dir (so the check above can fail).
  const kept = await inPrivateTmp(async () => {
    await prepareCiEnv('gitlab', { env: GITLAB, sourceDir: '/nonexistent/regplan', login: true });
  });
  assert.is(kept.length, 1);
  assert.match(kept[0]!, /^regplan-docker-config-/);
});

test('prepareCiEnv with login off needs no CI variables', async () => {
  const result = await prepareCiEnv('gitlab', { env: {}, sourceDir: '/nonexistent/regplan', login: false });
  cleanups.push(() => rm(result.config.dir, { recursive: true, force: true }));
  assert.is(result.login, undefined);
  assert.ok(existsSync(result.config.dir));
});

test.run();
