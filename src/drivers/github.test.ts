/**
 * The GitHub driver against the GitHub emulator (test/emulators/github.ts): paged version listing with digests
 * and times, untagged versions, org-then-user owners, deletes with GitHub's semantics and refusals, token scopes,
 * rate limits, and no token ever in an error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, isNotFound, RegistryError, RegplanError } from '../errors.ts';
import { startGithubEmulator, type GithubEmulator, type GithubEmulatorOptions } from '../../test/emulators/github.ts';
import type { DriverContext } from './driver.ts';
import { createGithubDriver, githubApiBase, githubDriver, githubPackage, type GithubDriverOptions } from './github.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const TOKEN = 'ghp_emulatorSecretToken1234';
const FULL = { [TOKEN]: { login: 'octo', scopes: ['read:packages', 'delete:packages'] } };

async function withGithub(options: GithubEmulatorOptions, body: (gh: GithubEmulator) => Promise<void>): Promise<void> {
  const gh = await startGithubEmulator({ tokens: FULL, ...options });
  try {
    await body(gh);
  } finally {
    await gh.stop();
  }
}

function driverFor(gh: GithubEmulator, token: string | null = TOKEN, options: GithubDriverOptions = {}) {
  const context: DriverContext = {
    host: gh.host,
    type: 'github',
    registry: { host: gh.host, insecure: false, api: gh.apiUrl },
    credentials: async () => undefined,
    nativeSecret: async (env) => (env === 'REGPLAN_REPO_GITHUB_TOKEN' ? (token ?? undefined) : undefined),
  };
  return createGithubDriver(context, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 3_000 }, maxRateLimitWaitMs: 2_000, ...options });
}


const days = (n: number) => new Date(Date.UTC(2026, 0, 1 + n));

test('package names: the owner is the first segment and the rest is URL-encoded', () => {
  assert.equal(githubPackage('ghcr.io', 'acme/api'), { owner: 'acme', packageName: 'api' });
  assert.equal(githubPackage('ghcr.io', 'acme/tools/ci/runner'), { owner: 'acme', packageName: 'tools%2Fci%2Frunner' });
  assert.throws(() => githubPackage('ghcr.io', 'acme'), /names no GitHub package/);
});

test('API base: configured wins; GitHub hosts use api.github.com; Enterprise hosts use /api/v3', () => {
  assert.is(githubApiBase('ghcr.io'), 'https://api.github.com');
  assert.is(githubApiBase('docker.pkg.github.com'), 'https://api.github.com');
  assert.is(githubApiBase('containers.github.example.com'), 'https://github.example.com/api/v3');
  assert.is(githubApiBase('ghcr.io', 'http://127.0.0.1:1/x'), 'http://127.0.0.1:1/x');
  assert.throws(() => githubApiBase('registry.example.com'), /cannot tell the GitHub API of registry "registry\.example\.com"/);
});

test('lists every tag with its digest and push time across pages of 100, and untagged versions apart', async () => {
  await withGithub({}, async (gh) => {
    const tags: string[] = [];
    for (let i = 0; i < 230; i++) {
      const tag = `build-${String(i).padStart(3, '0')}`;
      tags.push(tag);
      gh.store.seedImage('acme/tools/api', [tag], { pushedAt: days(i % 20) });
    }
    const shared = gh.store.seedImage('acme/tools/api', ['v1', 'latest'], { pushedAt: days(30) });
    const orphan = gh.store.seedImage('acme/tools/api', [], { content: 'orphan', pushedAt: days(2) });
    const driver = driverFor(gh);
    const records = await driver.listTagRecords('acme/tools/api');
    assert.is(records.length, 232);
    assert.equal(records.filter((r) => r.digest === shared.digest).map((r) => r.tag).sort(), ['latest', 'v1']);
    assert.is(records.find((r) => r.tag === 'build-005')?.pushedAt, days(5).toISOString());
    assert.equal(await driver.listUntagged('acme/tools/api'), [{ digest: orphan.digest, pushedAt: days(2).toISOString() }]);
    const pages = gh.apiCalls.filter((c) => c.path === '/github-api/orgs/acme/packages/container/tools%2Fapi/versions');
    assert.equal(pages.map((c) => new URLSearchParams(c.query).get('page')), ['1', '2', '3']);
    assert.ok(pages.every((c) => new URLSearchParams(c.query).get('per_page') === '100'));
    assert.ok(gh.apiCalls.every((c) => c.apiVersion === '2022-11-28' && c.accept === 'application/vnd.github+json'));
  });
});

test('a user-owned package is found through /users/<owner> after the org route answers 404', async () => {
  await withGithub({ users: ['octo'] }, async (gh) => {
    gh.store.seedImage('octo/app', ['v1']);
    gh.store.seedImage('octo/app', ['pr-1'], { content: 'pr' });
    const driver = driverFor(gh);
    assert.equal((await driver.listTagRecords('octo/app')).map((r) => r.tag).sort(), ['pr-1', 'v1']);
    await driver.deleteManifest('octo/app', gh.store.resolve('octo/app', 'pr-1')?.digest ?? '');
    assert.equal(gh.store.tags('octo/app').map((t) => t.tag), ['v1']);
    assert.ok(gh.apiCalls.some((c) => c.method === 'DELETE' && c.path.startsWith('/github-api/users/octo/packages/container/app/versions/') && c.status === 204));
    assert.is(gh.apiCalls.filter((c) => c.path.startsWith('/github-api/orgs/')).length, 1, 'the owner kind is remembered');
  });
});

test('a package that does not exist (404 as an org and as a user) is an error naming the package and the URLs tried', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const error = await rejection(driverFor(gh).listTagRecords('acme/missing'));
    assert.instance(error, RegistryError);
    assert.match(error.message, `"${gh.host}/acme/missing"`);
    assert.match(error.message, '/orgs/acme/packages/container/missing/versions');
    assert.match(error.message, '/users/acme/packages/container/missing/versions');
    assert.match(error.hint ?? '', /owner and package name/);
    assert.is(gh.apiCalls.filter((c) => c.method === 'DELETE').length, 0);
  });
});

test('a 404 on version DELETE where the token lacks admin access is a failure with the admin hint, not "already gone"', async () => {
  await withGithub({ noAdmin: ['acme/api'] }, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const pr = gh.store.seedImage('acme/api', ['pr-1'], { content: 'pr' });
    const driver = driverFor(gh);
    await driver.listTagRecords('acme/api');
    const error = await rejection(driver.deleteManifest('acme/api', pr.digest));
    assert.match(error.message, 'HTTP 404');
    assert.match(error.message, 'Package not found.');
    assert.match(error.hint ?? '', /admin access to the package/);
    assert.match(error.hint ?? '', /delete:packages/);
    assert.not.ok(isNotFound(error), 'apply must not read the refusal as "already gone"');
    assert.ok(gh.store.resolve('acme/api', 'pr-1'), 'the version is still there');
    assert.ok(gh.apiCalls.some((c) => c.method === 'GET' && c.path.endsWith(`/versions/${gh.versionId('acme/api', pr.digest)}`)), 'looked the version up');
  });
});

test('a 404 on version DELETE counts as done when a fresh lookup of that version finds nothing', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const pr = gh.store.seedImage('acme/api', ['pr-1'], { content: 'pr' });
    const driver = driverFor(gh);
    await driver.listTagRecords('acme/api');
    gh.store.deleteManifest('acme/api', pr.digest); // deleted by someone else since the listing
    await driver.deleteManifest('acme/api', pr.digest);
    assert.equal(gh.apiCalls.filter((c) => c.path.endsWith(`/versions/${gh.versionId('acme/api', pr.digest)}`)).map((c) => `${c.method} ${c.status}`), ['DELETE 404', 'GET 404']);
  });
});

test('a digest missed by a listing that shifted under another writer is not reported gone: it is found and deleted', async () => {
  let shifted = false;
  const options: GithubEmulatorOptions = {
    beforePage: ({ repo, page }) => {
      if (page !== 2 || shifted) return;
      shifted = true; // another writer deletes a version of page 1 while regplan reads page 2: page 2's first item moves to page 1
      const first = gh?.store.tags(repo).find((t) => t.tag === 'b-000');
      if (first !== undefined) gh?.store.deleteManifest(repo, first.digest);
    },
  };
  let gh: GithubEmulator | undefined;
  await withGithub(options, async (emulator) => {
    gh = emulator;
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 200 - i));
    for (let i = 0; i < 150; i++) emulator.store.seedImage('acme/api', [`b-${String(i).padStart(3, '0')}`], { pushedAt: at(i) });
    const target = emulator.store.resolve('acme/api', 'b-100')?.digest ?? '';
    await driverFor(emulator).deleteManifest('acme/api', target);
    assert.is(emulator.store.resolve('acme/api', 'b-100'), undefined, 'the planned version is really deleted');
    assert.is(emulator.apiCalls.filter((c) => c.method === 'DELETE').length, 1);
  });
});

test('pagination pointed at another origin is an error, and the token never reaches that origin', async () => {
  const foreign = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    await withGithub({ nextOrigin: foreign.url }, async (gh) => {
      for (let i = 0; i < 120; i++) gh.store.seedImage('acme/api', [`t-${i}`]);
      const error = await rejection(driverFor(gh).listTagRecords('acme/api'));
      assert.match(error.message, `another origin (${foreign.url})`);
      assert.is(foreign.requests.length, 0, 'the second server received nothing');
      assert.is(foreign.requests.filter((r) => r.headers['authorization'] !== undefined).length, 0);
    });
  } finally {
    await foreign.close();
  }
});

test('deleting a version removes every tag on it; a digest already gone counts as done', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const doomed = gh.store.seedImage('acme/api', ['pr-1', 'pr-1-alias'], { content: 'pr' });
    const driver = driverFor(gh);
    await driver.deleteManifest('acme/api', doomed.digest);
    assert.equal(gh.store.tags('acme/api').map((t) => t.tag), ['v1']);
    await driver.deleteManifest('acme/api', doomed.digest);
    await driver.deleteManifest('acme/api', `sha256:${'0'.repeat(64)}`);
    assert.is(gh.apiCalls.filter((c) => c.method === 'DELETE').length, 1);
  });
});

test('GitHub cannot untag: capabilities say so and the Registry API answers DELETE with 405', async () => {
  await withGithub({}, async (gh) => {
    const driver = driverFor(gh);
    assert.is(driver.capabilities.untag, false);
    assert.is(driver.capabilities.listUntagged, true);
    assert.not.ok('untag' in driver);
    const image = gh.store.seedImage('acme/api', ['v1']);
    const answer = await fetch(`${gh.url}/v2/acme/api/manifests/${image.digest}`, { method: 'DELETE' });
    assert.is(answer.status, 405);
    assert.match(await answer.text(), 'UNSUPPORTED');
  });
});

test('the last tagged version is refused with GitHub\'s message and a hint to delete the package', async () => {
  await withGithub({}, async (gh) => {
    const only = gh.store.seedImage('acme/api', ['v1']);
    const error = await rejection(driverFor(gh).deleteManifest('acme/api', only.digest));
    assert.instance(error, RegistryError);
    assert.match(error.message, 'You cannot delete the last tagged version of a package');
    assert.match(error.hint ?? '', /delete the whole package .*gh api -X DELETE \/orgs\/acme\/packages\/container\/api/);
    assert.equal(gh.store.tags('acme/api').map((t) => t.tag), ['v1']);
  });
});

test('a public version with more than 5000 downloads is refused with a hint', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const popular = gh.store.seedImage('acme/api', ['v0'], { content: 'old' });
    gh.makePublic('acme/api');
    gh.setDownloads('acme/api', popular.digest, 5001);
    const error = await rejection(driverFor(gh).deleteManifest('acme/api', popular.digest));
    assert.match(error.message, 'more than 5000 downloads');
    assert.match(error.hint ?? '', /keep this tag or ask GitHub support/);
    assert.ok(gh.store.resolve('acme/api', 'v0'));
  });
});

test('without a token, listing and deleting fail before any request, naming the flag and env var', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const driver = driverFor(gh, null);
    for (const attempt of [() => driver.listTagRecords('acme/api'), () => driver.deleteManifest('acme/api', `sha256:${'1'.repeat(64)}`)]) {
      const error = await rejection(attempt());
      assert.match(error.message, 'no GitHub token is set');
      assert.match(error.hint ?? '', /--repo-github-token or REGPLAN_REPO_GITHUB_TOKEN/);
    }
    assert.is(gh.apiCalls.length, 0);
  });
});

test('a token without delete:packages is refused with 403, the scopes needed, and no secret in the text', async () => {
  await withGithub({ tokens: { [TOKEN]: { login: 'octo', scopes: ['read:packages'] } } }, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const pr = gh.store.seedImage('acme/api', ['pr-1'], { content: 'pr' });
    const error = await rejection(driverFor(gh).deleteManifest('acme/api', pr.digest));
    assert.instance(error, AuthError);
    assert.match(error.message, 'HTTP 403');
    assert.match(error.message, 'You need at least delete:packages scope');
    assert.match(error.hint ?? '', /read:packages and delete:packages.*needs the scopes delete:packages, read:packages/);
    assert.not.match(`${error.message} ${error.hint ?? ''} ${error.stack ?? ''}`, TOKEN);
  });
});

test('a bad token is a 401 AuthError with the token hint and without the token', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const error = await rejection(driverFor(gh, 'ghp_wrongTokenValue9876').listTagRecords('acme/api'));
    assert.instance(error, AuthError);
    assert.match(error.message, 'Bad credentials');
    assert.match(error.hint ?? '', 'REGPLAN_REPO_GITHUB_TOKEN');
    assert.not.match(`${error.message} ${error.hint ?? ''}`, 'ghp_wrongTokenValue9876');
  });
});

test('a secondary rate limit (403 + Retry-After) is waited out and the listing completes', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    gh.throttleNext(2, 1);
    const started = Date.now();
    assert.equal((await driverFor(gh).listTagRecords('acme/api')).map((r) => r.tag), ['v1']);
    assert.ok(Date.now() - started >= 1900, 'waited the Retry-After twice');
    assert.equal(gh.apiCalls.map((c) => c.status), [403, 403, 200]);
  });
});

test('an exhausted primary rate limit (403, x-ratelimit-remaining 0) is waited out until x-ratelimit-reset, through retryWhen', async () => {
  await withGithub({ rateLimit: 1, rateLimitResetSeconds: 1 }, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const driver = driverFor(gh);
    await driver.listTagRecords('acme/api');
    assert.equal((await driver.listTagRecords('acme/api')).map((r) => r.tag), ['v1']);
    assert.equal(gh.apiCalls.map((c) => c.status), [200, 403, 200]);
  });
});

test('an exhausted primary rate limit that resets later than regplan waits fails with the reset time', async () => {
  await withGithub({ rateLimit: 1 }, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const driver = driverFor(gh);
    await driver.listTagRecords('acme/api');
    const error = await rejection(driver.listTagRecords('acme/api'));
    assert.instance(error, RegistryError);
    assert.match(error.message, 'API rate limit exceeded');
    assert.match(error.hint ?? '', /rate limiting this token until \d{4}-/);
  });
});

test('the factory is ready; docker.pkg.github.com keeps bundles refused and uses package type docker', async () => {
  assert.is(githubDriver.status, 'ready');
  await withGithub({ packageType: 'docker' }, async (gh) => {
    gh.store.seedImage('acme/repo/api', ['v1']);
    const legacy = createGithubDriver({
      host: 'docker.pkg.github.com',
      type: 'github',
      registry: { host: 'docker.pkg.github.com', insecure: false, api: gh.apiUrl },
      credentials: async () => undefined,
      nativeSecret: async () => TOKEN,
    });
    assert.is(legacy.capabilities.bundles, false);
    assert.match(legacy.capabilities.bundlesRefusal ?? '', 'does not store OCI artifacts');
    assert.equal((await legacy.listTagRecords('acme/repo/api')).map((r) => r.tag), ['v1']);
    assert.ok(gh.apiCalls.some((c) => c.path === '/github-api/orgs/acme/packages/docker/repo%2Fapi/versions'));
  });
});

test('repo discovery: an org\'s container packages across 3 pages while versions are deleted, nested names kept, filtered by prefix', async () => {
  let pushed = false;
  let gh: GithubEmulator | undefined;
  const options: GithubEmulatorOptions = {
    beforePackagesPage: ({ page }) => {
      if (page !== 2 || pushed) return;
      pushed = true; // another writer pushes a package sorting first while regplan reads page 2: page 1's last item moves on
      gh?.store.seedImage('acme/000-new', ['v1']);
    },
  };
  await withGithub(options, async (emulator) => {
    gh = emulator;
    const expected: string[] = [];
    for (let i = 0; i < 230; i++) {
      const repo = i < 30 ? `acme/tools/t-${String(i).padStart(3, '0')}` : `acme/app-${String(i).padStart(3, '0')}`;
      expected.push(repo);
      emulator.store.seedImage(repo, ['v1']);
      emulator.store.seedImage(repo, ['pr-1'], { content: `pr ${i}` });
    }
    emulator.store.seedImage('other/app', ['v1']);
    const driver = driverFor(emulator);
    const doomed = emulator.store.resolve('acme/app-100', 'pr-1')?.digest ?? '';
    const [repos] = await Promise.all([driver.listRepositories('acme/'), driver.deleteManifest('acme/app-100', doomed)]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('other/app'));
    assert.is(new Set(repos).size, repos.length, 'a package seen on two pages is listed once');
    const pages = emulator.apiCalls.filter((c) => c.path === '/github-api/orgs/acme/packages');
    assert.equal(pages.map((c) => new URLSearchParams(c.query).get('page')), ['1', '2', '3']);
    assert.ok(pages.every((c) => new URLSearchParams(c.query).get('package_type') === 'container'));
    assert.equal(await driver.listRepositories('acme/tools/'), expected.slice(0, 30));
  });
});

test('repo discovery: a user\'s packages are listed through /users/<owner> after the org route answers 404', async () => {
  await withGithub({ users: ['octo'] }, async (gh) => {
    gh.store.seedImage('octo/app', ['v1']);
    gh.store.seedImage('octo/tools/cli', ['v1']);
    assert.equal(await driverFor(gh).listRepositories('octo/'), ['octo/app', 'octo/tools/cli']);
    assert.equal(gh.apiCalls.map((c) => `${c.path} ${c.status}`), ['/github-api/orgs/octo/packages 404', '/github-api/users/octo/packages 200']);
  });
});

test('repo discovery: an owner GitHub does not know is an error naming the owner and both URLs tried', async () => {
  await withGithub({}, async (gh) => {
    gh.store.seedImage('acme/api', ['v1']);
    const error = await rejection(driverFor(gh).listRepositories('nobody/'));
    assert.instance(error, RegistryError);
    assert.match(error.message, 'GitHub owner "nobody" does not exist');
    assert.match(error.message, '/orgs/nobody/packages?package_type=container');
    assert.match(error.message, '/users/nobody/packages?package_type=container');
    assert.is(error.context.status, 404);
    assert.not.match(`${error.message} ${error.hint ?? ''}`, TOKEN);
  });
});

test('repo discovery: a prefix without an owner, or no token, is refused before any request', async () => {
  await withGithub({}, async (gh) => {
    const error = await rejection(driverFor(gh).listRepositories(''));
    assert.match(error.message, 'lists repositories per owner');
    assert.match(error.hint ?? '', `${gh.host}/acme/*`);
    const tokenless = await rejection(driverFor(gh, null).listRepositories('acme/'));
    assert.match(tokenless.message, 'no GitHub token is set');
    assert.is(tokenless.context.flag, '--repo-github-token');
    assert.is(gh.apiCalls.length, 0);
  });
});

test('repo discovery: a packages page pointed at another origin is an error, and nothing reaches that origin', async () => {
  const foreign = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    await withGithub({ nextOrigin: foreign.url }, async (gh) => {
      for (let i = 0; i < 120; i++) gh.store.seedImage(`acme/app-${i}`, ['v1']);
      const error = await rejection(driverFor(gh).listRepositories('acme/'));
      assert.match(error.message, `another origin (${foreign.url})`);
      assert.is(foreign.requests.length, 0, 'the second server received nothing');
    });
  } finally {
    await foreign.close();
  }
});

test.run();
