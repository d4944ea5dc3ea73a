/**
 * `regplan login` / `regplan logout` against the real distribution registry (htpasswd Basic auth and token auth),
 * run in-process: a login the registry accepts is saved where docker would save it and later commands use it; a
 * refused one writes nothing; with `credsStore` the helper gets the secret and config.json never does. The
 * registry's password and a canary must never show in any output.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { decodeAuthField } from '../../src/credentials/docker-config.ts';
import { startRegistry, type RegistryAuthMode, type TestRegistry } from '../harness/registry.ts';
import { seedImage } from '../harness/seed.ts';
import { CANARY, makeFakeHelper, type FakeHelper } from '../support/credentials.ts';
import { captureIo } from '../support/io.ts';

const REPO = 'acme/app';

interface World {
  registry: TestRegistry;
  dir: string;
  /** The Docker config dir the commands use (--docker-config). */
  dockerDir: string;
  configFile: string;
  helper: FakeHelper;
  /** Every stdout and stderr so far, for the leak check. */
  outputs: string[];
  run: (argv: string[], stdin?: string) => Promise<{ code: number; out: string; err: string }>;
  /** `login <host> -u <user> --password-stdin` with `password` on stdin; `--debug` too, so request traces are leak-checked. */
  login: (password: string) => Promise<{ code: number; out: string; err: string }>;
}

const worlds = new Map<RegistryAuthMode, { registry: TestRegistry }>();

async function registryFor(auth: RegistryAuthMode): Promise<TestRegistry> {
  let entry = worlds.get(auth);
  if (entry === undefined) {
    const registry = await startRegistry({ auth });
    await seedImage(registry, { repo: REPO, tag: 'v1.0.0' });
    entry = { registry };
    worlds.set(auth, entry);
  }
  return entry.registry;
}

