import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDockerHubEmulator, type DockerHubEmulator, type DockerHubEmulatorOptions, type HubAccount } from '../../test/emulators/dockerhub.ts';
import pLimit from 'p-limit';
import { startScriptedServer, type ScriptedServer } from '../../test/support/scripted-server.ts';
import { AuthError, isNotFound, RegplanError } from '../errors.ts';
import { createDockerHubDriver, dockerHubDriver, HUB_API_BASE, hubApiBase } from './dockerhub.ts';
import { canListUntagged, canUntag, hasDetailedListing, refusesCleanup, type DriverContext } from './driver.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const PASSWORD = 'hunter2-very-secret-password';
const PAT = 'dckr_pat_SECRETSECRETSECRET';
const REPO = 'acme/app';
const ACCOUNTS: Record<string, HubAccount> = {
  acme: { password: PASSWORD, pats: [PAT] },
  mfa: { password: PASSWORD, twoFactor: true },
  stranger: { password: PASSWORD },
};
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** Starts an emulator, runs `body`, and stops it whatever happens. */
async function withHub(options: DockerHubEmulatorOptions, body: (hub: DockerHubEmulator) => Promise<void>): Promise<void> {
  const hub = await startDockerHubEmulator({ accounts: ACCOUNTS, ...options });
  try {
    await body(hub);
  } finally {
    await hub.stop();
  }
}

/** A driver context for the emulator with the given native secrets. */
function contextFor(hub: DockerHubEmulator, secrets: Record<string, string>, debug?: string[]): DriverContext {
  return {
    host: hub.host,
    type: 'dockerhub',
    registry: { host: hub.host, insecure: false, api: hub.api },
    credentials: async () => undefined,
    nativeSecret: async (env) => secrets[env],
    ...(debug === undefined ? {} : { debug: (line: string) => void debug.push(line) }),
  };
}

const login = { REGPLAN_REPO_DOCKER_HUB_USERNAME: 'acme', REGPLAN_REPO_DOCKER_HUB_PASSWORD: PASSWORD };


const noSecretIn = (error: RegplanError, ...secrets: string[]) => {
  for (const secret of secrets) {
    assert.not.ok(error.message.includes(secret), `secret in message: ${error.message}`);
    assert.not.ok((error.hint ?? '').includes(secret), 'secret in hint');
  }
};

test('the factory is ready, untags, lists natively and says it cannot list untagged manifests', async () => {
  await withHub({}, async (hub) => {
    const driver = dockerHubDriver.create(contextFor(hub, login));
    assert.is(dockerHubDriver.status, 'ready');
    assert.ok(canUntag(driver) && driver.capabilities.untag);
    assert.ok(hasDetailedListing(driver));
    assert.is(canListUntagged(driver), false);
    assert.is(driver.capabilities.listUntagged, false);
    assert.is(refusesCleanup(driver), false);
  });
});

test('the Hub API base comes from registries.<host>.api, else hub.docker.com for Hub hosts, else the host', () => {
  assert.is(hubApiBase({ host: 'docker.io' }), HUB_API_BASE);
  assert.is(hubApiBase({ host: 'docker.io', registry: { host: 'docker.io', insecure: false, api: 'http://127.0.0.1:9/hub' } }), 'http://127.0.0.1:9/hub');
  assert.is(hubApiBase({ host: 'hub.example.com' }), 'https://hub.example.com');
  assert.is(hubApiBase({ host: '127.0.0.1:5000' }), 'http://127.0.0.1:5000');
  assert.is(hubApiBase({ host: 'hub.lan:8080', registry: { host: 'hub.lan:8080', insecure: true } }), 'http://hub.lan:8080');
});

