import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { CredentialsError } from '../errors.ts';
import { basicAuth, makeDockerConfigDir, makeFakeHelper, type FakeHelper } from '../../test/support/credentials.ts';
import { rejection } from '../../test/support/rejection.ts';
import { createJobDockerConfig, JOB_DOCKER_CONFIG_PREFIX } from './ci-docker-config.ts';
import { storeLogin, withAuthEntry } from './docker-login.ts';
import { decodeAuthField } from './docker-config.ts';
import { lookupCredential } from './lookup.ts';

const cleanups: Array<() => Promise<void>> = [];
test.after.each(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;
const readJson = async (file: string): Promise<Record<string, any>> => JSON.parse(await readFile(file, 'utf8'));

/** A source config dir (removed after the test). */
async function source(config?: unknown) {
  const made = await makeDockerConfigDir(config);
  cleanups.push(made.cleanup);
  return made;
}

/** A per-job config (removed after the test). */
async function job(options: Parameters<typeof createJobDockerConfig>[0]) {
  const made = await createJobDockerConfig(options);
  cleanups.push(() => rm(made.dir, { recursive: true, force: true }));
  return made;
}

async function listenOnSocket(file: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(file, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

test('copies the config dir into a fresh private dir, without plugin folders, sockets or symlinked dirs', async () => {
  const src = await source({ auths: { 'other.example.com': { auth: basicAuth('me', 'pw') } }, currentContext: 'ci' });
  for (const dir of ['cli-plugins', 'buildx/instances', 'machine', 'desktop', 'run', 'mutagen', 'scout', 'contexts/meta/abc']) {
    await mkdir(path.join(src.dir, dir), { recursive: true });
  }
  await writeFile(path.join(src.dir, 'cli-plugins', 'docker-compose'), '#!/bin/sh\n');
  await writeFile(path.join(src.dir, 'contexts/meta/abc/meta.json'), '{"Name":"ci"}');
  await listenOnSocket(path.join(src.dir, 'docker.sock'));
  await listenOnSocket(path.join(src.dir, 'contexts', 'agent.sock'));
  await symlink(path.join(src.dir, 'contexts'), path.join(src.dir, 'contexts-link'));
  await symlink(path.join(src.dir, 'config.json'), path.join(src.dir, 'config-link.json'));

  const made = await job({ sourceDir: src.dir, env: {} });
  assert.ok(path.basename(made.dir).startsWith(JOB_DOCKER_CONFIG_PREFIX), made.dir);
  assert.is.not(made.dir, src.dir);
  assert.equal((await readdir(made.dir)).sort(), ['config-link.json', 'config.json', 'contexts']);
  assert.equal(await readdir(path.join(made.dir, 'contexts')), ['meta']);
  assert.is(await readFile(path.join(made.dir, 'contexts/meta/abc/meta.json'), 'utf8'), '{"Name":"ci"}');
  assert.equal(await readJson(path.join(made.dir, 'config.json')), await readJson(src.file));
  assert.equal(
    made.skipped.map((s) => `${s.path}: ${s.reason}`),
    [
      'buildx: excluded',
      'cli-plugins: excluded',
      'contexts/agent.sock: not a regular file or directory',
      'contexts-link: symlink to a directory',
      'desktop: excluded',
      'docker.sock: not a regular file or directory',
      'machine: excluded',
      'mutagen: excluded',
      'run: excluded',
      'scout: excluded',
    ],
  );
  assert.equal(made.origin, { kind: 'copy', source: src.dir });
});

test('the job dir is 0700, its directories 0700 and its files 0600 whatever the source modes were', async () => {
  const src = await source({ auths: {} });
  await mkdir(path.join(src.dir, 'contexts'), { mode: 0o755 });
  await writeFile(path.join(src.dir, 'contexts', 'shared.json'), '{}', { mode: 0o644 });
  const made = await job({ sourceDir: src.dir, env: {} });
  assert.is((await mode(made.dir)).toString(8), '700');
  assert.is((await mode(path.join(made.dir, 'contexts'))).toString(8), '700');
  assert.is((await mode(path.join(made.dir, 'contexts', 'shared.json'))).toString(8), '600');
  assert.is((await mode(path.join(made.dir, 'config.json'))).toString(8), '600');
});

test('a missing source dir gives an empty job dir; a source that is a file is a clear error', async () => {
  const src = await source();
  const made = await job({ sourceDir: path.join(src.dir, 'nope'), env: {} });
  assert.equal(await readdir(made.dir), []);
  const file = path.join(src.dir, 'plain-file');
  await writeFile(file, 'x');
  const error = await rejection(createJobDockerConfig({ sourceDir: file, env: {} }), CredentialsError);
  assert.match(error.message, `cannot copy the Docker config dir ${file}: ENOTDIR`);
});

test('every run makes its own dir', async () => {
  const src = await source({ auths: {} });
  const [a, b] = await Promise.all([job({ sourceDir: src.dir, env: {} }), job({ sourceDir: src.dir, env: {} })]);
  assert.is.not(a.dir, b.dir);
});

test('--use-docker-auth-config writes $DOCKER_AUTH_CONFIG as config.json (0600) and copies nothing', async () => {
  const src = await source({ credsStore: 'desktop' });
  const value = JSON.stringify({ auths: { 'registry.example.com': { auth: basicAuth('bot', 'pw') } } });
  const made = await job({ sourceDir: src.dir, env: { DOCKER_AUTH_CONFIG: value }, useDockerAuthConfig: true });
  assert.equal(await readdir(made.dir), ['config.json']);
  assert.is(await readFile(path.join(made.dir, 'config.json'), 'utf8'), value);
  assert.is((await mode(path.join(made.dir, 'config.json'))).toString(8), '600');
  assert.equal(made.origin, { kind: 'docker-auth-config' });
});

test('--use-docker-auth-config without the variable, or with text that is not a JSON object, fails without quoting it', async () => {
  const missing = await rejection(createJobDockerConfig({ sourceDir: '/nonexistent', env: {}, useDockerAuthConfig: true }), CredentialsError);
  assert.match(missing.message, '--use-docker-auth-config needs $DOCKER_AUTH_CONFIG, which is not set');
  const broken = await rejection(createJobDockerConfig({ sourceDir: '/nonexistent', env: { DOCKER_AUTH_CONFIG: '{"auths": hunter2' }, useDockerAuthConfig: true }), CredentialsError);
  assert.is(broken.message, 'cannot use $DOCKER_AUTH_CONFIG: not valid JSON');
  const array = await rejection(createJobDockerConfig({ sourceDir: '/nonexistent', env: { DOCKER_AUTH_CONFIG: '["hunter2"]' }, useDockerAuthConfig: true }), CredentialsError);
  assert.match(array.message, 'the top level must be a JSON object');
  assert.not.match(`${broken.message}${broken.hint}${array.message}`, 'hunter2');
});

test('a login becomes an auths entry docker and regplan can both read, keeping every other key', async () => {
  const src = await source({ auths: { 'other.example.com': { auth: basicAuth('me', 'pw') } }, currentContext: 'ci', proxies: { default: {} } });
  const made = await job({ sourceDir: src.dir, env: {} });
  const place = await storeLogin(made.dir, { host: 'registry.gitlab.com', username: 'gitlab-ci-token', password: 'job-token' }, { env: {} });
  const file = path.join(made.dir, 'config.json');
  assert.equal(place, { kind: 'auths', file, key: 'registry.gitlab.com' });
  const text = await readFile(file, 'utf8');
  assert.match(text, /^\{\n\t"auths": \{\n\t\t"other\.example\.com"/);
  const written = JSON.parse(text);
  assert.equal(Object.keys(written.auths['registry.gitlab.com']), ['auth']);
  assert.equal(decodeAuthField(written.auths['registry.gitlab.com'].auth, 'test'), { username: 'gitlab-ci-token', password: 'job-token' });
  assert.is(written.currentContext, 'ci');
  assert.equal(written.proxies, { default: {} });
  assert.equal(written.auths['other.example.com'], { auth: basicAuth('me', 'pw') });
  assert.is((await mode(file)).toString(8), '600');
  const found = await lookupCredential({ host: 'registry.gitlab.com', name: 'group/project' }, { configDir: made.dir, env: {} });
  assert.equal(found, { username: 'gitlab-ci-token', password: 'job-token', source: `auths["registry.gitlab.com"] in ${file}` });
  // The source config is untouched.
  assert.equal(Object.keys((await readJson(src.file)).auths), ['other.example.com']);
});

test('a login into an empty job dir creates config.json; an old entry for the host is replaced', async () => {
  const made = await job({ sourceDir: '/nonexistent/regplan', env: {} });
  await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: 'first' }, { env: {} });
  await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: 'second' }, { env: {} });
  const written = await readJson(path.join(made.dir, 'config.json'));
  assert.equal(written, { auths: { 'ghcr.io': { auth: basicAuth('octocat', 'second') } } });
});

test('a Docker Hub login is filed under https://index.docker.io/v1/', async () => {
  const made = await job({ sourceDir: '/nonexistent/regplan', env: {} });
  const place = await storeLogin(made.dir, { host: 'docker.io', username: 'me', password: 'pw' }, { env: {} });
  assert.is(place.key, 'https://index.docker.io/v1/');
  const found = await lookupCredential({ host: 'docker.io', name: 'library/alpine' }, { configDir: made.dir, env: {} });
  assert.is(found?.password, 'pw');
});

async function fakeHelper(name: string, options: { storeFails?: string } = {}): Promise<FakeHelper> {
  const helper = await makeFakeHelper(name, {}, options);
  cleanups.push(helper.cleanup);
  return helper;
}

test('credHelpers[host] routes the login to the helper store, as docker login does, and lookups find it there', async () => {
  const helper = await fakeHelper('vault');
  const src = await source({ credHelpers: { 'ghcr.io': 'vault' }, auths: { 'ghcr.io': { auth: basicAuth('old', 'old') } } });
  const made = await job({ sourceDir: src.dir, env: {} });
  const env = { PATH: helper.path };
  const place = await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: 'gh-token' }, { env });
  assert.equal(place, { kind: 'helper', helper: 'vault', via: 'credHelpers', key: 'ghcr.io' });
  assert.equal(await helper.stored(), [{ ServerURL: 'ghcr.io', Username: 'octocat', Secret: 'gh-token' }]);
  const written = await readJson(path.join(made.dir, 'config.json'));
  assert.equal(written.auths['ghcr.io'], {}, 'the file keeps an empty entry and no secret');
  assert.not.match(JSON.stringify(written), 'gh-token');
  const found = await lookupCredential({ host: 'ghcr.io', name: 'acme/api' }, { configDir: made.dir, env });
  assert.is(found?.username, 'octocat');
  assert.is(found?.password, 'gh-token');
});

