import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './main.ts';
import { captureIo } from '../../test/support/io.ts';
import { basicAuth, CANARY, makeFakeHelper } from '../../test/support/credentials.ts';
import { decodeAuthField } from '../credentials/docker-config.ts';
import { lookupCredential } from '../credentials/lookup.ts';

interface Ctx {
  dir: string;
  /** Where this test's job dirs go (TMPDIR), removed afterwards. */
  tmp: string;
  savedTmp: string | undefined;
  /** The user's Docker config dir (DOCKER_CONFIG), with one unrelated login. */
  docker: string;
  env: Record<string, string>;
}

const test = suite<Ctx>('regplan ci-env');

test.before.each((ctx) => {
  ctx.dir = mkdtempSync(path.join(tmpdir(), 'regplan-ci-env-cli-'));
  ctx.tmp = path.join(ctx.dir, 'tmp');
  ctx.docker = path.join(ctx.dir, 'docker');
  mkdirSync(ctx.tmp);
  mkdirSync(path.join(ctx.docker, 'cli-plugins'), { recursive: true });
  writeFileSync(path.join(ctx.docker, 'config.json'), JSON.stringify({ auths: { 'other.example.com': { auth: basicAuth('me', 'pw') } } }));
  ctx.savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = ctx.tmp;
  ctx.env = { HOME: ctx.dir, DOCKER_CONFIG: ctx.docker, PATH: '/usr/bin:/bin' };
});
test.after.each((ctx) => {
  if (ctx.savedTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = ctx.savedTmp;
  rmSync(ctx.dir, { recursive: true, force: true });
});

const GITLAB = { CI_REGISTRY: 'registry.gitlab.com', CI_REGISTRY_IMAGE: 'registry.gitlab.com/acme/api', CI_JOB_TOKEN: 'job-token-1' };
const GITHUB = { GITHUB_ACTOR: 'octocat', GITHUB_TOKEN: 'gh-token-1' };

async function run(argv: string[], env: Record<string, string>) {
  const io = captureIo(env);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** The dir the sh output exports as DOCKER_CONFIG. */
function exportedDir(out: string): string {
  const match = /^export DOCKER_CONFIG="([^"]*)"$/m.exec(out);
  assert.ok(match, `no DOCKER_CONFIG export in:\n${out}`);
  return match[1]!;
}

const configOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
const loginIn = (dir: string, key: string) => decodeAuthField(configOf(dir).auths[key].auth, key);

test('gitlab: prints the exports, and the job config holds the CI login next to the copied ones', async (ctx) => {
  const r = await run(['ci-env', 'gitlab'], { ...ctx.env, ...GITLAB });
  assert.is(r.code, 0, r.err);
  const dir = exportedDir(r.out);
  assert.is(path.dirname(dir), ctx.tmp);
  assert.match(path.basename(dir), /^regplan-docker-config-/);
  assert.is(
    r.out,
    `export DOCKER_CONFIG="${dir}"\nexport REGPLAN_DOCKER_CONFIG="${dir}"\n` +
      '# cleanup uses CI_JOB_TOKEN (as JOB-TOKEN, GitLab 13.12+) in this project only; for other projects set REGPLAN_REPO_GITLAB_TOKEN to a token with api scope\n',
  );
  assert.equal(loginIn(dir, 'registry.gitlab.com'), { username: 'gitlab-ci-token', password: 'job-token-1' });
  assert.equal(loginIn(dir, 'other.example.com'), { username: 'me', password: 'pw' });
  assert.equal(readdirSync(dir), ['config.json'], 'cli-plugins is not copied');
  assert.is((statSync(dir).mode & 0o777).toString(8), '700');
  assert.is((statSync(path.join(dir, 'config.json')).mode & 0o777).toString(8), '600');
  assert.match(r.err, `regplan ci-env: Docker config for this job: ${dir} (a copy of ${ctx.docker}, from $DOCKER_CONFIG)`);
  assert.match(r.err, `logged in to registry.gitlab.com ($CI_REGISTRY) as gitlab-ci-token with $CI_JOB_TOKEN, stored in auths["registry.gitlab.com"]`);
  // The user's own config is untouched.
  assert.equal(Object.keys(JSON.parse(readFileSync(path.join(ctx.docker, 'config.json'), 'utf8')).auths), ['other.example.com']);
});

