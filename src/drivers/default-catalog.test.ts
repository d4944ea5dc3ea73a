/** The default driver's repository listing (repo patterns): the catalog with Link pages, and what a refusal says. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError } from '../errors.ts';
import { startScriptedServer, ociError, type ScriptHandler } from '../../test/support/scripted-server.ts';
import { catalogPaging, defaultDriver } from './default.ts';
import { canListRepositories, type Driver } from './driver.ts';

async function withDriver(handler: ScriptHandler, body: (driver: Driver, requests: () => string[]) => Promise<void>): Promise<void> {
  const server = await startScriptedServer(handler);
  try {
    const driver = defaultDriver.create({ host: server.host, type: 'default', credentials: async () => ({ username: 'ci', password: 'pw-catalog', source: 'test' }), nativeSecret: async () => undefined });
    await body(driver, () => server.requests.map((r) => r.url));
  } finally {
    await server.close();
  }
}

test('listRepositories reads every catalog page, asking for catalogPaging.pageSize names a page', async () => {
  const names = ['a/one', 'a/two', 'b/three', 'b/four', 'c/five'];
  await withDriver((request) => {
    const n = Number(request.query.get('n'));
    const start = request.query.has('last') ? names.indexOf(request.query.get('last') as string) + 1 : 0;
    const page = names.slice(start, start + n);
    const more = start + n < names.length;
    return { status: 200, headers: more ? { link: `</v2/_catalog?last=${page.at(-1)}&n=${n}>; rel="next"` } : {}, body: { repositories: page } };
  }, async (driver, requests) => {
    assert.ok(canListRepositories(driver));
    const saved = catalogPaging.pageSize;
    catalogPaging.pageSize = 2;
    try {
      assert.equal(await driver.listRepositories('a/'), names, 'the whole catalog: callers filter by prefix');
    } finally {
      catalogPaging.pageSize = saved;
    }
    assert.equal(requests(), ['/v2/_catalog?n=2', '/v2/_catalog?last=a/two&n=2', '/v2/_catalog?last=b/four&n=2']);
  });
});

test('a catalog refused for these credentials (403 after Basic auth) says so and what to do instead', async () => {
  await withDriver((request) => {
    if (request.headers['authorization'] === undefined) return { status: 401, headers: { 'www-authenticate': 'Basic realm="test"' }, body: ociError('UNAUTHORIZED', 'authentication required') };
    return { status: 403, body: ociError('DENIED', 'requested access to the resource is denied') };
  }, async (driver) => {
    assert.ok(canListRepositories(driver));
    const error = await driver.listRepositories('').then(() => assert.unreachable('expected a refusal') as never, (e: unknown) => e as AuthError);
    assert.instance(error, AuthError);
    assert.match(error.message, /^registry 127\.0\.0\.1:\d+ does not allow listing its catalog \(GET \/v2\/_catalog\) with these credentials: HTTP 403$/);
    assert.match(error.hint ?? '', 'list the repos explicitly in repos[] instead of a pattern');
    assert.match(error.hint ?? '', 'set registries.<host>.type');
    assert.not.match(`${error.message} ${error.hint}`, 'pw-catalog');
  });
});

test.run();