test('lists 230 tags over three pages with each tag digest, media type and microsecond push time', async () => {
  await withHub({}, async (hub) => {
    const single = hub.store.seedImage(REPO, Array.from({ length: 200 }, (_, i) => `build-${String(i).padStart(3, '0')}`), { pushedAt: day(1) });
    const multi = hub.store.seedImage(REPO, Array.from({ length: 30 }, (_, i) => `multi-${i}`), { pushedAt: day(2), platforms: ['linux/amd64', 'linux/arm64'] });
    const driver = createDockerHubDriver(contextFor(hub, login));
    const records = await driver.listTagRecords(REPO);
    assert.is(records.length, 230);
    hub.store.recordPull(REPO, 'multi-3', day(4));
    assert.equal(records.find((r) => r.tag === 'build-007'), { tag: 'build-007', digest: single.digest, mediaType: single.mediaType, pushedAt: day(1).toISOString(), pulled: 'never' });
    assert.equal(records.find((r) => r.tag === 'multi-3'), { tag: 'multi-3', digest: multi.digest, mediaType: multi.mediaType, pushedAt: day(2).toISOString(), pulled: 'never' });
    const pages = hub.hubRequests().filter((r) => r.startsWith('GET /v2/namespaces/acme/repositories/app/tags'));
    assert.is(pages.length, 3, pages.join('\n'));
    assert.match(pages[0] ?? '', 'page_size=100');
    assert.match(pages[2] ?? '', 'page=3');
    const again = await driver.listTagRecords(REPO);
    assert.equal(again.find((r) => r.tag === 'multi-3')?.pulled, day(4).toISOString(), 'tag_last_pulled once pulled');
  });
});

test('without tag_last_pushed the push time is last_updated; without a tag digest the registry resolves it (the index, not a platform)', async () => {
  await withHub({ nullLastPushed: true, omitTagDigest: true }, async (hub) => {
    const multi = hub.store.seedImage(REPO, ['v1'], { pushedAt: day(3), platforms: ['linux/amd64', 'linux/arm64'] });
    const records = await createDockerHubDriver(contextFor(hub, login)).listTagRecords(REPO);
    assert.equal(records.map((r) => [r.tag, r.digest, r.pushedAt]), [['v1', multi.digest, undefined]]);
  });
  await withHub({ nullLastPushed: true }, async (hub) => {
    hub.store.seedImage(REPO, ['v1'], { pushedAt: day(3) });
    const records = await createDockerHubDriver(contextFor(hub, login)).listTagRecords(REPO);
    assert.is(records[0]?.pushedAt, day(3).toISOString());
  });
});

test('a repository the Hub does not know is an error naming the URL tried, never an empty repository', async () => {
  await withHub({}, async (hub) => {
    const error = await rejection(createDockerHubDriver(contextFor(hub, login)).listTagRecords('acme/missing'));
    assert.match(error.message, `${hub.api}/v2/namespaces/acme/repositories/missing/tags`);
  });
});

test('untag removes one tag through the Hub API and keeps the manifest for its other tag; a second untag is done', async () => {
  await withHub({}, async (hub) => {
    const image = hub.store.seedImage(REPO, ['v1', 'pr-1']);
    const driver = createDockerHubDriver(contextFor(hub, login));
    await driver.untag(REPO, 'pr-1');
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(hub.store.manifest(REPO, image.digest));
    await driver.untag(REPO, 'pr-1');
    assert.ok(hub.hubRequests().includes('DELETE /v2/repositories/acme/app/tags/pr-1/ 204'), hub.hubRequests().join('\n'));
    assert.ok(hub.hubRequests().includes('DELETE /v2/repositories/acme/app/tags/pr-1/ 404'));
    assert.ok(hub.hubRequests().some((r) => r.startsWith('POST /v2/auth/token 200')));
  });
});

test('the Registry API alone cannot delete a tagged manifest (403) nor a tag (405); deleteManifest untags first, then deletes it', async () => {
  await withHub({}, async (hub) => {
    const doomed = hub.store.seedImage(REPO, ['pr-1', 'pr-1-again']);
    const kept = hub.store.seedImage(REPO, ['v1']);
    assert.is((await fetch(`${hub.registry.url}/v2/${REPO}/manifests/${doomed.digest}`, { method: 'DELETE' })).status, 403);
    assert.is((await fetch(`${hub.registry.url}/v2/${REPO}/manifests/pr-1`, { method: 'DELETE' })).status, 405);
    const driver = createDockerHubDriver(contextFor(hub, login));
    await driver.deleteManifest(REPO, doomed.digest);
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.is(hub.store.manifest(REPO, doomed.digest), undefined);
    assert.ok(hub.store.manifest(REPO, kept.digest));
    const again = await driver.deleteManifest(REPO, doomed.digest).then(() => undefined, (e: unknown) => e);
    assert.ok(isNotFound(again), 'gone already: the 404 reaches apply, which confirms with a fresh lookup');
  });
});