test('the job config is what regplan itself then reads: lookup and detect find the CI login', async (ctx) => {
  const r = await run(['ci-env', 'gitlab'], { ...ctx.env, ...GITLAB });
  const dir = exportedDir(r.out);
  const found = await lookupCredential({ host: 'registry.gitlab.com', name: 'acme/api' }, { configDir: dir, env: {} });
  assert.equal(found, { username: 'gitlab-ci-token', password: 'job-token-1', source: `auths["registry.gitlab.com"] in ${dir}/config.json` });
  const detect = await run(['detect', 'registry.gitlab.com/acme/api', '-c', path.join(ctx.dir, 'none.yaml')], { ...ctx.env, DOCKER_CONFIG: dir });
  assert.is(detect.code, 0, detect.err);
  assert.match(detect.out, `auths["registry.gitlab.com"] in ${dir}/config.json (basic auth)`);
});

test('a real shell that evals the output gets DOCKER_CONFIG and REGPLAN_REPO_GITHUB_TOKEN', async (ctx) => {
  const r = await run(['ci-env', 'github'], { ...ctx.env, ...GITHUB });
  assert.is(r.code, 0, r.err);
  const shown = execFileSync('/bin/sh', ['-c', `eval "$1"; printf '%s|%s' "$DOCKER_CONFIG" "$REGPLAN_REPO_GITHUB_TOKEN"`, 'sh', r.out], {
    env: { PATH: '/usr/bin:/bin', GITHUB_TOKEN: 'gh-token-1' },
    encoding: 'utf8',
  });
  assert.is(shown, `${exportedDir(r.out)}|gh-token-1`);
  assert.equal(loginIn(exportedDir(r.out), 'ghcr.io'), { username: 'octocat', password: 'gh-token-1' });
});

test('github --registry logs in to docker.pkg.github.com instead of ghcr.io', async (ctx) => {
  const r = await run(['ci-env', 'github', '--registry', 'docker.pkg.github.com'], { ...ctx.env, ...GITHUB });
  assert.is(r.code, 0, r.err);
  const auths = configOf(exportedDir(r.out)).auths;
  assert.ok(auths['docker.pkg.github.com']);
  assert.is(auths['ghcr.io'], undefined);
});

test('--shell powershell and --as-env-file', async (ctx) => {
  const ps = await run(['ci-env', 'github', '--shell', 'powershell'], { ...ctx.env, ...GITHUB });
  assert.is(ps.code, 0, ps.err);
  assert.match(ps.out, /^\$Env:DOCKER_CONFIG = "[^"]+"\n\$Env:REGPLAN_DOCKER_CONFIG = "[^"]+"\n\$Env:REGPLAN_REPO_GITHUB_TOKEN = \$Env:GITHUB_TOKEN\n$/);
  const file = await run(['ci-env', 'github', '--as-env-file'], { ...ctx.env, ...GITHUB });
  assert.is(file.code, 0, file.err);
  assert.match(file.out, /^DOCKER_CONFIG=\S+\nREGPLAN_DOCKER_CONFIG=\S+\n$/);
  assert.match(file.err, 'note: an env file cannot refer to $GITHUB_TOKEN');
  const bad = await run(['ci-env', 'github', '--shell', 'fish'], { ...ctx.env, ...GITHUB });
  assert.is(bad.code, 2);
  assert.match(bad.err, 'unknown --shell "fish"');
});

