/**
 * A Harbor (and a plain registry) that echo credentials back in their error bodies — the decoded Basic pair, the
 * raw Authorization header, the password, the bearer token — driven through the CLI in process: the canary must
 * never reach stdout, stderr, the plan file or the journal, with --debug or without.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { startHarborEmulator } from '../emulators/harbor.ts';
import { captureIo } from '../support/io.ts';
import { cleanupScenarioConfig, seedCleanupScenario } from '../support/cleanup-scenario.ts';

const USER = 'harboruser';
const REPO = 'acme/team/app';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const leakForms = (canary: string): string[] => [canary, `${USER}:${canary}`, Buffer.from(`${USER}:${canary}`).toString('base64').replace(/=+$/, ''), Buffer.from(canary).toString('base64').replace(/=+$/, '')];

function assertClean(canary: string, what: string, text: string): void {
  for (const form of leakForms(canary)) assert.not.ok(text.includes(form), `${what} leaks ${form}:\n${text}`);
}

/** What a request's credentials look like when echoed: the decoded Basic pair, the header, the password or token. */
function echo(req: IncomingMessage): string {
  const header = req.headers.authorization ?? '';
  const value = header.replace(/^\S+\s+/, '');
  const decoded = /^basic /i.test(header) ? Buffer.from(value, 'base64').toString('utf8') : value;
  return `credentials ${decoded} rejected (Authorization: ${header}; secret ${decoded.slice(decoded.indexOf(':') + 1)})`;
}

async function workDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-canary-e2e-'));
  dirs.push(dir);
  return dir;
}

async function runIn(dir: string, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache'), ...env }, dir);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const filesText = async (dir: string, names: string[]): Promise<string> =>
  (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8').catch(() => '')))).join('\n');

test('Harbor echoing the credentials on every delete: apply fails, and no output, plan or journal holds them', async () => {
  const canary = `CANARY-harbor-apply-${Math.random().toString(36).slice(2)}`;
  const harbor = await startHarborEmulator({
    users: { [USER]: canary },
    fault: (req) => (req.method === 'DELETE' ? { status: 412, code: 'PRECONDITION', message: echo(req) } : undefined),
  });
  try {
    seedCleanupScenario(harbor.store, REPO);
    const dir = await workDir();
    const config = cleanupScenarioConfig({ host: harbor.host, type: 'harbor', api: harbor.apiBase, repo: REPO }).replace(
      `  "${harbor.host}": { type: harbor, api: "${harbor.apiBase}" }`,
      `  "${harbor.host}": { type: harbor, api: "${harbor.apiBase}", credentials: { username: { env: HARBOR_USER }, password: { file: ./harbor-password } } }`,
    );
    assert.ok(config.includes('harbor-password'));
    await writeFile(path.join(dir, 'registry.config.yaml'), config);
    await writeFile(path.join(dir, 'harbor-password'), `${canary}\n`);
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [harbor.host]: { auth: Buffer.from(`${USER}:${canary}`).toString('base64') } } }));
    const env = { HARBOR_USER: USER };

    const planned = await runIn(dir, ['plan', '--out', 'plan.json'], env);
    assert.is(planned.code, 0, planned.err);
    for (const debug of [[], ['--debug']]) {
      const applied = await runIn(dir, [...debug, 'apply', 'plan.json'], env);
      assert.is(applied.code, 1, applied.out + applied.err);
      assert.match(applied.out, /failed\s+.*HTTP 412 PRECONDITION "credentials /, 'the echo reached the report (so this test can fail)');
      assertClean(canary, `apply ${debug.join(' ')}`, applied.out + applied.err);
    }
    const saved = await filesText(dir, ['plan.json', 'plan.json.journal.jsonl']);
    assert.match(saved, /credentials .* rejected/, 'the journal quotes the echo');
    assertClean(canary, 'plan file and journal', saved);
  } finally {
    await harbor.stop();
  }
});

test('Harbor echoing the credentials when listing: plan fails with a clean error, --debug or not', async () => {
  const canary = `CANARY-harbor-plan-${Math.random().toString(36).slice(2)}`;
  const harbor = await startHarborEmulator({ users: { [USER]: canary }, fault: (req) => ({ status: 500, code: 'UNKNOWN', message: echo(req) }) });
  try {
    seedCleanupScenario(harbor.store, REPO);
    const dir = await workDir();
    await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: harbor.host, type: 'harbor', api: harbor.apiBase, repo: REPO }));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), '{"auths":{}}');
    for (const argv of [['plan', '--out', 'plan.json'], ['--debug', 'plan', '--json'], ['--repo-harbor-username', USER, '--repo-harbor-password', canary, 'plan']]) {
      const env = argv.includes('--repo-harbor-password') ? {} : { REGPLAN_REPO_HARBOR_USERNAME: USER, REGPLAN_REPO_HARBOR_PASSWORD: canary };
      const planned = await runIn(dir, argv, env);
      assert.is(planned.code, 1, planned.out + planned.err);
      assert.match(planned.err, /HTTP 500 "credentials /, 'the echo reached the error (so this test can fail)');
      assertClean(canary, argv.join(' '), planned.out + planned.err + (await filesText(dir, ['plan.json'])));
    }
  } finally {
    await harbor.stop();
  }
});

/** A registry that challenges for credentials, then echoes whatever it is sent (the token server echoes its form). */
async function echoingRegistry(scheme: 'Basic' | 'Bearer'): Promise<{ host: string; stop: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const host = req.headers.host ?? '';
      if (req.url?.startsWith('/token')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: `refresh denied: ${decodeURIComponent(body)} ${echo(req)}` }] }));
        return;
      }
      if (req.headers.authorization === undefined) {
        const challenge = scheme === 'Basic' ? 'Basic realm="registry"' : `Bearer realm="http://${host}/token",service="echo",scope="repository:${REPO}:pull"`;
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': challenge });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: echo(req) }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

for (const kind of ['auth', 'registrytoken', 'identitytoken'] as const) {
  test(`a registry echoing the Docker login (${kind}) in its errors: the plan error does not show it`, async () => {
    const canary = `CANARY-${kind}-${Math.random().toString(36).slice(2)}`;
    const registry = await echoingRegistry(kind === 'auth' ? 'Basic' : 'Bearer');
    try {
      const dir = await workDir();
      await writeFile(path.join(dir, 'registry.config.yaml'), cleanupScenarioConfig({ host: registry.host, type: 'default', api: 'unused', repo: REPO }).replace(', api: "unused"', ''));
      await mkdir(path.join(dir, 'docker'));
      const entry = kind === 'auth' ? { auth: Buffer.from(`${USER}:${canary}`).toString('base64') } : { [kind]: canary };
      await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [registry.host]: entry } }));
      for (const argv of [['plan'], ['--debug', 'plan']]) {
        const planned = await runIn(dir, argv);
        assert.is(planned.code, 1, planned.out + planned.err);
        assert.match(planned.err, /(credentials .* rejected|refresh denied)/, `the echo reached the error (so this test can fail): ${planned.err}`);
        assertClean(canary, `${kind}: ${argv.join(' ')}`, planned.out + planned.err);
      }
    } finally {
      await registry.stop();
    }
  });
}

test.run();
