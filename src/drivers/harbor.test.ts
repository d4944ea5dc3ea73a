/**
 * The Harbor driver against the Harbor emulator (test/emulators/harbor.ts): paged listing with push times,
 * double-encoded nested repositories, untagged listing, untag, artifact delete semantics, the 412 quirks
 * (immutable tags, index children), credentials (Harbor env, Docker login fallback, none), auth failures with
 * their hint, and that no secret reaches an error.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHarborEmulator, type HarborEmulator, type HarborEmulatorOptions } from '../../test/emulators/harbor.ts';
import type { Credential } from '../credentials/types.ts';
import { AuthError, isNotFound, RegistryError, RegplanError } from '../errors.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { canListUntagged, canUntag, hasDetailedListing, refusesCleanup, type DriverContext } from './driver.ts';
import { createHarborDriver, harborApiBase, harborDriver, harborRepositoryPath } from './harbor.ts';
import { rejection } from '../../test/support/rejection.ts';

const PASSWORD = 'Harbor12345-secret';
const ROBOT = 'robot$acme+ci';
const ROBOT_SECRET = 'r0b0t-s3cret-value';
const USERS = { admin: PASSWORD, [ROBOT]: ROBOT_SECRET, guest: 'guest-pass-1' };
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const NATIVE: Record<string, string> = { REGPLAN_REPO_HARBOR_USERNAME: 'admin', REGPLAN_REPO_HARBOR_PASSWORD: PASSWORD };

function contextFor(h: HarborEmulator, options: { env?: Record<string, string>; docker?: Credential; api?: string } = {}): DriverContext {
  return {
    host: h.host,
    type: 'harbor',
    registry: { host: h.host, type: 'harbor', insecure: false, api: options.api ?? h.apiBase },
    credentials: async () => options.docker ?? { username: 'admin', password: PASSWORD, source: 'test docker config' },
    nativeSecret: async (env) => (options.env ?? NATIVE)[env],
  };
}

async function withHarbor(options: HarborEmulatorOptions, body: (h: HarborEmulator) => Promise<void>): Promise<void> {
  const h = await startHarborEmulator({ users: USERS, ...options });
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}


/** Asserts an error is a RegplanError whose text never shows a secret. */
function assertNoSecret(error: unknown): asserts error is RegplanError {
  assert.instance(error, RegplanError);
  const text = `${(error as RegplanError).message}\n${(error as RegplanError).hint ?? ''}\n${JSON.stringify((error as RegplanError).context)}`;
  for (const secret of [PASSWORD, ROBOT_SECRET, Buffer.from(`admin:${PASSWORD}`).toString('base64')]) assert.not.ok(text.includes(secret), `secret in: ${text}`);
}

test('the factory is ready, untags and lists untagged manifests, and the driver has those abilities', () => {
  assert.is(harborDriver.status, 'ready');
  assert.is(harborDriver.capabilities.untag, true);
  assert.is(harborDriver.capabilities.listUntagged, true);
  assert.ok(harborDriver.capabilities.nativeCredentials.every((c) => c.optional === true));
  const driver = harborDriver.create({ host: 'harbor.example.com', type: 'harbor', credentials: async () => undefined, nativeSecret: async () => undefined });
  assert.ok(canUntag(driver) && hasDetailedListing(driver) && canListUntagged(driver));
  assert.not.ok(refusesCleanup(driver));
});

test('the API base comes from registries.<host>.api (a bare origin gets /api/v2.0) or from the host', () => {
  assert.is(harborApiBase({ host: 'harbor.example.com' }), 'https://harbor.example.com/api/v2.0');
  assert.is(harborApiBase({ host: 'harbor.lan:8080', registry: { host: 'harbor.lan:8080', insecure: true } }), 'http://harbor.lan:8080/api/v2.0');
  assert.is(harborApiBase({ host: 'r.example.com', registry: { host: 'r.example.com', insecure: false, api: 'https://harbor-api.example.com' } }), 'https://harbor-api.example.com/api/v2.0');
  assert.is(harborApiBase({ host: 'r.example.com', registry: { host: 'r.example.com', insecure: false, api: 'https://x.example.com/harbor/api/v2.0/' } }), 'https://x.example.com/harbor/api/v2.0');
});

