/**
 * Self-tests of the test harness: the real registry starts in each auth mode, skopeo can push to it and list
 * its tags, wrong passwords and missing rights are refused, tokens carry only the granted scopes, and nothing
 * keeps running after stop() or after a test process dies.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTestImage, DEFAULT_CREATED } from './layout.ts';
import { startRegistry, type RegistryAuthMode, type TestRegistry } from './registry.ts';
import { runSkopeo, seedImage, skopeoDigest, skopeoInspectRaw, skopeoListTags, SkopeoError } from './seed.ts';
import { rejection } from '../support/rejection.ts';

/** True while `pid` is a live process (a zombie counts as gone: it runs nothing). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

const basicHeader = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

function decodeJwtPayload(token: string): { access: Array<{ type: string; name: string; actions: string[] }>; aud: string; iss: string; sub: string } {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}


for (const mode of ['none', 'basic', 'token'] as const satisfies readonly RegistryAuthMode[]) {
  const modeSuite = suite<{ registry?: TestRegistry }>(`registry with auth=${mode}`, {});
  modeSuite.before(async (context) => {
    context.registry = await startRegistry({ auth: mode });
  });
  modeSuite.after(async (context) => {
    await context.registry?.stop();
  });

  modeSuite('answers GET /v2/ with the challenge its auth mode implies', async ({ registry }) => {
    const response = await fetch(`http://${registry!.host}/v2/`);
    await response.arrayBuffer();
    const challenge = response.headers.get('www-authenticate');
    if (mode === 'none') {
      assert.is(response.status, 200);
      assert.is(challenge, null);
    } else if (mode === 'basic') {
      assert.is(response.status, 401);
      assert.match(challenge ?? '', /^Basic realm="regplan-test"/);
    } else {
      assert.is(response.status, 401);
      assert.match(challenge ?? '', /^Bearer /);
      assert.ok((challenge ?? '').includes(`realm="${registry!.tokenServer!.realm}"`), challenge ?? '');
    }
  });

  modeSuite('skopeo pushes an image and an index, and lists every tag', async ({ registry }) => {
    const single = await seedImage(registry!, { repo: 'harness/app', tag: 'v1', alsoTags: ['v1-again', 'latest'] });
    const multi = await seedImage(registry!, { repo: 'harness/app', tag: 'multi', platforms: ['linux/amd64', 'linux/arm64'] });
    assert.equal(await skopeoListTags(registry!, 'harness/app'), ['latest', 'multi', 'v1', 'v1-again']);
    assert.is(await skopeoDigest(registry!, 'harness/app', 'v1-again'), single.digest);
    assert.is(await skopeoDigest(registry!, 'harness/app', 'latest'), single.digest);
    assert.is(await skopeoDigest(registry!, 'harness/app', 'multi'), multi.digest);
    const index = JSON.parse(new TextDecoder().decode(await skopeoInspectRaw(registry!, 'harness/app', 'multi')));
    assert.equal(
      index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
  });

  modeSuite('serves the config with the created time the seed chose', async ({ registry }) => {
    const created = new Date('2023-05-06T07:08:09Z');
    await seedImage(registry!, { repo: 'harness/dated', tag: 'old', created });
    const { stdout } = await runSkopeo(registry!, ['inspect', '--config', '--raw', ...registry!.skopeoArgs(), `docker://${registry!.host}/harness/dated:old`]);
    assert.is(JSON.parse(stdout.toString('utf8')).created, created.toISOString());
  });

  modeSuite('reports an unknown tag as missing and an unknown repo as having no tags', async ({ registry }) => {
    assert.is(await skopeoDigest(registry!, 'harness/app', 'no-such-tag'), undefined);
    assert.equal(await skopeoListTags(registry!, 'harness/never-pushed'), []);
  });

  modeSuite('writes a private Docker config that logs into this registry', async ({ registry }) => {
    const config = JSON.parse(await readFile(path.join(registry!.dockerConfigDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    if (mode === 'none') {
      assert.equal(config.auths, {});
      return;
    }
    const decoded = Buffer.from(config.auths[registry!.host]?.auth ?? '', 'base64').toString('utf8');
    assert.is(decoded, `${registry!.username}:${registry!.password}`);
  });

  if (mode !== 'none') {
    modeSuite('refuses a wrong password', async ({ registry }) => {
      const wrong = { ...registry!, skopeoArgs: () => ['--tls-verify=false', '--creds', `${registry!.username}:not-the-password`] };
      const error = await rejection(skopeoListTags(wrong, 'harness/app'));
      assert.instance(error, SkopeoError);
      assert.match((error as SkopeoError).stderr, /401|unauthorized|authentication required/i);
    });
  }

  modeSuite('stop() ends the registry process and removes its files', async ({ registry }) => {
    const other = await startRegistry({ auth: mode });
    assert.ok(isRunning(other.pid), 'registry should run before stop()');
    await other.stop();
    assert.not.ok(isRunning(other.pid), `registry pid ${other.pid} still runs after stop()`);
    assert.not.ok(existsSync(other.dockerConfigDir), 'temp files should be removed');
    await other.stop(); // a second stop is harmless
    assert.ok(isRunning(registry!.pid), 'stopping one registry must not touch another');
  });

  modeSuite.run();
}

const tokenSuite = suite<{ registry?: TestRegistry }>('token server', {});
tokenSuite.before(async (context) => {
  context.registry = await startRegistry({ auth: 'token' });
  await seedImage(context.registry, { repo: 'harness/shared', tag: 'base' });
});
tokenSuite.after(async (context) => {
  await context.registry?.stop();
});

tokenSuite('a read-only user can pull but cannot push', async ({ registry }) => {
  const reader = registry!.reader!;
  const asReader = { ...registry!, skopeoArgs: (role?: 'src' | 'dest') => [`--${role ? `${role}-` : ''}tls-verify=false`, `--${role ? `${role}-` : ''}creds`, `${reader.username}:${reader.password}`] };
  assert.equal(await skopeoListTags(asReader, 'harness/shared'), ['base']);
  const error = await rejection(seedImage(asReader, { repo: 'harness/shared', tag: 'pushed-by-reader' }));
  assert.instance(error, SkopeoError);
  assert.match((error as SkopeoError).stderr, /denied|unauthorized|401|403/i);
  assert.equal(await skopeoListTags(registry!, 'harness/shared'), ['base']);
});

tokenSuite('GET grants the intersection of the requested scopes and the user rights', async ({ registry }) => {
  const server = registry!.tokenServer!;
  const reader = registry!.reader!;
  const url = `${server.realm}?service=${server.service}&scope=${encodeURIComponent('repository:harness/shared:pull,push,delete')}&scope=${encodeURIComponent('registry:catalog:*')}`;
  const response = await fetch(url, { headers: { authorization: basicHeader(reader.username, reader.password) } });
  assert.is(response.status, 200);
  const body = (await response.json()) as { token: string; access_token: string; expires_in: number };
  assert.is(body.token, body.access_token);
  const claims = decodeJwtPayload(body.token);
  assert.is(claims.aud, server.service);
  assert.is(claims.iss, server.issuer);
  assert.is(claims.sub, reader.username);
  assert.equal(claims.access, [
    { type: 'repository', name: 'harness/shared', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: [] },
  ]);
});

tokenSuite('GET refuses a wrong password with 401 and records the attempt without the secret', async ({ registry }) => {
  const server = registry!.tokenServer!;
  const before = server.requests.length;
  const response = await fetch(`${server.realm}?service=${server.service}&scope=repository:harness/shared:pull`, {
    headers: { authorization: basicHeader(registry!.username!, 'wrong-password') },
  });
  await response.arrayBuffer();
  assert.is(response.status, 401);
  assert.is(server.requests.length, before + 1);
  assert.is(server.requests.at(-1)?.status, 401);
  assert.not.ok(JSON.stringify(server.requests).includes('wrong-password'));
});

tokenSuite('POST password grant with access_type=offline returns a refresh token that later works', async ({ registry }) => {
  const server = registry!.tokenServer!;
  const post = (fields: Record<string, string>): Promise<Response> =>
    fetch(server.realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const first = await post({
    grant_type: 'password', service: server.service, client_id: 'regplan-test', access_type: 'offline',
    scope: 'repository:harness/shared:pull', username: registry!.username!, password: registry!.password!,
  });
  assert.is(first.status, 200);
  const firstBody = (await first.json()) as { access_token: string; refresh_token?: string; scope: string };
  assert.ok(firstBody.refresh_token, 'offline access should return a refresh token');
  assert.is(firstBody.scope, 'repository:harness/shared:pull');

  const refreshed = await post({ grant_type: 'refresh_token', service: server.service, client_id: 'regplan-test', refresh_token: firstBody.refresh_token!, scope: 'repository:harness/shared:pull' });
  assert.is(refreshed.status, 200);
  const { access_token: token } = (await refreshed.json()) as { access_token: string };
  const tags = await fetch(`http://${registry!.host}/v2/harness/shared/tags/list`, { headers: { authorization: `Bearer ${token}` } });
  assert.is(tags.status, 200);
  assert.equal(await tags.json(), { name: 'harness/shared', tags: ['base'] });

  const badRefresh = await post({ grant_type: 'refresh_token', service: server.service, client_id: 'regplan-test', refresh_token: 'made-up' });
  await badRefresh.arrayBuffer();
  assert.is(badRefresh.status, 401);
});

tokenSuite('the registry refuses a token whose grant lacks the needed action', async ({ registry }) => {
  const server = registry!.tokenServer!;
  const reader = registry!.reader!;
  const response = await fetch(`${server.realm}?service=${server.service}&scope=repository:harness/shared:pull,delete`, {
    headers: { authorization: basicHeader(reader.username, reader.password) },
  });
  const { token } = (await response.json()) as { token: string };
  const digest = await skopeoDigest(registry!, 'harness/shared', 'base');
  const deletion = await fetch(`http://${registry!.host}/v2/harness/shared/manifests/${digest}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  await deletion.arrayBuffer();
  assert.is(deletion.status, 401);
  assert.match(deletion.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  assert.is(await skopeoDigest(registry!, 'harness/shared', 'base'), digest);
});

tokenSuite.run();

const layoutSuite = suite('test image layouts');

layoutSuite('the same options always build the same digest; content and created change it', () => {
  const a = buildTestImage({ content: 'x' });
  assert.is(buildTestImage({ content: 'x' }).descriptor.digest, a.descriptor.digest);
  assert.is.not(buildTestImage({ content: 'y' }).descriptor.digest, a.descriptor.digest);
  assert.is.not(buildTestImage({ content: 'x', created: new Date(DEFAULT_CREATED.getTime() + 1000) }).descriptor.digest, a.descriptor.digest);
});

layoutSuite('several platforms make an index whose manifests carry their platform', () => {
  const image = buildTestImage({ platforms: ['linux/amd64', 'linux/arm/v7'] });
  assert.is(image.descriptor.mediaType, 'application/vnd.oci.image.index.v1+json');
  const index = JSON.parse(new TextDecoder().decode(image.blobs.get(image.descriptor.digest)));
  assert.equal(index.manifests.map((m: { platform: unknown }) => m.platform), [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm', variant: 'v7' },
  ]);
  assert.equal(Object.keys(image.platformDigests), ['linux/amd64', 'linux/arm/v7']);
});

layoutSuite.run();

const crashSuite = suite('cleanup after a crash');

crashSuite('a test process that dies with a registry running leaves no registry behind', async () => {
  const registryModule = new URL('./registry.ts', import.meta.url).href;
  const script = `import { startRegistry } from ${JSON.stringify(registryModule)};
const r = await startRegistry({ auth: 'token' });
console.log(JSON.stringify({ pid: r.pid, dir: r.dockerConfigDir }));
throw new Error('test failed on purpose');`;
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (_error, stdout) => resolve(stdout));
  });
  const started = JSON.parse(output.trim()) as { pid: number; dir: string };
  try {
    assert.ok(await eventually(() => !isRunning(started.pid)), `registry pid ${started.pid} survived its test process`);
    assert.not.ok(existsSync(started.dir), 'temp files should be removed');
  } finally {
    if (isRunning(started.pid)) process.kill(started.pid, 'SIGKILL');
    await rm(path.dirname(started.dir), { recursive: true, force: true });
  }
});

crashSuite.run();