test('a token given directly is sent as Bearer and no login happens', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['pr-1', 'v1']);
    const token = hub.issueToken('acme');
    await createDockerHubDriver(contextFor(hub, { REGPLAN_REPO_DOCKER_HUB_TOKEN: token })).untag(REPO, 'pr-1');
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.not.ok(hub.hubRequests().some((r) => r.startsWith('POST')));
  });
});

test('where only the legacy login exists, username and password log in at /v2/users/login', async () => {
  await withHub({ legacyLoginOnly: true }, async (hub) => {
    hub.store.seedImage(REPO, ['pr-1', 'v1']);
    await createDockerHubDriver(contextFor(hub, login)).untag(REPO, 'pr-1');
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.ok(hub.hubRequests().some((r) => r.startsWith('POST /v2/users/login 200')), hub.hubRequests().join('\n'));
  });
});

test('a wrong password fails with an AuthError that says what to set and never shows the password', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['v1']);
    const wrong = `${PASSWORD}-wrong`;
    const error = await rejection(createDockerHubDriver(contextFor(hub, { ...login, REGPLAN_REPO_DOCKER_HUB_PASSWORD: wrong })).listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.message, 'Docker Hub login as "acme" was refused: HTTP 401');
    assert.match(error.hint ?? '', 'REGPLAN_REPO_DOCKER_HUB_PASSWORD');
    assert.match(error.hint ?? '', 'personal access tokens cannot delete');
    noSecretIn(error, wrong, PASSWORD);
  });
});

test('a two-factor account is told to pass a Hub token instead', async () => {
  await withHub({}, async (hub) => {
    const error = await rejection(createDockerHubDriver(contextFor(hub, { ...login, REGPLAN_REPO_DOCKER_HUB_USERNAME: 'mfa' })).listTagRecords(REPO));
    assert.instance(error, AuthError);
    assert.match(error.hint ?? '', 'two-factor');
    assert.match(error.hint ?? '', 'REGPLAN_REPO_DOCKER_HUB_TOKEN');
    noSecretIn(error, PASSWORD);
  });
});

test('a personal access token lists but cannot delete: the error says so, and the token never shows', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['pr-1', 'v1']);
    const driver = createDockerHubDriver(contextFor(hub, { ...login, REGPLAN_REPO_DOCKER_HUB_PASSWORD: PAT }));
    assert.is((await driver.listTagRecords(REPO)).length, 2);
    const error = await rejection(driver.untag(REPO, 'pr-1'));
    assert.instance(error, AuthError);
    assert.match(error.message, `Docker Hub API refused DELETE "${hub.host}/acme/app:pr-1": HTTP 403`);
    assert.match(error.message, 'personal access token');
    assert.match(error.hint ?? '', 'personal access tokens cannot delete tags');
    noSecretIn(error, PAT);
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['pr-1', 'v1']);
  });
});

test('an account without rights in the namespace is refused (403) with the credentials hint', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['pr-1']);
    const error = await rejection(createDockerHubDriver(contextFor(hub, { ...login, REGPLAN_REPO_DOCKER_HUB_USERNAME: 'stranger' })).untag(REPO, 'pr-1'));
    assert.instance(error, AuthError);
    assert.match(error.message, 'You do not have permission');
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['pr-1']);
  });
});