test('a repository name is encoded twice when it contains a slash, and a name without a project is refused', () => {
  assert.is(harborRepositoryPath('h', 'acme/team/app'), 'projects/acme/repositories/team%252Fapp');
  assert.is(harborRepositoryPath('h', 'library/nginx'), 'projects/library/repositories/nginx');
  const error = (() => {
    try {
      harborRepositoryPath('harbor.example.com', 'nginx');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.instance(error, RegplanError);
  assert.match((error as RegplanError).message, 'Harbor names repositories <project>/<repository>');
});

test('pull times: the later of the tag\'s and the artifact\'s pull_time (a pull by digest moves only the artifact\'s); zero time passes through for inventory to judge', async () => {
  await withHarbor({}, async (h) => {
    const shared = h.store.seedImage('acme/app', ['v1', 'stable'], { pushedAt: day(1) });
    h.store.seedImage('acme/app', ['old'], { pushedAt: day(2), content: 'old' });
    h.store.recordPull('acme/app', 'v1', day(5));
    h.store.recordPull('acme/app', shared.digest, day(8));
    const records = await createHarborDriver(contextFor(h)).listTagRecords('acme/app');
    // stable was never pulled by tag (its pull_time is zero) but its artifact was, by digest, on day 8
    assert.equal(records.map((r) => [r.tag, r.pulled]), [['old', '0001-01-01T00:00:00.000Z'], ['stable', day(8).toISOString()], ['v1', day(8).toISOString()]]);
  });
});

test('listing follows Link pages of 100 and gives every tag its digest, media type and own push time', async () => {
  await withHarbor({}, async (h) => {
    for (let i = 0; i < 105; i++) h.store.seedImage('acme/team/app', [`build-${String(i).padStart(3, '0')}`], { pushedAt: day(i) });
    const shared = h.store.seedImage('acme/team/app', ['v1.0.0'], { pushedAt: day(200), content: 'release' });
    const bytes = h.store.manifest('acme/team/app', shared.digest)?.bytes as Uint8Array;
    h.store.putManifest('acme/team/app', 'stable', bytes, shared.mediaType, day(210));
    const driver = createHarborDriver(contextFor(h));
    const records = await driver.listTagRecords('acme/team/app');
    assert.is(records.length, 107);
    assert.equal(records.find((r) => r.tag === 'build-007'), { tag: 'build-007', digest: h.store.resolve('acme/team/app', 'build-007')?.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', pushedAt: day(7).toISOString(), pulled: '0001-01-01T00:00:00.000Z' });
    assert.equal(records.filter((r) => r.digest === shared.digest).map((r) => [r.tag, r.pushedAt]), [['stable', day(210).toISOString()], ['v1.0.0', day(200).toISOString()]]);
    const pages = h.requestsTo('/api/v2.0/projects/acme/repositories/team%252Fapp/artifacts', 'GET');
    assert.equal(pages.map((r) => new URLSearchParams(r.query).get('page')), ['1', '2']);
    assert.ok(pages.every((r) => new URLSearchParams(r.query).get('page_size') === '100' && r.status === 200));
  });
});

test('a repository the config names that Harbor cannot list is an error naming the URL tried, never an empty repository', async () => {
  await withHarbor({}, async (h) => {
    h.store.seedImage('acme/other', ['x']);
    const driver = createHarborDriver(contextFor(h));
    const tags = await rejection(driver.listTagRecords('acme/missing'));
    assert.instance(tags, RegistryError);
    assert.match((tags as RegistryError).message, `${h.apiBase}/projects/acme/repositories/missing/artifacts`);
    assert.match((tags as RegistryError).message, 'HTTP 404');
    await rejection(driver.listUntagged('acme/missing'));
  });
});

test('push times are parsed, not judged: zeroed and 1970 times reach inventory as Harbor sent them', async () => {
  await withHarbor({}, async (h) => {
    h.store.seedImage('acme/app', ['zero'], { pushedAt: new Date('0001-01-01T00:00:00Z'), content: 'zero' });
    h.store.seedImage('acme/app', ['epoch'], { pushedAt: new Date('1970-06-01T00:00:00Z'), content: 'epoch' });
    const records = await createHarborDriver(contextFor(h)).listTagRecords('acme/app');
    assert.equal(records.map((r) => [r.tag, r.pushedAt]), [['epoch', '1970-06-01T00:00:00.000Z'], ['zero', '0001-01-01T00:00:00.000Z']]);
  });
});

test('a 404 on DELETE counts as done only when a fresh lookup agrees; a tag or artifact still there fails', async () => {
  const notFound = { status: 404, code: 'NOT_FOUND', message: 'not found' };
  await withHarbor({ fault: (req) => (req.method === 'DELETE' ? notFound : undefined) }, async (h) => {
    const image = h.store.seedImage('acme/app', ['pr-1', 'v1']);
    const driver = createHarborDriver(contextFor(h));
    const untag = await rejection(driver.untag('acme/app', 'pr-1'));
    assert.instance(untag, RegplanError);
    assert.match((untag as RegplanError).message, `"${h.host}/acme/app:pr-1"`);
    assert.match((untag as RegplanError).message, 'still there');
    assert.not.ok(isNotFound(untag), 'never read as "already gone"');
    const deletion = await rejection(driver.deleteManifest('acme/app', image.digest));
    assert.match((deletion as RegplanError).message, 'still there');
    assert.not.ok(isNotFound(deletion));
    assert.equal(h.store.tagsOf('acme/app', image.digest), ['pr-1', 'v1']);
  });
});

test('untagged artifacts are listed with push times; untagged children of an index are not', async () => {
  await withHarbor({}, async (h) => {
    const index = h.store.seedImage('acme/app', ['multi'], { platforms: ['linux/amd64', 'linux/arm64'], pushedAt: day(3) });
    const orphan = h.store.seedImage('acme/app', ['gone-soon'], { pushedAt: day(5) });
    h.store.untag('acme/app', 'gone-soon');
    const untagged = await createHarborDriver(contextFor(h)).listUntagged('acme/app');
    assert.equal(untagged, [{ digest: orphan.digest, pushedAt: day(5).toISOString() }]);
    assert.ok(Object.values(index.platformDigests).every((d) => h.store.manifest('acme/app', d) !== undefined));
    assert.ok(h.requestsTo('/api/v2.0/', 'GET').some((r) => new URLSearchParams(r.query).get('q') === 'tags=nil'));
  });
});

test('untag removes one tag through the Harbor API and the manifest stays for its other tag; a missing tag is done', async () => {
  await withHarbor({}, async (h) => {
    const image = h.store.seedImage('acme/team/app', ['keep-me', 'drop-me']);
    const driver = createHarborDriver(contextFor(h));
    await driver.untag('acme/team/app', 'drop-me');
    assert.equal(h.store.tagsOf('acme/team/app', image.digest), ['keep-me']);
    assert.ok(h.store.manifest('acme/team/app', image.digest));
    await driver.untag('acme/team/app', 'drop-me');
    await driver.untag('acme/team/app', 'never-was');
    const deletes = h.requestsTo('/api/v2.0/', 'DELETE');
    assert.equal(deletes.map((r) => [r.path, r.status]), [[`/api/v2.0/projects/acme/repositories/team%252Fapp/artifacts/${image.digest}/tags/drop-me`, 200]]);
  });
});

test('a tag name outside the grammar (`..` would address the repository) never reaches a URL', async () => {
  await withHarbor({}, async (h) => {
    h.store.seedImage('acme/app', ['v1']);
    const error = await rejection(createHarborDriver(contextFor(h)).untag('acme/app', '..'));
    assert.match((error as RegplanError).message, 'invalid tag ".." in ');
    assert.is(h.requestsTo('/api/v2.0/').length, 0);
  });
});

test('the Registry API cannot untag on Harbor: DELETE by tag answers 400 UNSUPPORTED', async () => {
  const h = await startHarborEmulator();
  try {
    h.store.seedImage('acme/app', ['a', 'b']);
    const response = await fetch(`${h.url}/v2/acme/app/manifests/a`, { method: 'DELETE' });
    assert.is(response.status, 400);
    assert.is(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code, 'UNSUPPORTED');
  } finally {
    await h.stop();
  }
});

test('deleting an artifact removes every tag on it and its untagged children; deleting it again is done', async () => {
  await withHarbor({}, async (h) => {
    const index = h.store.seedImage('acme/app', ['multi', 'multi-alias'], { platforms: ['linux/amd64', 'linux/arm64'] });
    const other = h.store.seedImage('acme/app', ['other']);
    const driver = createHarborDriver(contextFor(h));
    await driver.deleteManifest('acme/app', index.digest);
    assert.equal(h.store.tags('acme/app').map((t) => t.tag), ['other']);
    assert.equal(h.store.manifests('acme/app').map((m) => m.digest), [other.digest]);
    await driver.deleteManifest('acme/app', index.digest);
  });
});

test('deleting a child of an index answers 412 and says the index holds it', async () => {
  await withHarbor({}, async (h) => {
    const index = h.store.seedImage('acme/app', ['multi'], { platforms: ['linux/amd64', 'linux/arm64'] });
    const child = Object.values(index.platformDigests)[0] as string;
    const error = await rejection(createHarborDriver(contextFor(h)).deleteManifest('acme/app', child));
    assert.instance(error, RegistryError);
    assert.is((error as RegistryError).status, 412);
    assert.is((error as RegistryError).code, 'VIOLATE_FOREIGN_KEY_CONSTRAINT');
    assert.match((error as RegistryError).hint ?? '', 'an image index references this artifact');
    assert.ok(h.store.manifest('acme/app', child));
  });
});

test('an immutable tag answers 412 PRECONDITION: the untag and the delete fail with a hint and leave it in place', async () => {
  await withHarbor({ immutableTags: /^release-/ }, async (h) => {
    const image = h.store.seedImage('acme/app', ['release-1', 'ci-1']);
    const driver = createHarborDriver(contextFor(h));
    const untag = await rejection(driver.untag('acme/app', 'release-1'));
    assert.instance(untag, RegistryError);
    assert.is((untag as RegistryError).code, 'PRECONDITION');
    assert.match((untag as RegistryError).message, `Harbor refused to remove tag "${h.host}/acme/app:release-1": HTTP 412 PRECONDITION`);
    assert.match((untag as RegistryError).hint ?? '', 'an immutable tag rule of project "acme" protects tag "release-1"');
    const deletion = await rejection(driver.deleteManifest('acme/app', image.digest));
    assert.is((deletion as RegistryError).status, 412);
    assert.match((deletion as RegistryError).hint ?? '', 'immutable tag rule');
    assert.equal(h.store.tagsOf('acme/app', image.digest), ['ci-1', 'release-1']);
    await driver.untag('acme/app', 'ci-1');
    assert.equal(h.store.tagsOf('acme/app', image.digest), ['release-1']);
  });
});

test('with no Harbor credentials the Docker login for the host is used (Harbor takes the same accounts)', async () => {
  await withHarbor({}, async (h) => {
    h.store.seedImage('acme/app', ['v1']);
    const driver = createHarborDriver(contextFor(h, { env: {}, docker: { username: ROBOT, password: ROBOT_SECRET, source: 'auths in config.json' } }));
    assert.equal((await driver.listTagRecords('acme/app')).map((r) => r.tag), ['v1']);
    await driver.untag('acme/app', 'v1');
    assert.equal(h.store.tags('acme/app'), []);
  });
});

test('no credentials at all is a clear error at listing (plan) time naming what to set', async () => {
  await withHarbor({ publicProjects: ['acme'] }, async (h) => {
    h.store.seedImage('acme/app', ['v1']);
    const none = { ...contextFor(h, { env: {} }), credentials: async () => undefined };
    const error = await rejection(createHarborDriver(none).listTagRecords('acme/app'));
    assert.instance(error, RegplanError);
    assert.match((error as RegplanError).message, `cannot clean up "${h.host}" through the Harbor API: no Harbor credentials and no Docker login for the host`);
    assert.match((error as RegplanError).hint ?? '', 'REGPLAN_REPO_HARBOR_USERNAME and REGPLAN_REPO_HARBOR_PASSWORD');
    const token = await rejection(createHarborDriver(contextFor(h, { env: {}, docker: { identityToken: 'id-token-xyz', source: 'credHelpers' } })).listTagRecords('acme/app'));
    assert.match((token as RegplanError).message, 'is a token, which the Harbor API does not accept');
    assert.not.ok((token as RegplanError).message.includes('id-token-xyz'));
    const half = await rejection(createHarborDriver(contextFor(h, { env: { REGPLAN_REPO_HARBOR_USERNAME: 'admin' } })).listTagRecords('acme/app'));
    assert.match((half as RegplanError).message, 'REGPLAN_REPO_HARBOR_USERNAME is set but REGPLAN_REPO_HARBOR_PASSWORD is not');
  });
});

test('a wrong password is an AuthError with the Harbor hint and no secret in it; a guest may list but not delete', async () => {
  await withHarbor({ readOnlyUsers: ['guest'] }, async (h) => {
    const image = h.store.seedImage('acme/app', ['v1']);
    const wrong = await rejection(createHarborDriver(contextFor(h, { env: { REGPLAN_REPO_HARBOR_USERNAME: 'admin', REGPLAN_REPO_HARBOR_PASSWORD: `${PASSWORD}-typo` } })).listTagRecords('acme/app'));
    assert.instance(wrong, AuthError);
    assert.is((wrong as AuthError).status, 401);
    assert.match((wrong as AuthError).hint ?? '', 'robot account');
    assertNoSecret(wrong);
    assert.not.ok(`${(wrong as AuthError).message}${(wrong as AuthError).hint ?? ''}`.includes(`${PASSWORD}-typo`));
    const guest = createHarborDriver(contextFor(h, { env: { REGPLAN_REPO_HARBOR_USERNAME: 'guest', REGPLAN_REPO_HARBOR_PASSWORD: 'guest-pass-1' } }));
    assert.is((await guest.listTagRecords('acme/app')).length, 1);
    const forbidden = await rejection(guest.deleteManifest('acme/app', image.digest));
    assert.instance(forbidden, AuthError);
    assert.is((forbidden as AuthError).status, 403);
    assert.not.ok(((forbidden as AuthError).message + ((forbidden as AuthError).hint ?? '')).includes('guest-pass-1'));
    assert.ok(h.store.manifest('acme/app', image.digest));
  });
});

test('a 429 with Retry-After is retried and the listing completes', async () => {
  let throttled = 0;
  await withHarbor({ fault: () => (throttled++ === 0 ? { status: 429, code: 'TOO_MANY_REQUEST', message: 'slow down', headers: { 'retry-after': '0' } } : undefined) }, async (h) => {
    h.store.seedImage('acme/app', ['v1']);
    assert.equal((await createHarborDriver(contextFor(h)).listTagRecords('acme/app')).map((r) => r.tag), ['v1']);
    assert.equal(h.requestsTo('/api/v2.0/').map((r) => r.status), [429, 200]);
  });
});

/** A server that is not Harbor: 404 with a plain body everywhere, or a Link to another origin. */
async function withForeignServer(answer: 'plain-404' | 'foreign-link', body: (base: string) => Promise<void>): Promise<void> {
  const server: Server = createServer((_req, res) => {
    if (answer === 'plain-404') res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
    else res.writeHead(200, { 'content-type': 'application/json', link: '<http://127.0.0.2:1/api/v2.0/next?page=2>; rel="next"' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2.0`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('an API base that is not Harbor is an error pointing at registries.<host>.api, never "already deleted"', async () => {
  await withHarbor({}, async (h) => {
    await withForeignServer('plain-404', async (base) => {
      const driver = createHarborDriver(contextFor(h, { api: base }));
      const listing = await rejection(driver.listTagRecords('acme/app'));
      assert.match((listing as RegistryError).hint ?? '', `check registries."${h.host}".api`);
      const deletion = await rejection(driver.deleteManifest('acme/app', `sha256:${'a'.repeat(64)}`));
      assert.match((deletion as RegistryError).message, 'without a Harbor error body');
    });
  });
});

test('a next page on another origin is refused, and that origin receives nothing (credentials never leave the API host)', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: [] }));
  const api = await startScriptedServer(() => ({
    status: 200,
    headers: { link: `<${elsewhere.url}/api/v2.0/projects/acme/repositories/app/artifacts?page=2>; rel="next"` },
    body: [{ digest: `sha256:${'a'.repeat(64)}`, tags: [{ name: 'v1' }] }],
  }));
  try {
    await withHarbor({}, async (h) => {
      const error = await rejection(createHarborDriver(contextFor(h, { api: `${api.url}/api/v2.0` })).listTagRecords('acme/app'));
      assert.match((error as RegistryError).message, 'next page of');
      assert.match((error as RegistryError).message, `another origin (${elsewhere.url})`);
      assertNoSecret(error);
    });
    assert.ok(api.requests[0]?.headers['authorization']?.startsWith('Basic '), 'the API itself got the credentials');
    assert.is(elsewhere.requests.length, 0);
  } finally {
    await api.close();
    await elsewhere.close();
  }
});

test('repo discovery: a project\'s repositories across 3 pages of 100 while an artifact is deleted and a repo pushed, filtered by prefix', async () => {
  let harbor: HarborEmulator | undefined;
  const options: HarborEmulatorOptions = {
    beforeListPage: ({ page }) => {
      if (page === 2 && harbor?.store.repo('acme/000-new') === undefined) harbor?.store.seedImage('acme/000-new', ['v1']); // shifts the pages
    },
  };
  await withHarbor(options, async (h) => {
    harbor = h;
    const expected: string[] = [];
    for (let i = 0; i < 230; i++) {
      const repo = i < 20 ? `acme/tools/t-${String(i).padStart(3, '0')}` : `acme/app-${String(i).padStart(3, '0')}`;
      expected.push(repo);
      h.store.seedImage(repo, ['v1']);
    }
    const doomed = h.store.seedImage('acme/app-100', ['pr-1'], { content: 'pr' });
    h.store.seedImage('other/app', ['v1']);
    const driver = createHarborDriver(contextFor(h));
    const [repos] = await Promise.all([driver.listRepositories('acme/'), driver.deleteManifest('acme/app-100', doomed.digest)]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('other/app'));
    assert.is(new Set(repos).size, repos.length, 'a repository seen on two pages is listed once');
    const pages = h.requests.filter((r) => r.path === '/api/v2.0/projects/acme/repositories');
    assert.equal(pages.map((r) => new URLSearchParams(r.query).get('page')), ['1', '2', '3']);
    assert.equal(await driver.listRepositories('acme/tools/'), expected.slice(0, 20));
  });
});

test('repo discovery: a prefix without a project lists every project the account sees, then their repositories', async () => {
  await withHarbor({ projects: ['empty'] }, async (h) => {
    for (const repo of ['acme/api', 'acme/tools/cli', 'library/nginx']) h.store.seedImage(repo, ['v1']);
    assert.equal(await createHarborDriver(contextFor(h)).listRepositories(''), ['acme/api', 'acme/tools/cli', 'library/nginx']);
    const [first, ...perProject] = h.requestsTo('/api/v2.0/projects').map((r) => r.path);
    assert.is(first, '/api/v2.0/projects');
    assert.equal(perProject.sort(), ['/api/v2.0/projects/acme/repositories', '/api/v2.0/projects/empty/repositories', '/api/v2.0/projects/library/repositories']);
  });
});

test('repo discovery: a project Harbor does not know is an error naming the project and the URL', async () => {
  await withHarbor({}, async (h) => {
    h.store.seedImage('acme/api', ['v1']);
    const error = await rejection(createHarborDriver(contextFor(h)).listRepositories('nobody/'), RegistryError);
    assert.match(error.message, 'Harbor project "nobody" does not exist');
    assert.match(error.message, '/api/v2.0/projects/nobody/repositories');
    assert.is(error.status, 404);
    assertNoSecret(error);
  });
});

test('repo discovery: a repositories page on another origin is refused, and that origin receives nothing', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    await withHarbor({ nextOrigin: elsewhere.url }, async (h) => {
      for (let i = 0; i < 120; i++) h.store.seedImage(`acme/app-${i}`, ['v1']);
      const error = await rejection(createHarborDriver(contextFor(h)).listRepositories('acme/'), RegplanError);
      assert.match(error.message, `another origin (${elsewhere.url})`);
      assert.is(elsewhere.requests.length, 0);
    });
  } finally {
    await elsewhere.close();
  }
});

test.run();
