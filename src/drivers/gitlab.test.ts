import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startGitlabEmulator, type GitlabEmulator, type GitlabEmulatorOptions } from '../../test/emulators/gitlab.ts';
import { AuthError, RegplanError } from '../errors.ts';
import { canListRepositories, canUntag, hasDetailedListing, refusesCleanup, type DetailedLister, type Driver, type DriverContext, type Untagger } from './driver.ts';
import { gitlabApiBase, gitlabDriver } from './gitlab.ts';
import { rejection as rejectionOf } from '../../test/support/rejection.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';

const rejection = (promise: Promise<unknown>): Promise<RegplanError> => rejectionOf(promise, RegplanError);

const TOKEN = 'glpat-secret-token-0123456789';
const READ_TOKEN = 'glpat-read-only-token-9876';
const PROJECTS = [
  { id: 7, path: 'acme/platform' },
  { id: 8, path: 'acme/platform/tools' },
];
const day = (n: number): Date => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

/** A driver context for the emulator; `null` leaves the token or the API base unset; `env` is the rest of the environment. */
function contextFor(gitlab: GitlabEmulator, token: string | null, api: string | null = gitlab.apiUrl, env: Record<string, string> = {}): DriverContext {
  return {
    host: gitlab.host,
    type: 'gitlab',
    registry: { host: gitlab.host, insecure: false, ...(api === null ? {} : { api }) },
    credentials: async () => undefined,
    nativeSecret: async (name) => (name === 'REGPLAN_REPO_GITLAB_TOKEN' && token !== null ? token : env[name]),
  };
}

const JOB_TOKEN = 'glcbt-job-token-for-project-7';
const IN_CI = { GITLAB_CI: 'true', CI_JOB_TOKEN: JOB_TOKEN };

type GitlabDriver = Driver & DetailedLister & Untagger;

function driverFor(gitlab: GitlabEmulator, token: string | null = TOKEN): GitlabDriver {
  const driver = gitlabDriver.create(contextFor(gitlab, token));
  if (!hasDetailedListing(driver) || !canUntag(driver)) throw new Error('the GitLab driver lists natively and untags');
  return driver;
}

async function withGitlab(options: Partial<GitlabEmulatorOptions>, run: (gitlab: GitlabEmulator) => Promise<void>): Promise<void> {
  const gitlab = await startGitlabEmulator({ projects: PROJECTS, tokens: { [TOKEN]: 'api', [READ_TOKEN]: 'read_api' }, ...options });
  try {
    await run(gitlab);
  } finally {
    await gitlab.stop();
  }
}


test('API base: gitlab.com for its registry, a configured origin gains /api/v4, a self-hosted host is not guessed', () => {
  assert.is(gitlabApiBase('registry.gitlab.com', undefined), 'https://gitlab.com/api/v4');
  assert.is(gitlabApiBase('gitlab.com:443', undefined), 'https://gitlab.com/api/v4');
  assert.is(gitlabApiBase('registry.example.com', 'https://gitlab.example.com'), 'https://gitlab.example.com/api/v4');
  assert.is(gitlabApiBase('registry.example.com', 'https://gitlab.example.com/gitlab/api/v4/'), 'https://gitlab.example.com/gitlab/api/v4');
  assert.is(gitlabApiBase('registry.example.com', undefined), undefined);
  assert.is(gitlabApiBase('registry.example.com', 'urn:gitlab'), undefined);
});

test('listing: every tag with its digest and push time, across offset pages, in the right repository of the project', async () => {
  await withGitlab({ maxPerPage: 3 }, async (gitlab) => {
    const tags = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7'];
    tags.forEach((tag, i) => gitlab.store.seedImage('acme/platform/worker', [tag], { pushedAt: day(i) }));
    gitlab.store.seedImage('acme/platform', ['root'], { pushedAt: day(20) });
    gitlab.store.seedImage('acme/platform/tools/cli', ['other'], { pushedAt: day(21) });
    const driver = driverFor(gitlab);
    const records = await driver.listTagRecords('acme/platform/worker');
    assert.equal(records.map((r) => r.tag), tags);
    assert.equal(records.map((r) => r.digest), gitlab.store.tags('acme/platform/worker').map((t) => t.digest));
    assert.equal(records.map((r) => r.pushedAt), tags.map((_, i) => day(i).toISOString()));
    assert.is(gitlab.requestsTo(`/api/v4/projects/7/registry/repositories`).length, 0, 'the project is addressed by its encoded path');
    assert.ok(gitlab.apiRequests().some((r) => r.path === '/api/v4/projects/acme%2Fplatform%2Fworker/registry/repositories' && r.status === 404));
    const listPages = gitlab.apiRequests().filter((r) => r.path.endsWith(`/repositories/${gitlab.repositoryId('acme/platform/worker')}/tags`));
    assert.is(listPages.length, 3, 'seven tags in pages of three');
    assert.equal((await driver.listTagRecords('acme/platform')).map((r) => r.tag), ['root']);
    assert.equal((await driver.listTagRecords('acme/platform/tools/cli')).map((r) => r.tag), ['other'], 'the deeper project owns its path');
  });
});