test('missing Hub credentials stop listing (plan time) with the flags and env vars to set', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['v1']);
    const none = await rejection(createDockerHubDriver(contextFor(hub, {})).listTagRecords(REPO));
    assert.match(none.message, 'the Hub API needs credentials and REGPLAN_REPO_DOCKER_HUB_TOKEN, or REGPLAN_REPO_DOCKER_HUB_USERNAME with REGPLAN_REPO_DOCKER_HUB_PASSWORD is not set');
    assert.match(none.hint ?? '', '--repo-docker-hub-token');
    const half = await rejection(createDockerHubDriver(contextFor(hub, { REGPLAN_REPO_DOCKER_HUB_USERNAME: 'acme' })).listTagRecords(REPO));
    assert.match(half.message, 'REGPLAN_REPO_DOCKER_HUB_PASSWORD is not set');
    assert.is(hub.hubRequests().length, 0);
  });
});

test('official library/ images and names that are not <namespace>/<name> are refused before any request', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage('library/nginx', ['1.0']);
    const driver = createDockerHubDriver(contextFor(hub, login));
    const library = await rejection(driver.listTagRecords('library/nginx'));
    assert.match(library.message, `cannot clean up "${hub.host}/library/nginx": library/ holds Docker's official images`);
    assert.match(library.hint ?? '', 'docker.io/<you>/nginx'.replace('nginx', '<name>'));
    await rejection(driver.untag('library/nginx', '1.0'));
    await rejection(driver.deleteManifest('library/nginx', hub.store.tags('library/nginx')[0]?.digest ?? ''));
    const deep = await rejection(driver.listTagRecords('acme/team/app'));
    assert.match(deep.message, 'Docker Hub repositories are <namespace>/<name>');
    assert.is(hub.hubRequests().length, 0);
    assert.equal(hub.store.tags('library/nginx').map((t) => t.tag), ['1.0']);
  });
});

test('429 with Retry-After is waited out and retried; answers carry X-RateLimit headers', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['v1']);
    hub.throttleNext(2, '0');
    const records = await createDockerHubDriver(contextFor(hub, login)).listTagRecords(REPO);
    assert.equal(records.map((r) => r.tag), ['v1']);
    assert.is(hub.hubRequests().filter((r) => r.endsWith(' 429')).length, 2);
    const answer = await fetch(`${hub.api}/v2/namespaces/acme/repositories/app/tags`);
    assert.ok(answer.headers.get('x-ratelimit-limit'));
    assert.ok(answer.headers.get('x-ratelimit-remaining'));
  });
});

test('a rate limit that outlasts the retries fails with a hint to slow down, quoting the Hub', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['v1']);
    hub.throttleNext(20, '0');
    const error = await rejection(createDockerHubDriver(contextFor(hub, { REGPLAN_REPO_DOCKER_HUB_TOKEN: hub.issueToken('acme') })).listTagRecords(REPO));
    assert.match(error.message, 'HTTP 429 "Rate limit exceeded"');
    assert.match(error.hint ?? '', 'rate limiting (Retry-After: 0)');
    assert.is(hub.hubRequests().length, 5); // the transport's five attempts, then it gives up
  });
});

/** A Hub API on a scripted server, reached with a token (no login). */
function scriptedContext(server: ScriptedServer, api = server.url): DriverContext {
  return { host: server.host, type: 'dockerhub', registry: { host: server.host, insecure: false, api }, credentials: async () => undefined, nativeSecret: async (env) => (env === 'REGPLAN_REPO_DOCKER_HUB_TOKEN' ? 'tok-SECRET' : undefined) };
}

test('a next page on another origin is refused, and that origin receives nothing (no credential leaves the API)', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { count: 0, next: null, results: [] } }));
  const server = await startScriptedServer(() => ({ status: 200, body: { count: 2, next: `${elsewhere.url}/v2/namespaces/acme/repositories/app/tags?page=2`, results: [{ name: 'v1', digest: `sha256:${'a'.repeat(64)}` }] } }));
  try {
    const error = await rejection(createDockerHubDriver(scriptedContext(server)).listTagRecords(REPO));
    assert.match(error.message, 'pointed the next page of');
    assert.match(error.message, 'at another origin');
    noSecretIn(error, 'tok-SECRET');
    assert.is(elsewhere.requests.length, 0);
    assert.is(server.requests[0]?.headers['authorization'], 'Bearer tok-SECRET');
  } finally {
    await server.close();
    await elsewhere.close();
  }
});

