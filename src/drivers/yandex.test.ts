/**
 * The Yandex Container Registry driver against its emulator (test/emulators/yandex.ts): tag records and untagged
 * images from the paged images API (proto3 JSON: omitted fields, int64 strings), IAM token sources (flag, OAuth
 * exchange, Docker login), deletes that return an Operation polled until done (success, failure, never done),
 * listings that stay complete while deletes run, and no secret in any message.
 */
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startYandexEmulator, type YandexEmulator, type YandexEmulatorOptions } from '../../test/emulators/yandex.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { SECRET_KEY } from '../config/secrets.ts';
import { AuthError, CredentialsError, RegistryError, RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { createYandexDriver } from './yandex.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);
const IAM = 't1.iam-Token-Secret-0001';
const OAUTH = 'y0_OAuth-Secret-0002';
const REPO = 'crp0registry00000001/app';
const SA_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
/** An authorized key file as `yc iam key create` writes it (its private_key starts with Yandex's warning line). */
const KEY_FILE = JSON.stringify({
  id: 'ajekeyid0000000000001',
  service_account_id: 'ajesaid00000000000001',
  created_at: '2025-01-01T00:00:00Z',
  key_algorithm: 'RSA_2048',
  public_key: SA_KEYS.publicKey,
  private_key: `PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <ajekeyid0000000000001>\n${SA_KEYS.privateKey}`,
});
const SA = { ajekeyid0000000000001: { serviceAccountId: 'ajesaid00000000000001', publicKey: SA_KEYS.publicKey } };
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function withEmulator(options: YandexEmulatorOptions, body: (emulator: YandexEmulator) => Promise<void>): Promise<void> {
  const emulator = await startYandexEmulator({ iamTokens: [IAM], oauthTokens: [OAUTH], ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

function driverFor(emulator: YandexEmulator, env: Record<string, string | undefined> = { REGPLAN_REPO_YANDEX_IAM_TOKEN: IAM }, login?: { username: string; password: string }, pollTimeoutMs = 20_000) {
  const values: Record<string, string | undefined> = { REGPLAN_REPO_YANDEX_OPERATION_URL: emulator.api, REGPLAN_REPO_YANDEX_IAM_URL: emulator.iam, ...env };
  const context: DriverContext = {
    host: emulator.host,
    type: 'yandex',
    registry: { host: emulator.host, insecure: false, api: emulator.api },
    credentials: async () => (login === undefined ? undefined : { ...login, source: 'test' }),
    nativeSecret: async (name) => values[name],
  };
  return createYandexDriver(context, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, poll: { intervalMs: 1, maxIntervalMs: 2, timeoutMs: pollTimeoutMs } });
}

const assertNoSecret = (error: RegplanError, emulator: YandexEmulator) => {
  const text = `${error.message}\n${error.hint ?? ''}`;
  for (const secret of [IAM, OAUTH, ...emulator.issued]) assert.not.ok(text.includes(secret), `secret in: ${text}`);
};

test('lists tags with digests and createdAt across pages, and untagged images whose proto3 JSON has no tags field', async () => {
  await withEmulator({ maxPageSize: 2 }, async (emulator) => {
    const release = emulator.store.seedImage(REPO, ['v1.0.0', 'stable'], { pushedAt: day(1), content: 'release' });
    const builds = [0, 1, 2, 3].map((i) => emulator.store.seedImage(REPO, [`pr-${i}`], { pushedAt: day(2 + i), content: `pr ${i}` }));
    const orphan = emulator.store.seedImage(REPO, ['temp'], { pushedAt: day(9), content: 'orphan' });
    emulator.store.untag(REPO, 'temp');
    const driver = driverFor(emulator);
    const records = await driver.listTagRecords(REPO);
    assert.equal(records, [
      ...builds.map((b, i) => ({ tag: `pr-${i}`, digest: b.digest, pushedAt: day(2 + i).toISOString() })),
      { tag: 'stable', digest: release.digest, pushedAt: day(1).toISOString() },
      { tag: 'v1.0.0', digest: release.digest, pushedAt: day(1).toISOString() },
    ]);
    const pages = emulator.registry.requestsTo('/container-registry/v1/images', 'GET');
    assert.is(pages.length, 3, 'six images, two per page');
    assert.match(pages[0]?.query ?? '', 'repositoryName=crp0registry00000001%2Fapp');
    assert.ok(pages.slice(1).every((p) => p.query.includes('pageToken=')));
    assert.equal(await driverFor(emulator).listUntagged(REPO), [{ digest: orphan.digest, pushedAt: day(9).toISOString() }]);
  });
});

test('an empty repository (proto3: an answer without images) lists nothing', async () => {
  await withEmulator({}, async (emulator) => {
    assert.equal(await driverFor(emulator).listTagRecords(REPO), []);
    assert.equal(await driverFor(emulator).listUntagged(REPO), []);
  });
});

test('delete polls the Operation until done and only then resolves; the image and all its tags are gone', async () => {
  await withEmulator({ operationPolls: 3 }, async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-1', 'pr-1-alias'], { content: 'doomed' });
    emulator.store.seedImage(REPO, ['v1'], { content: 'kept' });
    await driverFor(emulator).deleteManifest(REPO, doomed.digest);
    assert.is(emulator.store.manifest(REPO, doomed.digest), undefined);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.is(emulator.registry.requestsTo('/operations/', 'GET').length, 3, 'read until done');
    assert.is(emulator.registry.requestsTo('/container-registry/v1/images/', 'DELETE').length, 1);
  });
});

test('an Operation that ends with an error fails the delete with Yandex\'s message, and the image stays', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1']);
    emulator.failNextDeletes(1, { code: 9, message: 'Image is locked by a lifecycle policy run' });
    const error = await rejection(driverFor(emulator).deleteManifest(REPO, image.digest));
    assert.instance(error, RegistryError);
    assert.match(error.message, /Yandex operation \S+ ended with error 9 "Image is locked by a lifecycle policy run"/);
    assert.ok(emulator.store.manifest(REPO, image.digest));
    assertNoSecret(error, emulator);
  });
});

