/**
 * The Quay driver against its emulator (test/emulators/quay.ts): with a token, tag records with digests and push
 * times from the Quay API (active tags only, paged by has_additional, 100 a page) and untag through its tag
 * DELETE; without a token, the Registry API fallback (list + HEAD, untag by tag); digest deletes with Quay's
 * semantics; the TAG_EXPIRED quirk; 429 ridden out; a refused token's hint; no secret in any message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startQuayEmulator, type QuayEmulator, type QuayEmulatorOptions } from '../../test/emulators/quay.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { AuthError, isNotFound, RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { createQuayDriver, quayApiBase, quayDriver } from './quay.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const TOKEN = 'quay-oauth-Secret-Token-123';
const REPO = 'acme/charts/web';
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

async function withEmulator(body: (emulator: QuayEmulator) => Promise<void>, clock?: () => Date): Promise<void> {
  const emulator = await startQuayEmulator({ token: TOKEN, ...(clock === undefined ? {} : { clock }) });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

function contextFor(emulator: QuayEmulator, token: string | undefined): DriverContext {
  return {
    host: emulator.host,
    type: 'quay',
    registry: { host: emulator.host, insecure: false, api: emulator.api },
    credentials: async () => undefined,
    nativeSecret: async (name) => (name === 'REGPLAN_REPO_QUAY_TOKEN' ? token : undefined),
  };
}

const driverFor = (emulator: QuayEmulator, token: string | undefined) => createQuayDriver(contextFor(emulator, token), { retry: { attempts: 3, baseDelayMs: 1 } });


test('with a token, lists active tags with digests and push times from the Quay API, one request per 100 tags', async () => {
  await withEmulator(async (emulator) => {
    const tags = Array.from({ length: 150 }, (_, i) => `pr-${String(i).padStart(3, '0')}`);
    for (const [i, tag] of tags.entries()) emulator.store.seedImage(REPO, [tag], { pushedAt: day(i), content: tag });
    const shared = emulator.store.seedImage(REPO, ['v1', 'stable'], { pushedAt: day(200), content: 'release' });
    const records = await driverFor(emulator, TOKEN).listTagRecords(REPO);
    assert.is(records.length, 152);
    assert.equal(records.find((r) => r.tag === 'pr-007'), { tag: 'pr-007', digest: emulator.store.resolve(REPO, 'pr-007')?.digest ?? '', pushedAt: day(7).toISOString() });
    assert.equal(records.filter((r) => r.digest === shared.digest).map((r) => r.tag), ['stable', 'v1']);
    const calls = emulator.registry.requestsTo(`/api/v1/repository/${REPO}/tag/`, 'GET');
    assert.equal(calls.map((c) => new URLSearchParams(c.query).get('page')), ['1', '2']);
    assert.ok(calls.every((c) => new URLSearchParams(c.query).get('onlyActiveTags') === 'true' && new URLSearchParams(c.query).get('limit') === '100'));
    assert.is(emulator.registry.requestsTo('/v2/').length, 0, 'no Registry API call');
  });
});

test('deleted and moved tags (Quay tag history) never show up as live tags', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['gone'], { pushedAt: day(1), content: 'a' });
    const now = emulator.store.seedImage(REPO, ['moved'], { pushedAt: day(2), content: 'b' });
    await driverFor(emulator, TOKEN).listTagRecords(REPO); // the emulator notes the live tags
    emulator.store.untag(REPO, 'gone');
    const moved = emulator.store.seedImage(REPO, ['moved'], { pushedAt: day(3), content: 'c' });
    assert.is(emulator.history(REPO).length, 2, 'the emulator keeps history for a client that forgets onlyActiveTags');
    assert.equal(await driverFor(emulator, TOKEN).listTagRecords(REPO), [{ tag: 'moved', digest: moved.digest, pushedAt: day(3).toISOString() }]);
    assert.is.not(moved.digest, now.digest);
  });
});

test('with a token, untag removes one tag through the Quay API and leaves the manifest for the other', async () => {
  await withEmulator(async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1', 'v1']);
    const driver = driverFor(emulator, TOKEN);
    await driver.untag(REPO, 'pr-1');
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(emulator.store.manifest(REPO, image.digest));
    assert.equal(emulator.registry.requestsTo(`/api/v1/repository/${REPO}/tag/pr-1`, 'DELETE').map((r) => r.status), [204]);
    await driver.untag(REPO, 'pr-1'); // 404 now: counts as done
    assert.is(emulator.registry.requestsTo('/v2/', 'DELETE').length, 0);
  });
});

test('without a token, listing falls back to the Registry API and untag to DELETE by tag', async () => {
  await withEmulator(async (emulator) => {
    const image = emulator.store.seedImage(REPO, ['pr-1', 'v1']);
    const driver = driverFor(emulator, undefined);
    const records = await driver.listTagRecords(REPO);
    assert.equal(records.map((r) => [r.tag, r.digest]), [['pr-1', image.digest], ['v1', image.digest]]);
    assert.ok(records.every((r) => r.pushedAt === undefined), 'push times then come from image configs (inventory)');
    await driver.untag(REPO, 'pr-1');
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.is(emulator.registry.requestsTo('/api/v1/').length, 0);
    assert.equal(emulator.registry.requestsTo(`/v2/${REPO}/manifests/pr-1`, 'DELETE').map((r) => r.status), [202]);
  });
});

test('deleting a digest removes the manifest and every tag on it; again is a 404 left for apply to confirm', async () => {
  await withEmulator(async (emulator) => {
    const doomed = emulator.store.seedImage(REPO, ['pr-2', 'pr-2-alias'], { content: 'doomed' });
    emulator.store.seedImage(REPO, ['v2'], { content: 'kept' });
    const driver = driverFor(emulator, TOKEN);
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v2']);
    const again = await driver.deleteManifest(REPO, doomed.digest).then(() => undefined, (e: unknown) => e);
    assert.ok(isNotFound(again), 'a 404 is not proof: apply looks again before calling it gone');
  });
});

test('TAG_EXPIRED: an expired tag is not listed, resolves to nothing, and untagging it counts as done', async () => {
  let now = day(10);
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['temp'], { pushedAt: day(1), content: 'temp' });
    emulator.store.seedImage(REPO, ['v3'], { pushedAt: day(1), content: 'v3' });
    emulator.expireTag(REPO, 'temp', day(11));
    const driver = driverFor(emulator, TOKEN);
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['temp', 'v3'], 'an expiration in the future leaves the tag alive');
    now = day(12);
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['v3']);
    const raw = await fetch(`http://${emulator.host}/v2/${REPO}/manifests/temp`);
    assert.is(raw.status, 404);
    assert.match(await raw.text(), 'TAG_EXPIRED');
    assert.is(await driver.resolveTag(REPO, 'temp'), undefined);
    await driver.untag(REPO, 'temp');
    assert.is(await driverFor(emulator, undefined).resolveTag(REPO, 'temp'), undefined);
  }, () => now);
});

test('429 from the Quay API is retried (Retry-After honoured)', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['a']);
    emulator.throttle(2);
    assert.equal((await driverFor(emulator, TOKEN).listTagRecords(REPO)).map((r) => r.tag), ['a']);
    assert.equal(emulator.registry.requestsTo('/api/v1/').map((r) => r.status), [429, 429, 200]);
  });
});

test('a refused token is an AuthError whose hint names REGPLAN_REPO_QUAY_TOKEN, and the token never shows', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['a']);
    const wrong = 'not-the-Right-Token-456';
    const error = await rejection(driverFor(emulator, wrong).listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.message, /Quay API refused GET .*HTTP 401 "The access token provided is invalid"/);
    assert.match(error.hint ?? '', /REGPLAN_REPO_QUAY_TOKEN must be an OAuth application token with the repo:read and repo:write scopes/);
    assert.not.ok(`${error.message}${error.hint ?? ''}`.includes(wrong));
    const untag = await rejection(driverFor(emulator, wrong).untag(REPO, 'a'));
    assert.instance(untag, AuthError);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['a']);
  });
});

test('a repository the Quay API cannot list is an error naming the URL tried; the Registry API path says NAME_UNKNOWN is empty', async () => {
  await withEmulator(async (emulator) => {
    const error = await rejection(driverFor(emulator, TOKEN).listTagRecords('acme/none'));
    assert.match(error.message, `${emulator.api}/repository/acme/none/tag/`);
    assert.match(error.message, 'HTTP 404');
    assert.equal(await driverFor(emulator, undefined).listTagRecords('acme/none'), []);
  });
});

test('a bare api URL (http://host) gets Quay\'s /api/v1 appended instead of every listing 404ing into "no changes"', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const context = { ...contextFor(emulator, TOKEN), registry: { host: emulator.host, insecure: false, api: emulator.registry.url } };
    assert.equal((await createQuayDriver(context).listTagRecords(REPO)).map((r) => r.tag), ['v1']);
    assert.is(emulator.registry.requestsTo('/api/v1/repository/').length, 1);
  });
});

test('without an api URL the base is derived from the host: http for loopback or insecure, else https', async () => {
  assert.is(quayApiBase({ host: 'quay.io' }), 'https://quay.io/api/v1');
  assert.is(quayApiBase({ host: 'quay.lan:8080', registry: { host: 'quay.lan:8080', insecure: true } }), 'http://quay.lan:8080/api/v1');
  assert.is(quayApiBase({ host: 'quay.lan', registry: { host: 'quay.lan', insecure: false, api: 'https://quay-api.lan' } }), 'https://quay-api.lan/api/v1');
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const context = { ...contextFor(emulator, TOKEN), registry: { host: emulator.host, insecure: false } };
    assert.equal((await createQuayDriver(context).listTagRecords(REPO)).map((r) => r.tag), ['v1']);
  });
});

test('a 404 on untag is done only when the lookup of that one tag agrees; a tag still there fails and is never reported done', async () => {
  const server = await startScriptedServer((request) => {
    if (request.method === 'DELETE') return { status: 404, body: { status: 404, error_type: 'not_found', detail: 'Not Found' } };
    const specific = request.query.get('specificTag');
    const tags = specific === 'still-there' ? [{ name: 'still-there', manifest_digest: `sha256:${'a'.repeat(64)}`, start_ts: 1 }] : [];
    return { status: 200, body: { tags, page: 1, has_additional: false } };
  });
  try {
    const context: DriverContext = { host: server.host, type: 'quay', registry: { host: server.host, insecure: false, api: `${server.url}/api/v1` }, credentials: async () => undefined, nativeSecret: async () => TOKEN };
    const driver = createQuayDriver(context);
    await driver.untag(REPO, 'gone');
    assert.equal(server.requests.map((r) => `${r.method} ${r.path} ${r.query.get('specificTag') ?? ''}`.trim()), [`DELETE /api/v1/repository/${REPO}/tag/gone`, `GET /api/v1/repository/${REPO}/tag/ gone`]);
    const error = await rejection(driver.untag(REPO, 'still-there'));
    assert.match(error.message, `"${server.host}/${REPO}:still-there"`);
    assert.match(error.message, 'still there');
    assert.not.ok(isNotFound(error), 'never read as "already gone"');
    assert.not.ok(`${error.message}${error.hint ?? ''}`.includes(TOKEN));
  } finally {
    await server.close();
  }
});

test('a tag name outside the grammar (`..` would address the repository) never reaches a URL', async () => {
  await withEmulator(async (emulator) => {
    emulator.store.seedImage(REPO, ['v1']);
    const error = await rejection(driverFor(emulator, TOKEN).untag(REPO, '..'));
    assert.match(error.message, 'invalid tag ".." in ');
    assert.is(emulator.registry.requestsTo('/api/v1/').length, 0);
    assert.equal(emulator.store.tags(REPO).map((t) => t.tag), ['v1']);
  });
});

test('paging stays on the API origin: a Link to another origin is not followed, and that origin receives nothing', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { tags: [], page: 2, has_additional: false } }));
  const server = await startScriptedServer((request) => {
    const page = Number(request.query.get('page') ?? '1');
    return {
      status: 200,
      headers: { link: `<${elsewhere.url}/api/v1/repository/${REPO}/tag/?page=${page + 1}>; rel="next"` },
      body: { tags: [{ name: `t${page}`, manifest_digest: `sha256:${String(page).repeat(64)}`, start_ts: 1_700_000_000 }], page, has_additional: page < 2, next_page: `${elsewhere.url}/api/v1/x` },
    };
  });
  try {
    const context: DriverContext = { host: server.host, type: 'quay', registry: { host: server.host, insecure: false, api: `${server.url}/api/v1` }, credentials: async () => undefined, nativeSecret: async () => TOKEN };
    assert.equal((await createQuayDriver(context).listTagRecords(REPO)).map((r) => r.tag), ['t1', 't2']);
    assert.equal(server.requests.map((r) => r.query.get('page')), ['1', '2']);
    assert.ok(server.requests.every((r) => r.headers['authorization'] === `Bearer ${TOKEN}`));
    assert.is(elsewhere.requests.length, 0);
  } finally {
    await server.close();
    await elsewhere.close();
  }
});

test('the factory is ready, untags, and its token is optional', () => {
  assert.is(quayDriver.status, 'ready');
  assert.is(quayDriver.capabilities.untag, true);
  assert.is(quayDriver.capabilities.listUntagged, false);
  assert.equal(quayDriver.capabilities.nativeCredentials.map((c) => [c.env, c.optional]), [['REGPLAN_REPO_QUAY_TOKEN', true]]);
});

async function withQuay(options: Omit<QuayEmulatorOptions, 'token'>, body: (emulator: QuayEmulator) => Promise<void>): Promise<void> {
  const emulator = await startQuayEmulator({ token: TOKEN, ...options });
  try {
    await body(emulator);
  } finally {
    await emulator.stop();
  }
}

test('repo discovery: a namespace\'s repositories across 3 pages of next_page tokens while a tag is deleted and a repo pushed', async () => {
  let quay: QuayEmulator | undefined;
  const options = {
    repositoriesPerPage: 10,
    beforeRepositoryPage: ({ page }: { page: number }) => {
      if (page === 2 && quay?.store.repo('acme/000-new') === undefined) quay?.store.seedImage('acme/000-new', ['v1']); // shifts the pages
    },
  };
  await withQuay(options, async (emulator) => {
    quay = emulator;
    const expected = Array.from({ length: 25 }, (_, i) => (i < 5 ? `acme/charts/c-${i}` : `acme/app-${String(i).padStart(2, '0')}`));
    for (const repo of expected) emulator.store.seedImage(repo, ['v1', 'pr-1']);
    emulator.store.seedImage('other/app', ['v1']);
    const driver = driverFor(emulator, TOKEN);
    const [repos] = await Promise.all([driver.listRepositories('acme/'), driver.untag('acme/app-10', 'pr-1')]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('other/app'));
    assert.is(new Set(repos).size, repos.length, 'a repository seen on two pages is listed once');
    const pages = emulator.registry.requests.filter((r) => r.path === '/api/v1/repository');
    assert.is(pages.length, 3);
    assert.equal(pages.map((r) => new URLSearchParams(r.query).has('next_page')), [false, true, true]);
    assert.equal(await driver.listRepositories('acme/charts/'), expected.slice(0, 5));
  });
});

test('repo discovery: an empty namespace lists nothing, and one Quay does not know is an error naming it and the URLs', async () => {
  await withQuay({ namespaces: ['empty'] }, async (emulator) => {
    emulator.store.seedImage('acme/app', ['v1']);
    const driver = driverFor(emulator, TOKEN);
    assert.equal(await driver.listRepositories('empty/'), []);
    const error = await rejection(driver.listRepositories('nobody/'));
    assert.match(error.message, 'Quay namespace "nobody" does not exist');
    assert.match(error.message, '/api/v1/organization/nobody');
    assert.match(error.message, '/api/v1/users/nobody');
    assert.is(error.context.status, 404);
    assert.not.match(`${error.message} ${error.hint ?? ''}`, TOKEN);
  });
});

test('repo discovery: no namespace, or no token, is refused before any request with what to set', async () => {
  await withQuay({}, async (emulator) => {
    assert.match((await rejection(driverFor(emulator, TOKEN).listRepositories(''))).message, 'per namespace (organization or user) only');
    const error = await rejection(driverFor(emulator, undefined).listRepositories('acme/'));
    assert.match(error.hint ?? '', 'REGPLAN_REPO_QUAY_TOKEN');
    assert.is(emulator.registry.requests.length, 0);
  });
});

test('repo discovery: a next_page that is a URL of another origin stays a token on the API origin; that origin receives nothing', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { repositories: [] } }));
  try {
    await withQuay({ repositoriesPerPage: 2, hostileNextPage: `${elsewhere.url}/api/v1/repository?namespace=acme` }, async (emulator) => {
      for (const repo of ['acme/a', 'acme/b', 'acme/c']) emulator.store.seedImage(repo, ['v1']);
      const error = await rejection(driverFor(emulator, TOKEN).listRepositories('acme/'));
      assert.match(error.message, 'HTTP 400');
      assert.is(elsewhere.requests.length, 0);
    });
  } finally {
    await elsewhere.close();
  }
});

test.run();