test('a page past the end (404, the list shrank meanwhile) ends the listing; a first page that is 404 is an error naming the URL', async () => {
  const server = await startScriptedServer((request) => {
    if (request.path.includes('/missing/')) return { status: 404, body: { detail: 'Object not found' } };
    if (request.query.get('page') === '2') return { status: 404, body: { detail: 'Invalid page.', message: 'Invalid page.' } };
    return { status: 200, body: { count: 101, next: `${server.url}/v2/namespaces/acme/repositories/app/tags?page=2&page_size=100`, results: [{ name: 'v1', digest: `sha256:${'a'.repeat(64)}` }] } };
  });
  try {
    const driver = createDockerHubDriver(scriptedContext(server));
    assert.equal((await driver.listTagRecords(REPO)).map((r) => r.tag), ['v1']);
    const missing = await rejection(driver.listTagRecords('acme/missing'));
    assert.match(missing.message, `${server.url}/v2/namespaces/acme/repositories/missing/tags`);
    assert.match(missing.message, 'HTTP 404');
  } finally {
    await server.close();
  }
});

test('a 404 on untag is done only when the lookup of that one tag agrees; a tag still there fails and is never reported done', async () => {
  const server = await startScriptedServer((request) => {
    if (request.method === 'DELETE') return { status: 404, body: { detail: 'Object not found', message: 'tag not found' } };
    if (request.path.endsWith('/tags/still-there')) return { status: 200, body: { name: 'still-there', digest: `sha256:${'a'.repeat(64)}` } };
    return { status: 404, body: { detail: 'Object not found' } };
  });
  try {
    const driver = createDockerHubDriver(scriptedContext(server));
    await driver.untag(REPO, 'gone');
    assert.equal(server.requests.map((r) => `${r.method} ${r.path}`), ['DELETE /v2/repositories/acme/app/tags/gone/', 'GET /v2/namespaces/acme/repositories/app/tags/gone']);
    const error = await rejection(driver.untag(REPO, 'still-there'));
    assert.match(error.message, `"${server.host}/acme/app:still-there"`);
    assert.match(error.message, 'still there');
    assert.not.ok(isNotFound(error), 'never read as "already gone"');
    noSecretIn(error, 'tok-SECRET');
  } finally {
    await server.close();
  }
});

test('a tag name outside the grammar (`..` would address the repository) never reaches a URL', async () => {
  const server = await startScriptedServer(() => ({ status: 204 }));
  try {
    const error = await rejection(createDockerHubDriver(scriptedContext(server)).untag(REPO, '..'));
    assert.match(error.message, 'invalid tag ".." in ');
    assert.is(server.requests.length, 0);
  } finally {
    await server.close();
  }
});

test('deleteManifest untags the tags of the last listing without listing again, while 140 deletes run 4 at a time', async () => {
  await withHub({ latencyMs: 2, rateLimit: 10_000 }, async (hub) => {
    const kept = hub.store.seedImage(REPO, ['v1', 'v1-alias'], { pushedAt: day(0), content: 'release' });
    const doomed = Array.from({ length: 143 }, (_, i) => hub.store.seedImage(REPO, [`pr-${String(i).padStart(3, '0')}`], { pushedAt: day(1 + i), content: `pr ${i}` }).digest);
    const driver = createDockerHubDriver(contextFor(hub, login));
    assert.is((await driver.listTagRecords(REPO)).length, 145);
    const listed = hub.hubRequests().filter((r) => r.startsWith('GET /v2/namespaces/')).length;
    assert.is(listed, 2);
    const limit = pLimit(4);
    await Promise.all(doomed.slice(0, 140).map((digest) => limit(() => driver.deleteManifest(REPO, digest))));
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['pr-140', 'pr-141', 'pr-142', 'v1', 'v1-alias']);
    assert.ok(hub.store.manifest(REPO, kept.digest));
    assert.is(hub.hubRequests().filter((r) => r.startsWith('GET /v2/namespaces/')).length, listed, 'no listing per delete');
    assert.is(hub.hubRequests().filter((r) => r.startsWith('DELETE ')).length, 140);
  });
});