test('an Operation ending PERMISSION_DENIED is an AuthError naming the role', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1']);
    emulator.failNextDeletes(1, { code: 7, message: 'Permission denied' });
    const error = await rejection(driverFor(emulator).deleteManifest(REPO, image.digest));
    assert.instance(error, AuthError);
    assert.match(error.hint ?? '', 'container-registry.images.deleter');
  });
});

test('an Operation never done within the time is an error telling to re-run, not a success', async () => {
  await withEmulator({ operationPolls: 1_000_000 }, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1']);
    const error = await rejection(driverFor(emulator, undefined, undefined, 150).deleteManifest(REPO, image.digest));
    assert.instance(error, RegistryError);
    assert.match(error.message, /operation \S+ was still running/);
    assert.match(error.hint ?? '', 'run the same apply again');
  });
});

test('a digest the repository no longer has is already gone: no DELETE is sent', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    await driverFor(emulator).deleteManifest(REPO, `sha256:${'a'.repeat(64)}`);
    assert.is(emulator.registry.requestsTo('/container-registry/v1/images/', 'DELETE').length, 0);
  });
});

test('an image deleted by someone else after the listing: the DELETE\'s 404 counts as gone once a fresh listing agrees', async () => {
  await withEmulator({}, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1'], { content: 'gone soon' });
    emulator.store.seedImage(REPO, ['v1'], { content: 'kept' });
    const driver = driverFor(emulator);
    await driver.listTagRecords(REPO); // remembers the image id
    emulator.store.deleteManifest(REPO, image.digest);
    await driver.deleteManifest(REPO, image.digest);
    assert.is(emulator.registry.requestsTo('/container-registry/v1/images/', 'DELETE').filter((r) => r.status === 404).length, 1);
  });
});

test('a 404 on DELETE while the image is still listed is a failure, not "already gone"', async () => {
  await withEmulator({ deleteAnswers404: true }, async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1']);
    const error = await rejection(driverFor(emulator).deleteManifest(REPO, image.digest));
    assert.instance(error, RegistryError);
    assert.match(error.message, /answered the DELETE with HTTP 404, but the image is still listed/);
    assert.ok(emulator.store.manifest(REPO, image.digest));
  });
});

test('deletes running while the listing pages: every survivor is still listed, the ids of one listing serve every delete', async () => {
  await withEmulator({ maxPageSize: 3, operationPolls: 1 }, async (emulator) => {
    const doomed = Array.from({ length: 12 }, (_, i) => emulator.store.seedImage(REPO, [`pr-${i}`], { content: `pr ${i}` }).digest);
    const kept = Array.from({ length: 6 }, (_, i) => emulator.store.seedImage(REPO, [`v${i}`], { content: `v ${i}` }).digest);
    const deleter = driverFor(emulator);
    const [listed] = await Promise.all([driverFor(emulator).listTagRecords(REPO), ...doomed.map((d) => deleter.deleteManifest(REPO, d))]);
    for (const digest of kept) assert.ok(listed.some((r) => r.digest === digest), `kept ${digest} listed`);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    const listings = emulator.registry.requestsTo('/container-registry/v1/images', 'GET').filter((r) => r.path === '/container-registry/v1/images' && !r.query.includes('pageToken'));
    assert.is(listings.length, 2, 'one listing by the lister, one shared by all twelve deletes');
  });
});