test('listing follows GitLab.com keyset pages (Link rel="next" only)', async () => {
  await withGitlab({ pagination: 'keyset', maxPerPage: 2 }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['a', 'b', 'c', 'd', 'e']);
    const records = await driverFor(gitlab).listTagRecords('acme/platform');
    assert.equal(records.map((r) => r.tag), ['a', 'b', 'c', 'd', 'e']);
    assert.ok(gitlab.apiRequests().some((r) => r.query.includes('pagination=keyset') && r.query.includes('last=d')));
  });
});

test('a tag without created_at has no push time (inventory then treats it as new or reads the config)', async () => {
  await withGitlab({ createdAt: 'null' }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['chart']);
    const [record] = await driverFor(gitlab).listTagRecords('acme/platform');
    assert.is(record?.tag, 'chart');
    assert.is(record?.pushedAt, undefined);
  });
});

test('a repository not pushed yet has no tags; a path no project holds is an error that names what was tried', async () => {
  await withGitlab({}, async (gitlab) => {
    const driver = driverFor(gitlab);
    assert.equal(await driver.listTagRecords('acme/platform/nothing-yet'), []);
    const error = await rejection(driver.listTagRecords('nobody/home/app'));
    assert.match(error.message, `no GitLab project holds "${gitlab.host}/nobody/home/app"`);
    assert.match(error.message, '"nobody/home/app", "nobody/home"');
    assert.match(error.hint ?? '', 'private projects the token cannot read');
    const single = await rejection(driver.listTagRecords('app'));
    assert.match(single.message, 'GitLab paths are <namespace>/<project>[/<image>]');
  });
});

test('untag removes one tag through the API and leaves the manifest to the tag that shares it; a second untag is done', async () => {
  await withGitlab({}, async (gitlab) => {
    const image = gitlab.store.seedImage('acme/platform', ['v1.0.0', 'pr-12']);
    const driver = driverFor(gitlab);
    assert.is(driver.capabilities.untag, true);
    await driver.untag('acme/platform', 'pr-12');
    assert.equal(gitlab.store.tags('acme/platform').map((t) => t.tag), ['v1.0.0']);
    assert.ok(gitlab.store.manifest('acme/platform', image.digest), 'the shared manifest stays');
    await driver.untag('acme/platform', 'pr-12');
    assert.equal(gitlab.apiRequests().filter((r) => r.method === 'DELETE').map((r) => r.status), [200, 404]);
    assert.is(gitlab.requestsTo('/v2/', 'DELETE').length, 0, 'no Registry API delete');
  });
});

test('deleteManifest deletes every tag still on the digest, never a tag that moved, and never by regex', async () => {
  await withGitlab({}, async (gitlab) => {
    const doomed = gitlab.store.seedImage('acme/platform', ['pr-1', 'pr-1-again'], { content: 'pr-1' });
    gitlab.store.seedImage('acme/platform', ['keep'], { content: 'keep' });
    const driver = driverFor(gitlab);
    await driver.listTagRecords('acme/platform');
    const moved = gitlab.store.seedImage('acme/platform', ['pr-1-again'], { content: 'rebuilt' });
    await driver.deleteManifest('acme/platform', doomed.digest);
    assert.equal(gitlab.store.tags('acme/platform').map((t) => `${t.tag}@${t.digest === moved.digest ? 'moved' : 'other'}`), ['keep@other', 'pr-1-again@moved']);
    assert.equal(gitlab.store.tagsOf('acme/platform', doomed.digest), []);
    const deletes = gitlab.apiRequests().filter((r) => r.method === 'DELETE');
    assert.equal(deletes.map((r) => r.path.split('/').at(-1)), ['pr-1']);
    await driver.deleteManifest('acme/platform', doomed.digest); // nothing left on it: done
  });
});