test('missing CI variables: exit 1, a message naming them, "exit 1" for an eval, and no dir left behind', async (ctx) => {
  const r = await run(['ci-env', 'github'], ctx.env);
  assert.is(r.code, 1);
  assert.is(r.out, 'exit 1\n');
  assert.match(r.err, 'cannot log in to the GitHub registry: GITHUB_ACTOR and GITHUB_TOKEN are not set');
  const envFile = await run(['ci-env', 'gitlab', '--as-env-file'], ctx.env);
  assert.is(envFile.code, 1);
  assert.is(envFile.out, '');
  assert.match(envFile.err, 'CI_REGISTRY (or CI_REGISTRY_IMAGE) and CI_JOB_TOKEN are not set');
  assert.equal(readdirSync(ctx.tmp), []);
});

test('--no-login makes the private copy without any CI variables', async (ctx) => {
  const r = await run(['ci-env', 'gitlab', '--no-login'], ctx.env);
  assert.is(r.code, 0, r.err);
  assert.equal(Object.keys(configOf(exportedDir(r.out)).auths), ['other.example.com']);
  assert.match(r.err, 'no registry login (--no-login)');
});

test('--docker-config picks the source; --use-docker-auth-config starts from $DOCKER_AUTH_CONFIG instead', async (ctx) => {
  const other = path.join(ctx.dir, 'other-docker');
  mkdirSync(other);
  writeFileSync(path.join(other, 'config.json'), JSON.stringify({ auths: { 'flag.example.com': {} } }));
  const flag = await run(['ci-env', 'gitlab', '--docker-config', other], { ...ctx.env, ...GITLAB });
  assert.is(flag.code, 0, flag.err);
  assert.equal(Object.keys(configOf(exportedDir(flag.out)).auths), ['flag.example.com', 'registry.gitlab.com']);
  const authConfig = JSON.stringify({ auths: { 'env.example.com': { auth: basicAuth('e', 'p') } } });
  const env = await run(['ci-env', 'gitlab', '--use-docker-auth-config'], { ...ctx.env, ...GITLAB, DOCKER_AUTH_CONFIG: authConfig });
  assert.is(env.code, 0, env.err);
  assert.equal(Object.keys(configOf(exportedDir(env.out)).auths), ['env.example.com', 'registry.gitlab.com']);
  assert.match(env.err, '(from $DOCKER_AUTH_CONFIG)');
  const broken = await run(['ci-env', 'gitlab', '--use-docker-auth-config'], { ...ctx.env, ...GITLAB, DOCKER_AUTH_CONFIG: '{nope' });
  assert.is(broken.code, 1);
  assert.match(broken.err, 'cannot use $DOCKER_AUTH_CONFIG: not valid JSON');
});

test('a self-hosted GitLab registry gets a hint to set its type; the login goes through a credsStore helper', async (ctx) => {
  const helper = await makeFakeHelper('ci', {});
  try {
    writeFileSync(path.join(ctx.docker, 'config.json'), JSON.stringify({ credsStore: 'ci' }));
    const r = await run(['ci-env', 'gitlab'], { ...ctx.env, PATH: helper.path, CI_REGISTRY_IMAGE: 'gitlab.example.com:5050/g/p', CI_JOB_TOKEN: 'tok' });
    assert.is(r.code, 0, r.err);
    assert.match(r.out, '# gitlab.example.com:5050 is not detected as GitLab: add "registries: {gitlab.example.com:5050: {type: gitlab}}" to the config\n');
    assert.match(r.err, 'stored in docker-credential-ci (credsStore) for "gitlab.example.com:5050"');
    assert.equal(await helper.stored(), [{ ServerURL: 'gitlab.example.com:5050', Username: 'gitlab-ci-token', Secret: 'tok' }]);
    assert.equal(configOf(exportedDir(r.out)).auths, { 'gitlab.example.com:5050': {} });
  } finally {
    await helper.cleanup();
  }
});