test('credsStore takes the login when no credHelpers entry names the host; an empty credHelpers entry means the file', async () => {
  const helper = await fakeHelper('pass');
  const src = await source({ credsStore: 'pass', credHelpers: { 'registry.gitlab.com': '' } });
  const made = await job({ sourceDir: src.dir, env: {} });
  const env = { PATH: helper.path };
  const viaStore = await storeLogin(made.dir, { host: 'gitlab.example.com:5050', username: 'gitlab-ci-token', password: 't1' }, { env });
  assert.equal(viaStore, { kind: 'helper', helper: 'pass', via: 'credsStore', key: 'gitlab.example.com:5050' });
  const viaFile = await storeLogin(made.dir, { host: 'registry.gitlab.com', username: 'gitlab-ci-token', password: 't2' }, { env });
  assert.is(viaFile.kind, 'auths');
  assert.equal(await helper.stored(), [{ ServerURL: 'gitlab.example.com:5050', Username: 'gitlab-ci-token', Secret: 't1' }]);
});

test('a helper that cannot store, or is missing, is a CredentialsError that never quotes the secret', async () => {
  const helper = await fakeHelper('locked', { storeFails: 'keyring is locked' });
  const src = await source({ credsStore: 'locked' });
  const made = await job({ sourceDir: src.dir, env: {} });
  const failed = await rejection(storeLogin(made.dir, { host: 'ghcr.io', username: 'u', password: 's3cret' }, { env: { PATH: helper.path } }), CredentialsError);
  assert.match(failed.message, 'credential helper docker-credential-locked could not store the login for "ghcr.io" (exit 1): keyring is locked');
  const echoing = await fakeHelper('echo', { storeFails: 'bad input s3cret' });
  const src2 = await source({ credsStore: 'echo' });
  const made2 = await job({ sourceDir: src2.dir, env: {} });
  const leaked = await rejection(storeLogin(made2.dir, { host: 'ghcr.io', username: 'u', password: 's3cret' }, { env: { PATH: echoing.path } }), CredentialsError);
  assert.not.match(`${leaked.message} ${leaked.hint}`, 's3cret');
  const missing = await rejection(storeLogin(made.dir, { host: 'ghcr.io', username: 'u', password: 's3cret' }, { env: { PATH: '' } }), CredentialsError);
  assert.match(missing.message, 'credential helper docker-credential-locked is not on PATH');
  assert.match(missing.hint ?? '', `remove "credsStore" from ${path.join(made.dir, 'config.json')}`);
});

test('withAuthEntry keeps key order and odd keys such as __proto__ as plain keys', () => {
  const text = '{"auths":{"__proto__":{"auth":"eDp5"},"a.io":{}},"credsStore":"x"}';
  const updated = JSON.parse(withAuthEntry(text, 'b.io', 'YjpD'));
  assert.equal(Object.keys(updated), ['auths', 'credsStore']);
  assert.equal(Object.keys(updated.auths), ['__proto__', 'a.io', 'b.io']);
  assert.equal(JSON.parse(withAuthEntry('', 'c.io', undefined)), { auths: { 'c.io': {} } });
});

test.run();