test('concurrent manifest deletes of one digest (its tags applied in parallel) send one DELETE per tag', async () => {
  await withGitlab({}, async (gitlab) => {
    const image = gitlab.store.seedImage('acme/platform', ['pr-4', 'pr-5', 'pr-6']);
    const driver = driverFor(gitlab);
    await driver.listTagRecords('acme/platform');
    await Promise.all([driver.deleteManifest('acme/platform', image.digest), driver.deleteManifest('acme/platform', image.digest)]);
    assert.equal(gitlab.store.tags('acme/platform'), []);
    assert.equal(gitlab.apiRequests().filter((r) => r.method === 'DELETE').map((r) => `${r.path.split('/').at(-1)} ${r.status}`), ['pr-4 200', 'pr-5 200', 'pr-6 200']);
  });
});

test('no token: listing stops with an error naming the flag and env and how CI_JOB_TOKEN is used in GitLab CI', async () => {
  await withGitlab({}, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1']);
    const error = await rejection(driverFor(gitlab, null).listTagRecords('acme/platform'));
    assert.match(error.message, 'no GitLab token is set');
    assert.match(error.hint ?? '', '--repo-gitlab-token / REGPLAN_REPO_GITLAB_TOKEN');
    assert.match(error.hint ?? '', "in GitLab CI without one, the job's CI_JOB_TOKEN is used");
    assert.is(gitlab.apiRequests().length, 0);
  });
});

test('a refused token gives an AuthError with the token hint and never the token itself', async () => {
  await withGitlab({}, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1']);
    const wrong = 'glpat-this-one-is-wrong-42';
    const error = await rejection(driverFor(gitlab, wrong).listTagRecords('acme/platform'));
    assert.instance(error, AuthError);
    assert.match(error.message, 'HTTP 401 "401 Unauthorized"');
    assert.match(error.hint ?? '', 'api scope');
    assert.not.match(`${error.message} ${error.hint} ${JSON.stringify(error.context)}`, wrong);
  });
});

test('a read_api token lists but cannot delete; a protected tag answers 403; both are AuthErrors with the hint', async () => {
  await withGitlab({ protectedTags: /^v\d/ }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1', 'pr-1'], { content: 'x' });
    const reader = driverFor(gitlab, READ_TOKEN);
    assert.equal((await reader.listTagRecords('acme/platform')).map((r) => r.tag), ['pr-1', 'v1']);
    const scope = await rejection(reader.untag('acme/platform', 'pr-1'));
    assert.instance(scope, AuthError);
    assert.match(scope.message, `GitLab API refused DELETE "${gitlab.host}/acme/platform:pr-1": HTTP 403`);
    assert.match(scope.message, 'higher privileges');
    const protectedTag = await rejection(driverFor(gitlab).untag('acme/platform', 'v1'));
    assert.match(protectedTag.message, 'HTTP 403 "403 Forbidden"');
    assert.match(protectedTag.hint ?? '', 'protected container tag rule');
    assert.not.match(`${scope.message}${scope.hint}${protectedTag.message}${protectedTag.hint}`, TOKEN.slice(6));
    assert.equal(gitlab.store.tags('acme/platform').map((t) => t.tag), ['pr-1', 'v1']);
  });
});

test('rate limiting: 429 answers with Retry-After are ridden out and the listing completes', async () => {
  await withGitlab({ rateLimit: { requests: 3 }, maxPerPage: 2 }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['a', 'b', 'c', 'd', 'e', 'f']);
    const records = await driverFor(gitlab).listTagRecords('acme/platform');
    assert.is(records.length, 6);
    assert.ok(gitlab.apiRequests().filter((r) => r.status === 429).length >= 2, 'the emulator throttled');
  });
});