test('parallel jobs get separate dirs, each holding only its own login', async (ctx) => {
  const [a, b] = await Promise.all([
    run(['ci-env', 'gitlab'], { ...ctx.env, CI_REGISTRY: 'a.example.com', CI_JOB_TOKEN: 'token-a' }),
    run(['ci-env', 'gitlab'], { ...ctx.env, CI_REGISTRY: 'b.example.com', CI_JOB_TOKEN: 'token-b' }),
  ]);
  assert.is(a.code, 0, a.err);
  assert.is(b.code, 0, b.err);
  const [dirA, dirB] = [exportedDir(a.out), exportedDir(b.out)];
  assert.is.not(dirA, dirB);
  assert.equal(Object.keys(configOf(dirA).auths), ['other.example.com', 'a.example.com']);
  assert.equal(Object.keys(configOf(dirB).auths), ['other.example.com', 'b.example.com']);
  assert.is(loginIn(dirA, 'a.example.com').password, 'token-a');
  assert.is(loginIn(dirB, 'b.example.com').password, 'token-b');
});

test('an unknown CI system or a missing one is a usage error', async (ctx) => {
  const unknown = await run(['ci-env', 'jenkins'], ctx.env);
  assert.is(unknown.code, 2);
  assert.match(unknown.err, 'CI system "jenkins" is not supported');
  const none = await run(['ci-env'], ctx.env);
  assert.is(none.code, 2);
  assert.match(none.err, 'gitlab, github or auto');
});

test('auto: GITLAB_CI=true logs in to the GitLab registry, GITHUB_ACTIONS=true to ghcr.io', async (ctx) => {
  const gitlab = await run(['ci-env', 'auto'], { ...ctx.env, ...GITLAB, GITLAB_CI: 'true' });
  assert.is(gitlab.code, 0, gitlab.err);
  assert.equal(loginIn(exportedDir(gitlab.out), 'registry.gitlab.com'), { username: 'gitlab-ci-token', password: 'job-token-1' });
  assert.match(gitlab.err, 'regplan ci-env: auto: gitlab (GITLAB_CI=true)');
  const github = await run(['ci-env', 'auto'], { ...ctx.env, ...GITHUB, GITHUB_ACTIONS: 'true' });
  assert.is(github.code, 0, github.err);
  assert.equal(loginIn(exportedDir(github.out), 'ghcr.io'), { username: 'octocat', password: 'gh-token-1' });
  assert.match(github.out, 'export REGPLAN_REPO_GITHUB_TOKEN="${GITHUB_TOKEN}"');
});

test('auto outside both CIs (or inside both) is a usage error naming the variables; an eval stops; no dir is made', async (ctx) => {
  const none = await run(['ci-env', 'auto'], { ...ctx.env, ...GITLAB, ...GITHUB, GITLAB_CI: 'false' });
  assert.is(none.code, 2);
  assert.match(none.err, 'Error: regplan ci-env auto: no CI system detected: neither GITLAB_CI nor GITHUB_ACTIONS is "true"');
  assert.match(none.err, 'Hint: auto looks for GITLAB_CI=true (gitlab) or GITHUB_ACTIONS=true (github)');
  assert.is(none.out, 'exit 1\n');
  const both = await run(['ci-env', 'auto'], { ...ctx.env, GITLAB_CI: 'true', GITHUB_ACTIONS: 'true' });
  assert.is(both.code, 2);
  assert.match(both.err, 'both GITLAB_CI and GITHUB_ACTIONS are "true"');
  assert.equal(readdirSync(ctx.tmp), []);
});