async function withWorld(auth: RegistryAuthMode, config: unknown, body: (world: World) => Promise<void>): Promise<void> {
  const registry = await registryFor(auth);
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-login-'));
  const helper = await makeFakeHelper('test', {});
  const dockerDir = path.join(dir, 'docker');
  const configFile = path.join(dockerDir, 'config.json');
  if (config !== undefined) {
    await mkdir(dockerDir, { mode: 0o700 });
    await writeFile(configFile, typeof config === 'string' ? config : JSON.stringify(config, null, '\t'), { mode: 0o600 });
  }
  const planConfig = path.join(dir, 'registry.config.yaml');
  await writeFile(planConfig, ['version: 1', 'repos:', `  - repo: ${registry.host}/${REPO}`, '    cleanup:', "      keep: [{ tags: '^v' }]", ''].join('\n'));
  const outputs: string[] = [];
  const run = async (argv: string[], stdin?: string) => {
    const io = {
      ...captureIo({ HOME: dir, PATH: helper.path, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir),
      ...(stdin === undefined ? {} : { readStdin: async () => stdin }),
    };
    const code = await runCli(['--docker-config', dockerDir, '-c', planConfig, ...argv], io);
    outputs.push(io.out(), io.err());
    return { code, out: io.out(), err: io.err() };
  };
  const world: World = {
    registry, dir, dockerDir, configFile, helper, outputs, run,
    login: (password) => run(['--debug', 'login', registry.host, '-u', registry.username!, '--password-stdin'], `${password}\n`),
  };
  try {
    await body(world);
    for (const text of outputs) {
      assert.not.match(text, registry.password!, 'the registry password never shows');
      assert.not.match(text, CANARY, 'the canary never shows');
    }
  } finally {
    await helper.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

const login = suite('regplan login / logout on the real registry');
login.after(async () => {
  for (const { registry } of worlds.values()) await registry.stop();
});

for (const auth of ['basic', 'token'] as const) {
  login(`${auth}: the right password is saved as auths[host].auth (0600, other content kept) and plan uses it; logout erases it`, async () => {
    await withWorld(auth, { psFormat: 'table {{.ID}}', auths: { 'other.example.com': { auth: 'YTpi' } } }, async (world) => {
      const host = world.registry.host;
      const before = await world.run(['plan']);
      assert.is(before.code, 1, 'without a login the registry refuses the plan');
      const done = await world.login(world.registry.password!);
      assert.is(done.code, 0, done.err);
      assert.is(done.out, 'Login Succeeded\n');
      assert.match(done.err, `saved in auths["${host}"] in ${world.configFile}`);
      const written = JSON.parse(await readFile(world.configFile, 'utf8'));
      assert.equal(decodeAuthField(written.auths[host].auth, 'test'), { username: world.registry.username, password: world.registry.password });
      assert.is(written.psFormat, 'table {{.ID}}');
      assert.equal(written.auths['other.example.com'], { auth: 'YTpi' });
      assert.is((await stat(world.configFile)).mode & 0o777, 0o600);
      if (auth === 'token') assert.ok(world.registry.tokenServer!.requests.some((r) => r.status === 200 && r.scopes.length === 0 && r.account === world.registry.username), 'checked with a token for no scope');
      const detect = await world.run(['detect', `${host}/${REPO}`]);
      assert.match(detect.out, `auths["${host}"] in ${world.configFile} (basic auth)`);
      const plan = await world.run(['plan']);
      assert.is(plan.code, 0, plan.err);
      assert.match(plan.out, 'v1.0.0');
      const out = await world.run(['logout', host]);
      assert.is(out.code, 0, out.err);
      assert.is(out.out, `Removing login credentials for ${host}\n`);
      const after = JSON.parse(await readFile(world.configFile, 'utf8'));
      assert.equal(after, { psFormat: 'table {{.ID}}', auths: { 'other.example.com': { auth: 'YTpi' } } });
      assert.is((await world.run(['plan'])).code, 1, 'after logout the registry refuses again');
      const again = await world.run(['logout', host]);
      assert.is(again.code, 0);
      assert.is(again.out, `Not logged in to ${host}\n`);
    });
  });

  login(`${auth}: a wrong password exits 1 and leaves config.json byte-identical`, async () => {
    const original = '{\n  "auths": {"other.example.com": {"auth": "YTpi"}},\n  "psFormat": "x"\n}\n';
    await withWorld(auth, original, async (world) => {
      const before = await stat(world.configFile);
      const refused = await world.login(CANARY);
      assert.is(refused.code, 1, refused.err);
      assert.is(refused.out, '');
      assert.match(refused.err, `cannot log in to ${world.registry.host} as "${world.registry.username}"`);
      assert.match(refused.err, 'nothing was saved');
      assert.is(await readFile(world.configFile, 'utf8'), original);
      assert.is((await stat(world.configFile)).mtimeMs, before.mtimeMs);
    });
  });
}

login('basic: with credsStore the fake helper receives store, config.json gets no auth, plan reads it back; logout erases it there', async () => {
  await withWorld('basic', { credsStore: 'test', psFormat: 'x' }, async (world) => {
    const host = world.registry.host;
    const done = await world.login(world.registry.password!);
    assert.is(done.code, 0, done.err);
    assert.is(done.out, 'Login Succeeded\n');
    assert.equal(await world.helper.stored(), [{ ServerURL: host, Username: world.registry.username!, Secret: world.registry.password! }]);
    const text = await readFile(world.configFile, 'utf8');
    assert.equal(JSON.parse(text), { credsStore: 'test', psFormat: 'x', auths: { [host]: {} } });
    assert.not.match(text, world.registry.password!);
    const plan = await world.run(['plan']);
    assert.is(plan.code, 0, plan.err);
    const out = await world.run(['logout', host]);
    assert.is(out.out, `Removing login credentials for ${host}\n`);
    assert.equal(await world.helper.erased(), [host]);
    assert.equal(await world.helper.stored(), []);
    assert.equal(JSON.parse(await readFile(world.configFile, 'utf8')), { credsStore: 'test', psFormat: 'x', auths: {} });
    assert.is((await world.run(['plan'])).code, 1, 'after logout the registry refuses again');
  });
});

login('a password on the command line is refused (exit 2) without echoing it; no config is written', async () => {
  await withWorld('basic', undefined, async (world) => {
    const refused = await world.run(['login', world.registry.host, '-u', 'someone', '-p', CANARY]);
    assert.is(refused.code, 2);
    assert.match(refused.err, '--password-stdin');
    const noStdinFlag = await world.run(['login', world.registry.host, '-u', 'someone'], CANARY);
    assert.is(noStdinFlag.code, 2);
    const noUser = await world.run(['login', world.registry.host, '--password-stdin'], CANARY);
    assert.is(noUser.code, 2);
    assert.match(noUser.err, '-u/--username');
    assert.is(await stat(world.configFile).then(() => 'exists', () => 'missing'), 'missing');
  });
});

login.run();