test('with no listing known, concurrent deletes list the repo once between them', async () => {
  await withHub({}, async (hub) => {
    const doomed = Array.from({ length: 6 }, (_, i) => hub.store.seedImage(REPO, [`pr-${i}`, `pr-${i}-again`], { content: `pr ${i}` }).digest);
    hub.store.seedImage(REPO, ['v1'], { content: 'release' });
    const driver = createDockerHubDriver(contextFor(hub, login));
    await Promise.all(doomed.map((digest) => driver.deleteManifest(REPO, digest)));
    assert.equal(hub.store.tags(REPO).map((t) => t.tag), ['v1']);
    assert.is(hub.hubRequests().filter((r) => r.startsWith('GET /v2/namespaces/')).length, 1);
  });
});

test('push times are parsed, not judged: a zeroed 1970 time reaches inventory as the Hub sent it', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['reproducible'], { pushedAt: new Date(0) });
    const [record] = await createDockerHubDriver(contextFor(hub, login)).listTagRecords(REPO);
    assert.is(record?.pushedAt, '1970-01-01T00:00:00.000Z');
  });
});

test('repo discovery: a namespace\'s repositories across 3 pages of 100 while tags are deleted and a repo pushed, filtered by prefix', async () => {
  let hub: DockerHubEmulator | undefined;
  const options: DockerHubEmulatorOptions = {
    beforeRepositoryPage: ({ page }) => {
      if (page === 2 && hub?.store.repo('acme/000-new') === undefined) hub?.store.seedImage('acme/000-new', ['v1']); // shifts the pages
    },
  };
  await withHub(options, async (emulator) => {
    hub = emulator;
    const expected = Array.from({ length: 230 }, (_, i) => `acme/${i < 15 ? 'tools-' : 'app-'}${String(i).padStart(3, '0')}`);
    for (const repo of expected) emulator.store.seedImage(repo, ['v1', 'pr-1']);
    emulator.store.seedImage('other/app', ['v1']);
    const driver = createDockerHubDriver(contextFor(emulator, login));
    const [repos] = await Promise.all([driver.listRepositories('acme/'), driver.untag('acme/app-100', 'pr-1')]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('other/app'));
    assert.is(new Set(repos).size, repos.length, 'a repository seen on two pages is listed once');
    const pages = emulator.hubRequests().filter((r) => r.startsWith('GET /v2/namespaces/acme/repositories?'));
    assert.is(pages.length, 3);
    assert.equal(await driver.listRepositories('acme/tools-'), expected.slice(0, 15));
  });
});

test('repo discovery: a namespace the Hub does not know is an error naming it and the URL; no namespace is refused', async () => {
  await withHub({}, async (hub) => {
    hub.store.seedImage(REPO, ['v1']);
    const driver = createDockerHubDriver(contextFor(hub, login));
    const error = await rejection(driver.listRepositories('nobody/'));
    assert.match(error.message, 'Docker Hub namespace "nobody" does not exist');
    assert.match(error.message, '/hub/v2/namespaces/nobody/repositories');
    assert.is(error.context.status, 404);
    noSecretIn(error, PASSWORD);
    assert.match((await rejection(driver.listRepositories(''))).message, 'per namespace (user or organization) only');
  });
});

test('repo discovery: a next page on another origin is refused, and that origin receives nothing', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { count: 0, next: null, results: [] } }));
  try {
    await withHub({ nextOrigin: elsewhere.url }, async (hub) => {
      for (let i = 0; i < 120; i++) hub.store.seedImage(`acme/app-${i}`, ['v1']);
      const error = await rejection(createDockerHubDriver(contextFor(hub, login)).listRepositories('acme/'));
      assert.match(error.message, `another origin (${elsewhere.url})`);
      assert.is(elsewhere.requests.length, 0);
    });
  } finally {
    await elsewhere.close();
  }
});

test.run();
