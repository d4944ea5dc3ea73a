import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, lstat, readFile, readdir, rm, stat, symlink, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { basicAuth, CANARY, makeDockerConfigDir, makeFakeHelper, type FakeHelper } from '../../test/support/credentials.ts';
import { decodeAuthField } from './docker-config.ts';
import { eraseLogin, loginKey, storeLogin, withoutAuthEntries } from './docker-login.ts';
import { lookupCredential } from './lookup.ts';

const cleanups: Array<() => Promise<void>> = [];
test.after.each(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;
const readJson = async (file: string): Promise<Record<string, any>> => JSON.parse(await readFile(file, 'utf8'));

async function configDir(config?: unknown) {
  const made = await makeDockerConfigDir(config);
  cleanups.push(made.cleanup);
  return made;
}

async function fakeHelper(name: string): Promise<FakeHelper> {
  const helper = await makeFakeHelper(name, {});
  cleanups.push(helper.cleanup);
  return helper;
}

const OTHER_CONTENT = {
  psFormat: 'table {{.ID}}',
  proxies: { default: { httpProxy: 'http://proxy:3128' } },
  plugins: { buildx: { enabled: 'true' } },
  currentContext: 'remote',
};

test('a login into a plain config becomes auths[host].auth; every other key and entry is kept as it was', async () => {
  const made = await configDir();
  await writeFile(made.file, `{"auths":{"other.example.com":{"auth":"${basicAuth('someone', 'theirs')}"},"__proto__":{"auth":"${basicAuth('odd', 'key')}"}},"psFormat":"table {{.ID}}","proxies":{"default":{"httpProxy":"http://proxy:3128"}},"plugins":{"buildx":{"enabled":"true"}},"currentContext":"remote"}`);
  const place = await storeLogin(made.dir, { host: 'registry.example.com:5000', username: 'ci', password: CANARY }, { env: {} });
  assert.equal(place, { kind: 'auths', file: made.file, key: 'registry.example.com:5000' });
  const written = await readJson(made.file);
  assert.equal(decodeAuthField(written.auths['registry.example.com:5000'].auth, 'test'), { username: 'ci', password: CANARY });
  assert.equal(Object.keys(written.auths), ['other.example.com', '__proto__', 'registry.example.com:5000']);
  assert.equal(written.auths['other.example.com'], { auth: basicAuth('someone', 'theirs') });
  assert.equal(Object.getOwnPropertyDescriptor(written.auths, '__proto__')?.value, { auth: basicAuth('odd', 'key') });
  for (const key of ['psFormat', 'proxies', 'plugins', 'currentContext'] as const) assert.equal(written[key], (OTHER_CONTENT as Record<string, unknown>)[key]);
});

test('config.json is replaced atomically (a new file renamed over it, no temp left) and ends up 0600 whatever it was', async () => {
  const made = await configDir({ auths: {} });
  await chmod(made.file, 0o644);
  const before = await stat(made.file);
  await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: 'gh-token' }, { env: {} });
  const after = await stat(made.file);
  assert.is.not(after.ino, before.ino, 'written to a new file and renamed over the old one, never edited in place');
  assert.is(await mode(made.file), 0o600);
  assert.equal(await readdir(made.dir), ['config.json']);
});

test('a missing config dir is created 0700 with a 0600 config.json', async () => {
  const parent = await mkdtemp(path.join(tmpdir(), 'regplan-login-'));
  cleanups.push(() => rm(parent, { recursive: true, force: true }));
  const dir = path.join(parent, 'docker');
  await storeLogin(dir, { host: 'ghcr.io', username: 'octocat', password: 'gh-token' }, { env: {} });
  assert.is(await mode(dir), 0o700);
  assert.is(await mode(path.join(dir, 'config.json')), 0o600);
});

test('a symlinked config.json keeps its link; the target gets the login', async () => {
  const made = await configDir();
  const real = path.join(made.dir, 'real.json');
  await writeFile(real, '{"psFormat":"x"}');
  await symlink('real.json', made.file);
  await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: 'gh-token' }, { env: {} });
  assert.ok((await lstat(made.file)).isSymbolicLink());
  assert.equal(Object.keys((await readJson(real)).auths), ['ghcr.io']);
  assert.is((await readJson(real)).psFormat, 'x');
});