test('an OAuth token is exchanged once for an IAM token, which is never shown', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const driver = driverFor(emulator, { REGPLAN_REPO_YANDEX_OAUTH_TOKEN: OAUTH });
    assert.is((await driver.listTagRecords(REPO)).length, 1);
    assert.is((await driver.listUntagged(REPO)).length, 0);
    assert.is(emulator.registry.requestsTo('/iam/v1/tokens', 'POST').length, 1);
    assert.is(emulator.issued.length, 1);
  });
});

test('a service account\'s authorized key is exchanged for an IAM token with a PS256 JWT the IAM API verifies', async () => {
  await withEmulator({ serviceAccountKeys: SA }, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    assert.is((await driverFor(emulator, { REGPLAN_REPO_YANDEX_PRIVATE_KEY: KEY_FILE }).listTagRecords(REPO)).length, 1);
    assert.is(emulator.issued.length, 1);
    assert.is((await driverFor(emulator, {}, { username: 'json_key', password: KEY_FILE }).listTagRecords(REPO)).length, 1, 'also from the json_key Docker login');
  });
});

test('the key\'s variable is one regplan masks everywhere (its name says it holds a private key)', () => {
  assert.ok(SECRET_KEY.test('REGPLAN_REPO_YANDEX_PRIVATE_KEY'));
});

test('a key the IAM API does not know is an AuthError; a malformed key file a CredentialsError; neither shows the key', async () => {
  await withEmulator({ serviceAccountKeys: {} }, async (emulator) => {
    const refused = await rejection(driverFor(emulator, { REGPLAN_REPO_YANDEX_PRIVATE_KEY: KEY_FILE }).listTagRecords(REPO));
    assert.instance(refused, AuthError);
    assert.match(refused.message, /Yandex IAM API refused POST .*HTTP 401/);
    const malformed = await rejection(driverFor(emulator, { REGPLAN_REPO_YANDEX_PRIVATE_KEY: '{"id": "x", "private_key": "-----BEGIN PRIVATE KEY-----secret-ish"}' }).listTagRecords(REPO));
    assert.instance(malformed, CredentialsError);
    assert.match(malformed.message, /service account key from \$REGPLAN_REPO_YANDEX_PRIVATE_KEY is not an authorized key file/);
    for (const error of [refused, malformed]) assert.not.ok(`${error.message}${error.hint ?? ''}`.includes('PRIVATE KEY'));
  });
});

test('the Docker login to the registry as "iam" is used as the IAM token when no flag is set', async () => {
  await withEmulator({}, async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    assert.is((await driverFor(emulator, {}, { username: 'iam', password: IAM }).listTagRecords(REPO)).length, 1);
  });
});

test('no IAM token anywhere: a CredentialsError naming what to set, before any request', async () => {
  await withEmulator({}, async (emulator) => {
    const error = await rejection(driverFor(emulator, {}, { username: 'AWS', password: 'not-yandex' }).listTagRecords(REPO));
    assert.instance(error, CredentialsError);
    assert.match(error.message, /as type yandex: the Yandex images API needs an IAM token/);
    assert.match(error.hint ?? '', /REGPLAN_REPO_YANDEX_IAM_TOKEN .*REGPLAN_REPO_YANDEX_OAUTH_TOKEN or REGPLAN_REPO_YANDEX_PRIVATE_KEY/);
    assert.is(emulator.registry.requests.length, 0);
  });
});

test('a refused IAM token is an AuthError quoting Yandex, without the token', async () => {
  await withEmulator({}, async (emulator) => {
    const error = await rejection(driverFor(emulator, { REGPLAN_REPO_YANDEX_IAM_TOKEN: 't1.wrong-Secret' }).listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.message, /Yandex images API refused GET .*HTTP 401 "The token is invalid"/);
    assert.not.ok(`${error.message}${error.hint ?? ''}`.includes('t1.wrong-Secret'));
  });
});

test('an address without a registry id is refused with the expected shape', async () => {
  await withEmulator({}, async (emulator) => {
    const error = await rejection(driverFor(emulator).listTagRecords('app'));
    assert.match(error.message, /needs a registry id and an image name/);
  });
});

test.run();