test('a self-hosted registry without registries.<host>.api refuses cleanup at plan time but still reads', async () => {
  await withGitlab({}, async (gitlab) => {
    const image = gitlab.store.seedImage('acme/platform', ['v1']);
    const driver = gitlabDriver.create(contextFor(gitlab, TOKEN, null));
    assert.ok(refusesCleanup(driver));
    if (!refusesCleanup(driver)) return;
    const refusal = driver.cleanupRefusal();
    assert.match(refusal.message, `cannot clean up "${gitlab.host}" as a GitLab registry`);
    assert.match(refusal.hint ?? '', `registries."${gitlab.host}".api`);
    assert.match(refusal.hint ?? '', '$CI_API_V4_URL');
    assert.is((await driver.resolveTag('acme/platform', 'v1'))?.digest, image.digest);
    await rejection(driver.deleteManifest('acme/platform', image.digest));
    assert.equal(gitlab.store.tags('acme/platform').map((t) => t.tag), ['v1']);
  });
});

test('in GitLab CI without a GitLab token, CI_JOB_TOKEN goes as JOB-TOKEN and lists and deletes in its own project', async () => {
  await withGitlab({ jobTokens: { [JOB_TOKEN]: 7 } }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1', 'pr-1'], { content: 'x' });
    const driver = gitlabDriver.create(contextFor(gitlab, null, gitlab.apiUrl, IN_CI));
    if (!hasDetailedListing(driver) || !canUntag(driver)) throw new Error('the GitLab driver lists natively and untags');
    assert.equal((await driver.listTagRecords('acme/platform')).map((r) => r.tag), ['pr-1', 'v1']);
    await driver.untag('acme/platform', 'pr-1');
    assert.equal(gitlab.store.tags('acme/platform').map((t) => t.tag), ['v1']);
  });
});

test('a GitLab token wins over the job token; outside GitLab CI a job token alone is not used', async () => {
  await withGitlab({ jobTokens: { [JOB_TOKEN]: 7 } }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1']);
    const withToken = gitlabDriver.create(contextFor(gitlab, TOKEN, gitlab.apiUrl, IN_CI)) as GitlabDriver;
    assert.equal((await withToken.listTagRecords('acme/platform')).map((t) => t.tag), ['v1']);
    assert.ok(gitlab.apiRequests().length > 0);
    const outside = await rejection((gitlabDriver.create(contextFor(gitlab, null, gitlab.apiUrl, { CI_JOB_TOKEN: JOB_TOKEN })) as GitlabDriver).listTagRecords('acme/platform'));
    assert.match(outside.message, 'no GitLab token is set');
  });
});

test('a job token refused (another project) explains both ways: an access token with api scope, or the job token allowlist', async () => {
  await withGitlab({ jobTokens: { [JOB_TOKEN]: 8 } }, async (gitlab) => {
    gitlab.store.seedImage('acme/platform', ['v1']);
    const error = await rejection((gitlabDriver.create(contextFor(gitlab, null, gitlab.apiUrl, IN_CI)) as GitlabDriver).listTagRecords('acme/platform'));
    assert.instance(error, AuthError);
    assert.match(error.message, 'HTTP 403');
    assert.match(error.hint ?? '', /CI_JOB_TOKEN/);
    assert.match(error.hint ?? '', /api scope/);
    assert.match(error.hint ?? '', /allowlist|job token scope/);
    assert.not.match(`${error.message} ${error.hint ?? ''}`, JOB_TOKEN);
  });
});

test('untagging the last tag deletes the manifest on GitLab: the capability says so, for apply to guard it', () => {
  assert.is(gitlabDriver.capabilities.untagLastDeletesManifest, true);
});

test('pagination pointed at another origin is an error, and no token reaches that origin', async () => {
  const foreign = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    await withGitlab({ maxPerPage: 2, nextOrigin: foreign.url }, async (gitlab) => {
      gitlab.store.seedImage('acme/platform', ['a', 'b', 'c', 'd', 'e']);
      const error = await rejection(driverFor(gitlab).listTagRecords('acme/platform'));
      assert.match(error.message, `another origin (${foreign.url})`);
      assert.is(foreign.requests.length, 0, 'the second server received nothing');
      assert.is(foreign.requests.filter((r) => ['private-token', 'job-token', 'authorization'].some((h) => r.headers[h] !== undefined)).length, 0);
    });
  } finally {
    await foreign.close();
  }
});

