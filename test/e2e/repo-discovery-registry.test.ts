/**
 * Repo discovery end to end against the real distribution registry (issue 11): repo patterns expanded through the
 * catalog (read over several Link pages: the page size is lowered to 2), `exclude:`, an explicit entry winning
 * over a pattern, `**`, plan -> apply on exactly the expanded repos checked with skopeo, a repo created between
 * plan and apply left alone, a pattern matching nothing, a catalog the credentials may not read, and a next-page
 * link to another origin refused before anything is sent there. Requests go through a counting proxy.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { catalogPaging } from '../../src/drivers/default.ts';
import { planSchemaProblems } from '../../src/plan/planfile.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startRegistry, type TestAccount, type TestRegistry } from '../harness/registry.ts';
import { seedImage, skopeoListTags } from '../harness/seed.ts';
import { startCountingProxy, type CountingProxy, type InjectedAnswer, type ProxiedRequest } from '../support/counting-proxy.ts';
import { captureIo } from '../support/io.ts';
import { startScriptedServer } from '../support/scripted-server.ts';

const OLD = new Date(Date.UTC(2024, 0, 1));
/** Repos in the registry before the plan; each has `v1.0.0` (kept) and `pr-1` (a deletion candidate). */
const SEEDED = ['team/api', 'team/worker', 'team/web', 'team/legacy-api', 'team/sub/deep', 'other/thing'];

interface World {
  registry: TestRegistry;
  proxy: CountingProxy;
  dir: string;
  /** Answers a request in place of the registry while set (fault injection). */
  intercept: { answer?: ((request: ProxiedRequest) => InjectedAnswer | undefined) | undefined };
  seed: (repo: string) => Promise<void>;
  writeConfig: (repos: string[]) => Promise<string>;
  run: (config: string, ...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  stop: () => Promise<void>;
}

async function makeWorld(options: { auth: 'basic' | 'token'; login?: (registry: TestRegistry) => TestAccount | undefined } = { auth: 'basic' }): Promise<World> {
  const registry = await startRegistry({ auth: options.auth });
  const intercept: World['intercept'] = {};
  const proxy = await startCountingProxy(registry.host, { intercept: (request) => intercept.answer?.(request) });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-discovery-'));
  const account = options.login ? options.login(registry) : { username: registry.username as string, password: registry.password as string };
  const dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const auths = account === undefined ? {} : { [proxy.host]: { auth: Buffer.from(`${account.username}:${account.password}`).toString('base64') } };
  await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths }));
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') };
  return {
    registry, proxy, dir, intercept,
    async seed(repo) {
      await seedImage(registry, { repo, tag: 'v1.0.0', created: OLD, content: `${repo}:release` });
      await seedImage(registry, { repo, tag: 'pr-1', created: OLD, content: `${repo}:pr` });
    },
    async writeConfig(repos) {
      const file = path.join(dir, 'registry.config.yaml');
      const text = [
        'version: 1',
        'settings: { concurrency: 4, grace: 2h }',
        'policies:',
        '  ci:',
        "    keep: [{ tags: '^v' }]",
        "    delete: { tags: '^pr-' }",
        '  hold:',
        "    keep: [{ tags: '.*' }]",
        "    delete: { tags: '^pr-' }",
        'repos:',
        ...repos,
        '',
      ].join('\n');
      await writeFile(file, text);
      return file;
    },
    async run(config, ...argv) {
      const io = captureIo(env, dir);
      const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
      return { code, out: io.out(), err: io.err() };
    },
    async stop() {
      await proxy.stop();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const catalogRequests = (proxy: CountingProxy): ProxiedRequest[] => proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/_catalog'));

const discovery = suite('repo discovery against the real registry');
let world: World;
const savedPageSize = catalogPaging.pageSize;

discovery.before(async () => {
  catalogPaging.pageSize = 2; // six repos -> at least three catalog pages
  world = await makeWorld();
  for (const repo of SEEDED) await world.seed(repo);
});
discovery.after(async () => {
  catalogPaging.pageSize = savedPageSize;
  await world.stop();
});

discovery('a pattern expands over every catalog page; exclude and an explicit entry take their repos; apply acts on exactly the planned repos', async () => {
  const host = world.proxy.host;
  const config = await world.writeConfig([
    `  - repo: ${host}/team/*`,
    '    cleanup: ci',
    `    exclude: [${host}/team/legacy-*]`,
    `  - repo: ${host}/team/web`,
    '    cleanup: hold',
    `  - repo: ${host}/team/sub/**`,
    '    cleanup: ci',
  ]);
  assert.is((await world.run(config, 'validate')).code, 0, 'validate accepts patterns');
  world.proxy.reset();
  const planned = await world.run(config, 'plan', '--out', 'plan.json');
  assert.is(planned.code, 0, planned.err);
  const pages = catalogRequests(world.proxy);
  assert.ok(pages.length >= 3, `the catalog was read in ${pages.length} pages: ${pages.map((r) => r.path).join(' ')}`);
  assert.ok(pages.every((r) => /[?&]n=2(&|$)/.test(r.path)), 'every page asks for n=2');
  assert.match(planned.out, `pattern ${host}/team/* -> 2 repos: ${host}/team/api, ${host}/team/worker`);
  assert.match(planned.out, `excluded ${host}/team/legacy-api (by ${host}/team/legacy-*)`);
  assert.match(planned.out, `left to its own entry (${host}/team/web): ${host}/team/web`);
  assert.match(planned.out, `pattern ${host}/team/sub/** -> 1 repo: ${host}/team/sub/deep`);

  const plan = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path.join(world.dir, 'plan.json'), 'utf8'))) as Plan;
  assert.equal(planSchemaProblems(plan), []);
  assert.equal(plan.expansions?.map((e) => [e.pattern, e.repos]), [
    [`${host}/team/*`, [`${host}/team/api`, `${host}/team/worker`]],
    [`${host}/team/sub/**`, [`${host}/team/sub/deep`]],
  ]);
  const deletions = plan.actions.filter((a) => a.type === 'delete').map((a) => `${a.repo}:${a.tag}`).sort();
  assert.equal(deletions, [`${host}/team/api:pr-1`, `${host}/team/sub/deep:pr-1`, `${host}/team/worker:pr-1`]);
  assert.ok(plan.kept.some((k) => k.repo === `${host}/team/web` && k.tag === 'pr-1'), 'the explicit entry\'s policy keeps team/web:pr-1');

  await world.seed('team/newcomer'); // matches team/* now, but was not in the reviewed plan
  world.proxy.reset();
  const applied = await world.run(config, 'apply', 'plan.json');
  assert.is(applied.code, 0, applied.out + applied.err);
  assert.equal(catalogRequests(world.proxy), [], 'apply does not list the registry again');
  for (const repo of ['team/api', 'team/worker', 'team/sub/deep']) assert.equal(await skopeoListTags(world.registry, repo), ['v1.0.0'], repo);
  for (const repo of ['team/web', 'team/legacy-api', 'other/thing', 'team/newcomer']) assert.equal(await skopeoListTags(world.registry, repo), ['pr-1', 'v1.0.0'], repo);
});