test('--as-file writes the lines to a 0600 file instead of stdout, replacing what was there', async (ctx) => {
  const file = path.join(ctx.dir, 'out', 'ci.env');
  mkdirSync(path.dirname(file));
  writeFileSync(file, 'stale content\n', { mode: 0o644 });
  const r = await run(['ci-env', 'gitlab', '--as-file', file], { ...ctx.env, ...GITLAB });
  assert.is(r.code, 0, r.err);
  assert.is(r.out, '');
  const text = readFileSync(file, 'utf8');
  const dir = exportedDir(text);
  assert.ok(text.startsWith(`export DOCKER_CONFIG="${dir}"\nexport REGPLAN_DOCKER_CONFIG="${dir}"\n# cleanup uses CI_JOB_TOKEN`), text);
  assert.is((statSync(file).mode & 0o777).toString(8), '600');
  assert.equal(readdirSync(path.dirname(file)), ['ci.env'], 'no temp file is left next to it');
  assert.match(r.err, `regplan ci-env: wrote the variables to ${file} (0600)`);
  const shown = execFileSync('/bin/sh', ['-c', '. "$1"; printf %s "$DOCKER_CONFIG"', 'sh', file], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  assert.is(shown, dir);
});

test('--as-file $GITHUB_ENV keeps earlier steps\' lines and adds K=V lines; --shell there is a usage error', async (ctx) => {
  const githubEnv = path.join(ctx.dir, 'github_env');
  writeFileSync(githubEnv, 'EARLIER=1');
  const env = { ...ctx.env, ...GITHUB, GITHUB_ACTIONS: 'true', GITHUB_ENV: githubEnv };
  const r = await run(['ci-env', 'auto', '--as-file', githubEnv], env);
  assert.is(r.code, 0, r.err);
  const lines = readFileSync(githubEnv, 'utf8').split('\n');
  assert.is(lines[0], 'EARLIER=1');
  assert.match(lines[1]!, /^DOCKER_CONFIG=\//);
  assert.match(lines[2]!, /^REGPLAN_DOCKER_CONFIG=\//);
  assert.match(r.err, `added the variables to ${githubEnv}`);
  assert.match(r.err, 'an env file cannot refer to $GITHUB_TOKEN');
  const shell = await run(['ci-env', 'github', '--as-file', githubEnv, '--shell', 'sh'], env);
  assert.is(shell.code, 2);
  assert.match(shell.err, 'is $GITHUB_ENV, which takes K=V lines, not --shell sh');
  assert.is(readFileSync(githubEnv, 'utf8').split('\n').length, lines.length, 'the refused run wrote nothing');
});

test('the canary: no token ever appears on stdout or stderr, on success or failure', async (ctx) => {
  const forms = [CANARY, basicAuth('gitlab-ci-token', CANARY), basicAuth('octocat', CANARY), Buffer.from(CANARY).toString('base64')];
  const leaky = await makeFakeHelper('leaky', {}, { storeFails: `cannot store ${CANARY}` });
  const outputs: string[] = [];
  try {
    const authConfig = JSON.stringify({ auths: { 'env.example.com': { auth: basicAuth('e', CANARY) } } });
    const runs = [
      await run(['ci-env', 'gitlab', '--debug'], { ...ctx.env, ...GITLAB, CI_JOB_TOKEN: CANARY }),
      await run(['ci-env', 'github', '--debug'], { ...ctx.env, ...GITHUB, GITHUB_TOKEN: CANARY }),
      await run(['ci-env', 'github', '--as-env-file'], { ...ctx.env, ...GITHUB, GITHUB_TOKEN: CANARY }),
      await run(['ci-env', 'github', '--shell', 'powershell'], { ...ctx.env, ...GITHUB, GITHUB_TOKEN: CANARY }),
      await run(['ci-env', 'gitlab', '--use-docker-auth-config', '--debug'], { ...ctx.env, ...GITLAB, CI_JOB_TOKEN: CANARY, DOCKER_AUTH_CONFIG: authConfig }),
      await run(['ci-env', 'gitlab', '--use-docker-auth-config'], { ...ctx.env, ...GITLAB, DOCKER_AUTH_CONFIG: `{"auths": ${CANARY}` }),
    ];
    writeFileSync(path.join(ctx.docker, 'config.json'), JSON.stringify({ credsStore: 'leaky' }));
    runs.push(await run(['ci-env', 'gitlab', '--debug'], { ...ctx.env, ...GITLAB, PATH: leaky.path, CI_JOB_TOKEN: CANARY }));
    assert.equal(runs.map((r) => r.code), [0, 0, 0, 0, 0, 1, 1]);
    for (const r of runs) outputs.push(r.out, r.err);
  } finally {
    await leaky.cleanup();
  }
  for (const text of outputs) for (const form of forms) assert.not.ok(text.includes(form), `output leaks the canary:\n${text}`);
});

test.run();