test('Docker Hub under any of its names is saved under "https://index.docker.io/v1/", as docker writes it', () => {
  for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) assert.is(loginKey(host), 'https://index.docker.io/v1/', host);
  assert.is(loginKey('https://registry.example.com:5000/v2/'), 'registry.example.com:5000');
});

test('credHelpers for the host wins over credsStore; the file keeps an empty entry and no secret', async () => {
  const perHost = await fakeHelper('perhost');
  const store = await fakeHelper('store');
  const made = await configDir({ credsStore: 'store', credHelpers: { 'ghcr.io': 'perhost' }, auths: { 'ghcr.io': { auth: basicAuth('old', 'old-secret') } } });
  const env = { PATH: [perHost.binDir, store.path].join(path.delimiter) };
  const place = await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: CANARY }, { env });
  assert.equal(place, { kind: 'helper', helper: 'perhost', via: 'credHelpers', key: 'ghcr.io' });
  assert.equal(await perHost.stored(), [{ ServerURL: 'ghcr.io', Username: 'octocat', Secret: CANARY }]);
  assert.equal(await store.stored(), []);
  const text = await readFile(made.file, 'utf8');
  assert.equal(JSON.parse(text).auths, { 'ghcr.io': {} });
  assert.not.match(text, CANARY);
  assert.not.match(text, basicAuth('old', 'old-secret'));
  const other = await storeLogin(made.dir, { host: 'quay.io', username: 'robot', password: 'q' }, { env });
  assert.equal(other, { kind: 'helper', helper: 'store', via: 'credsStore', key: 'quay.io' });
});

test('logout drops every auths key naming the host and keeps the rest; nothing saved leaves the file untouched', async () => {
  const made = await configDir({
    auths: { 'reg.example.com': { auth: 'YTpi' }, 'https://reg.example.com/v1/': { auth: 'YTpi' }, 'http://reg.example.com': {}, 'other.example.com': { auth: 'YzpkZA==' } },
    psFormat: 'x',
  });
  const result = await eraseLogin(made.dir, 'reg.example.com', { env: {} });
  assert.is(result.shownAs, 'reg.example.com');
  assert.equal(result.erased.map((e) => e.key).sort(), ['http://reg.example.com', 'https://reg.example.com/v1/', 'reg.example.com']);
  const written = await readJson(made.file);
  assert.equal(written, { auths: { 'other.example.com': { auth: 'YzpkZA==' } }, psFormat: 'x' });
  assert.is(await lookupCredential({ host: 'reg.example.com', name: 'app' }, { configDir: made.dir, env: {} }), undefined);
  const bytes = await readFile(made.file, 'utf8');
  const again = await eraseLogin(made.dir, 'reg.example.com', { env: {} });
  assert.equal(again.erased, []);
  assert.is(await readFile(made.file, 'utf8'), bytes);
});

test('logout through the helper the host is routed to erases it there and drops the empty file entry', async () => {
  const helper = await fakeHelper('test');
  const made = await configDir({ credsStore: 'test', psFormat: 'x' });
  const env = { PATH: helper.path };
  await storeLogin(made.dir, { host: 'ghcr.io', username: 'octocat', password: CANARY }, { env });
  assert.is((await lookupCredential({ host: 'ghcr.io', name: 'a' }, { configDir: made.dir, env }))?.password, CANARY);
  const result = await eraseLogin(made.dir, 'ghcr.io', { env });
  assert.equal(result.erased, [{ kind: 'helper', helper: 'test', via: 'credsStore', key: 'ghcr.io' }, { kind: 'auths', file: made.file, key: 'ghcr.io' }]);
  assert.equal(await helper.erased(), ['ghcr.io']);
  assert.equal(await readJson(made.file), { credsStore: 'test', psFormat: 'x', auths: {} });
  assert.is(await lookupCredential({ host: 'ghcr.io', name: 'a' }, { configDir: made.dir, env }), undefined);
});

test('withoutAuthEntries keeps key order and the other entries', () => {
  const text = '{"auths":{"a.io":{},"b.io":{"auth":"x"},"c.io":{}},"credsStore":"s"}';
  assert.equal(JSON.parse(withoutAuthEntries(text, ['b.io'])), { auths: { 'a.io': {}, 'c.io': {} }, credsStore: 's' });
  assert.equal(Object.keys(JSON.parse(withoutAuthEntries(text, ['b.io'])).auths), ['a.io', 'c.io']);
});

test.run();