const GROUPS = [
  { id: 3, path: 'acme' },
  { id: 4, path: 'acme/platform-group' },
];
const lister = (gitlab: GitlabEmulator) => {
  const driver = gitlabDriver.create(contextFor(gitlab, TOKEN));
  if (!canListRepositories(driver) || !canUntag(driver)) throw new Error('the GitLab driver lists repositories');
  return driver;
};

test('repo discovery: a group lists the repositories of all its projects across 3 pages while a tag is deleted and a repo pushed', async () => {
  let gitlab: GitlabEmulator | undefined;
  const projects = [...PROJECTS, { id: 9, path: 'acme/web' }, { id: 10, path: 'other/app' }];
  const options: Partial<GitlabEmulatorOptions> = {
    projects, groups: GROUPS, maxPerPage: 4,
    beforeRepositoriesPage: ({ page }) => {
      if (page === 2 && gitlab?.store.repo('acme/web/000-new') === undefined) gitlab?.store.seedImage('acme/web/000-new', ['v1']); // shifts page 1's last item on
    },
  };
  await withGitlab(options, async (emulator) => {
    gitlab = emulator;
    const expected = ['acme/platform', 'acme/platform/api', 'acme/platform/tools', 'acme/platform/tools/cli', 'acme/platform/tools/lint', 'acme/web', 'acme/web/a', 'acme/web/b', 'acme/web/c', 'acme/web/d'];
    for (const repo of expected) emulator.store.seedImage(repo, ['v1', 'pr-1']);
    emulator.store.seedImage('other/app', ['v1']);
    const driver = lister(emulator);
    const [repos] = await Promise.all([driver.listRepositories('acme/'), driver.untag('acme/web/a', 'pr-1')]);
    for (const repo of expected) assert.ok(repos.includes(repo), `${repo} is listed`);
    assert.not.ok(repos.includes('other/app'));
    assert.is(new Set(repos).size, repos.length, 'a repository seen on two pages is listed once');
    assert.ok(emulator.apiRequests().filter((r) => r.path === '/api/v4/groups/acme/registry/repositories').length >= 3);
    assert.equal(await driver.listRepositories('acme/platform/tools/'), ['acme/platform/tools/cli', 'acme/platform/tools/lint']);
  });
});

test('repo discovery: a path that is no group is listed as a project (group 404, then the project\'s repositories)', async () => {
  await withGitlab({ groups: GROUPS }, async (gitlab) => {
    for (const repo of ['acme/platform', 'acme/platform/api', 'acme/platform/tools/cli']) gitlab.store.seedImage(repo, ['v1']);
    assert.equal(await lister(gitlab).listRepositories('acme/platform/'), ['acme/platform/api']);
    assert.equal(gitlab.apiRequests().map((r) => `${r.path} ${r.status}`), ['/api/v4/groups/acme%2Fplatform/registry/repositories 404', '/api/v4/projects/acme%2Fplatform/registry/repositories 200']);
  });
});

test('repo discovery: a path that is neither group nor project is an error naming it and both URLs; no path at all is refused', async () => {
  await withGitlab({ groups: GROUPS }, async (gitlab) => {
    const error = await rejection(lister(gitlab).listRepositories('nobody/team/'));
    assert.match(error.message, 'GitLab group or project "nobody/team" does not exist');
    assert.match(error.message, '/groups/nobody%2Fteam/registry/repositories');
    assert.match(error.message, '/projects/nobody%2Fteam/registry/repositories');
    assert.is(error.context.status, 404);
    assert.not.match(`${error.message} ${error.hint ?? ''}`, TOKEN);
    const whole = await rejection(lister(gitlab).listRepositories(''));
    assert.match(whole.message, 'per group or project only');
  });
});

test('repo discovery: a group page pointed at another origin is an error, and nothing reaches that origin', async () => {
  const foreign = await startScriptedServer(() => ({ status: 200, body: [] }));
  try {
    await withGitlab({ groups: GROUPS, maxPerPage: 2, nextOrigin: foreign.url }, async (gitlab) => {
      for (const repo of ['acme/platform', 'acme/platform/a', 'acme/platform/b']) gitlab.store.seedImage(repo, ['v1']);
      const error = await rejection(lister(gitlab).listRepositories('acme/'));
      assert.match(error.message, `another origin (${foreign.url})`);
      assert.is(foreign.requests.length, 0, 'the second server received nothing');
    });
  } finally {
    await foreign.close();
  }
});

test.run();
