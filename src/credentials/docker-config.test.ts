import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialsError } from '../errors.ts';
import { basicAuth, CANARY, makeDockerConfigDir } from '../../test/support/credentials.ts';
import { convertToHostname, decodeAuthField, parseDockerAuthConfigEnv, readDockerConfig, resolveDockerConfigDir } from './docker-config.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<CredentialsError> => rejectionOf(promise, CredentialsError);

const home = '/home/me';


function thrown(fn: () => unknown): CredentialsError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, CredentialsError);
    return error as CredentialsError;
  }
  throw new Error('expected a CredentialsError');
}

test('config dir: --docker-config beats every environment variable', () => {
  const env = { REGPLAN_DOCKER_CONFIG: '/r', DOCKER_CONFIG: '/d' };
  assert.equal(resolveDockerConfigDir({ flag: '/flag', env, home }), { dir: '/flag', reason: 'from --docker-config' });
});

test('config dir: REGPLAN_DOCKER_CONFIG beats DOCKER_CONFIG', () => {
  assert.equal(resolveDockerConfigDir({ env: { REGPLAN_DOCKER_CONFIG: '/r', DOCKER_CONFIG: '/d' }, home }), { dir: '/r', reason: 'from $REGPLAN_DOCKER_CONFIG' });
});

test('config dir: DOCKER_CONFIG beats the home default', () => {
  assert.equal(resolveDockerConfigDir({ env: { DOCKER_CONFIG: '/d' }, home }), { dir: '/d', reason: 'from $DOCKER_CONFIG' });
});

test('config dir: without flag or env it is ~/.docker, and empty values count as unset', () => {
  assert.equal(resolveDockerConfigDir({ flag: '', env: { REGPLAN_DOCKER_CONFIG: '', DOCKER_CONFIG: '' }, home }), {
    dir: path.join(home, '.docker'),
    reason: 'default ~/.docker',
  });
});

test('config dir: a relative path resolves against the given cwd', () => {
  assert.equal(resolveDockerConfigDir({ flag: 'ci/docker', env: {}, home, cwd: '/repo' }).dir, '/repo/ci/docker');
});

test('a missing config.json is an empty config, not an error', async () => {
  const made = await makeDockerConfigDir();
  try {
    const config = await readDockerConfig(made.dir);
    assert.equal(config, { file: made.file, exists: false, auths: {}, credHelpers: {} });
    const missingDir = await readDockerConfig(path.join(made.dir, 'does-not-exist'));
    assert.is(missingDir.exists, false);
  } finally {
    await made.cleanup();
  }
});

test('a config.json is read with its auths (in file order), credsStore and credHelpers', async () => {
  const made = await makeDockerConfigDir({
    auths: { 'ghcr.io': { auth: basicAuth('a', 'b'), email: 'x@y' }, 'https://myreg:5000/v1/': {}, 'quay.io': null },
    credsStore: 'desktop',
    credHelpers: { 'gcr.io': 'gcloud' },
    HttpHeaders: { 'X-Meta': 'ignored' },
  });
  try {
    const config = await readDockerConfig(made.dir);
    assert.is(config.exists, true);
    assert.equal(Object.keys(config.auths), ['ghcr.io', 'https://myreg:5000/v1/', 'quay.io']);
    assert.equal(config.auths['ghcr.io'], { auth: basicAuth('a', 'b') });
    assert.is(config.credsStore, 'desktop');
    assert.equal(config.credHelpers, { 'gcr.io': 'gcloud' });
  } finally {
    await made.cleanup();
  }
});

test('an empty config.json is an empty config, as in docker', async () => {
  const made = await makeDockerConfigDir('  \n');
  try {
    assert.equal((await readDockerConfig(made.dir)).auths, {});
  } finally {
    await made.cleanup();
  }
});

test('broken JSON is an error that names the file and never quotes its content', async () => {
  // V8's own message for this text would quote the start of the canary.
  const made = await makeDockerConfigDir(`{"auths": {"ghcr.io": {}},\n "x": ${CANARY}}`);
  try {
    const error = await rejection(readDockerConfig(made.dir));
    assert.is(error.message, `cannot read Docker config ${made.file}: not valid JSON`);
    assert.ok(error.hint);
    assert.not.match(`${error.message} ${error.hint}`, CANARY.slice(0, 6));
    assert.is(error.cause, undefined);
    const positioned = await makeDockerConfigDir('{"auths": {"ghcr.io": {}},\n}');
    try {
      assert.is((await rejection(readDockerConfig(positioned.dir))).message, `cannot read Docker config ${positioned.file}: not valid JSON (line 2, column 1)`);
    } finally {
      await positioned.cleanup();
    }
  } finally {
    await made.cleanup();
  }
});