discovery('a pattern that matches nothing fails the plan, naming the pattern and its line', async () => {
  const host = world.proxy.host;
  const config = await world.writeConfig([`  - repo: ${host}/team/api`, '    cleanup: ci', `  - repo: ${host}/nothing/*`, '    cleanup: ci']);
  const planned = await world.run(config, 'plan');
  assert.is(planned.code, 1, planned.out);
  assert.match(planned.err, `repo pattern "${host}/nothing/*" (${config}:13:11) matches no repository on ${host}`);
  assert.is(planned.out, '');
});

discovery('a --repo glob selects among the expanded repos', async () => {
  const host = world.proxy.host;
  const config = await world.writeConfig([`  - repo: ${host}/team/*`, '    cleanup: ci', `  - repo: ${host}/other/*`, '    cleanup: ci']);
  const planned = await world.run(config, 'plan', '--json', '--repo', `${host}/team/w*`);
  assert.is(planned.code, 0, planned.err);
  const plan = JSON.parse(planned.out) as Plan;
  assert.equal(plan.expansions?.map((e) => [e.pattern, e.repos]), [[`${host}/team/*`, [`${host}/team/web`, `${host}/team/worker`]]]);
  assert.equal([...new Set(plan.kept.map((k) => k.repo))].sort(), [`${host}/team/web`, `${host}/team/worker`]);
});

discovery('a catalog next page on another origin is refused before anything is sent there', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { repositories: ['team/stolen'] } }));
  const host = world.proxy.host;
  world.intercept.answer = (request) =>
    request.path.startsWith('/v2/_catalog') && request.path.includes('last=')
      ? { status: 200, headers: { link: `<${elsewhere.url}/v2/_catalog?last=z&n=2>; rel="next"` }, body: JSON.stringify({ repositories: ['team/zz'] }) }
      : undefined;
  try {
    const config = await world.writeConfig([`  - repo: ${host}/team/*`, '    cleanup: ci']);
    const planned = await world.run(config, 'plan');
    assert.is(planned.code, 1, planned.out);
    assert.match(planned.err, /sent a next-page link for "_catalog" that leaves \/v2\/_catalog/);
    assert.is(elsewhere.requests.length, 0, 'no request, so no credential, went to the other origin');
  } finally {
    world.intercept.answer = undefined;
    await elsewhere.close();
  }
});

discovery.run();

const denied = suite('repo discovery where the catalog is refused');

denied('credentials without registry:catalog:* get a clear error with what to do instead', async () => {
  const reader = await makeWorld({ auth: 'token', login: (registry) => registry.reader });
  try {
    const config = await reader.writeConfig([`  - repo: ${reader.proxy.host}/team/*`, '    cleanup: ci']);
    const planned = await reader.run(config, 'plan');
    assert.is(planned.code, 1, planned.out);
    assert.match(planned.err, `registry ${reader.proxy.host} does not allow listing its catalog (GET /v2/_catalog) with these credentials`);
    assert.match(planned.err, /list the repos explicitly in repos\[\]/);
    const asked = reader.registry.tokenServer?.requests.flatMap((r) => r.scopes) ?? [];
    assert.ok(asked.includes('registry:catalog:*'), `the token was asked for the catalog scope: ${asked.join(' ')}`);
  } finally {
    await reader.stop();
  }
});

denied.run();