test('a config with the wrong shape names the bad field and the file', async () => {
  const made = await makeDockerConfigDir({ auths: { 'ghcr.io': { auth: 42 } } });
  try {
    const error = await rejection(readDockerConfig(made.dir));
    assert.match(error.message, made.file);
    assert.match(error.message, 'auths["ghcr.io"].auth must be a string');
  } finally {
    await made.cleanup();
  }
  for (const [config, message] of [
    [{ credHelpers: ['gcloud'] }, '"credHelpers" must be an object'],
    [{ credsStore: 1 }, '"credsStore" must be a string'],
    [[], 'the top level must be a JSON object'],
  ] as const) {
    const bad = await makeDockerConfigDir(config);
    try {
      assert.match((await rejection(readDockerConfig(bad.dir))).message, message);
    } finally {
      await bad.cleanup();
    }
  }
});

test('a config.json that cannot be read (a directory) is an error naming the file', async () => {
  const made = await makeDockerConfigDir();
  try {
    await mkdir(made.file);
    const error = await rejection(readDockerConfig(made.dir));
    assert.match(error.message, `cannot read Docker config ${made.file}`);
  } finally {
    await made.cleanup();
  }
});

test('auth decoding splits at the first colon, so passwords may contain colons', () => {
  assert.equal(decodeAuthField(basicAuth('bot', 'pa:ss:word'), 'x'), { username: 'bot', password: 'pa:ss:word' });
});

test('auth decoding strips NUL bytes around the password', () => {
  assert.equal(decodeAuthField(basicAuth('bot', 'secret\0\0'), 'x'), { username: 'bot', password: 'secret' });
});

test('auth decoding refuses a value without a colon, an empty user and bad base64, without quoting the value', () => {
  const where = 'auths["ghcr.io"] in /x/config.json';
  const noColon = thrown(() => decodeAuthField(Buffer.from(CANARY).toString('base64'), where));
  assert.match(noColon.message, 'has no ":" between username and password');
  assert.match(noColon.message, where);
  const emptyUser = thrown(() => decodeAuthField(basicAuth('', CANARY), where));
  assert.match(emptyUser.message, 'has an empty username');
  const notBase64 = thrown(() => decodeAuthField(`${CANARY}!`, where));
  assert.match(notBase64.message, 'is not valid base64');
  for (const error of [noColon, emptyUser, notBase64]) assert.not.match(`${error.message} ${error.hint}`, CANARY);
});

test('ConvertToHostname strips scheme and path and keeps the port', () => {
  assert.is(convertToHostname('https://myreg:5000/v1/'), 'myreg:5000');
  assert.is(convertToHostname('http://myreg.example.com/v2/'), 'myreg.example.com');
  assert.is(convertToHostname('https://index.docker.io/v1/'), 'index.docker.io');
  assert.is(convertToHostname('https://[::1]:5000/v1/'), '[::1]:5000');
  assert.is(convertToHostname('ghcr.io/acme/api'), 'ghcr.io');
  assert.is(convertToHostname('localhost:5000'), 'localhost:5000');
});

test('DOCKER_AUTH_CONFIG: parsed when set, empty when unset', () => {
  assert.equal(parseDockerAuthConfigEnv({}), {});
  const value = JSON.stringify({ auths: { 'ghcr.io': { auth: basicAuth('a', 'b') } }, credHelpers: {} });
  assert.equal(parseDockerAuthConfigEnv({ DOCKER_AUTH_CONFIG: value }), { 'ghcr.io': { auth: basicAuth('a', 'b') } });
});

test('DOCKER_AUTH_CONFIG: only "auth" is allowed, it must be present, and errors never quote the value', () => {
  const cases: Array<[unknown, string]> = [
    [{ auths: { 'ghcr.io': { auth: basicAuth('a', 'b'), password: CANARY } } }, 'has "password"; only "auth" is allowed'],
    [{ auths: { 'ghcr.io': {} } }, 'auths["ghcr.io"] is missing "auth"'],
  ];
  for (const [value, message] of cases) {
    const error = thrown(() => parseDockerAuthConfigEnv({ DOCKER_AUTH_CONFIG: JSON.stringify(value) }));
    assert.match(error.message, message);
    assert.not.match(`${error.message} ${error.hint}`, CANARY);
  }
  const broken = thrown(() => parseDockerAuthConfigEnv({ DOCKER_AUTH_CONFIG: `{"auths": ${CANARY}` }));
  assert.match(broken.message, '$DOCKER_AUTH_CONFIG: not valid JSON');
  assert.not.match(`${broken.message} ${broken.hint}`, CANARY);
});

test.run();
