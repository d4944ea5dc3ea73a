/**
 * The npm package as a user gets it: `npm pack` (prepack bundles dist/regplan.mjs), then `npm install
 * --omit=dev` of the tarball into a temp prefix, then the installed `regplan` on Node 24 (Node never strips
 * types under node_modules, so the package must run JavaScript). Needs the npm registry for the dependencies
 * (`--prefer-offline` reads npm's cache first); a failed pack or install fails every test here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import type { Plan } from '../../src/plan/types.ts';
import { startEcrEmulator } from '../emulators/ecr.ts';
import { copyDemo, removeTempDirs } from '../support/oci-layout.ts';
import { findOldNode, node24OnlyPath, node24Path, repoRoot, runProgram, runSource, type RunResult } from '../support/standalone.ts';
import { networkEnv } from '../support/network.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-npm-package-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const prefix = path.join(scratch, 'prefix');
const installedBin = path.join(prefix, 'node_modules', '.bin', 'regplan');

/** npm with Node 24 first on PATH and none of the outer `npm test`'s npm_* settings (its prefix, its script). */
function npm(args: string[], timeoutMs: number): Promise<RunResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => !entry[0].startsWith('npm_') && entry[1] !== undefined));
  return runProgram('npm', args, { env: { ...env, ...networkEnv(), PATH: `${path.dirname(node24Path)}${path.delimiter}${process.env['PATH'] ?? ''}` }, timeoutMs });
}

/** Packs and installs once; every test awaits it, so a failure there fails them all. */
const installed: Promise<{ tarball: string }> = (async () => {
  const packed = await npm(['pack', '--pack-destination', scratch], 120_000);
  if (packed.code !== 0) throw new Error(`npm pack exited ${packed.code}\n${packed.stdout}${packed.stderr}`);
  const tarball = path.join(scratch, `regplan-${pkg.version}.tgz`);
  const install = await npm(['install', '--omit=dev', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], 120_000);
  if (install.code !== 0) throw new Error(`npm install exited ${install.code}\n${install.stdout}${install.stderr}`);
  return { tarball };
})();
installed.catch(() => {}); // reported by each test that awaits it

/** Runs the installed `regplan` (its `#!/usr/bin/env node` finds only Node 24). */
async function regplan(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  await installed;
  return runProgram(installedBin, args, { ...options, env: { PATH: node24OnlyPath(), ...options.env } });
}

test.after(removeTempDirs);

test('the tarball holds the launcher, the built bundle, the sources for Deno and the schemas; no binary, no tests', async () => {
  const { tarball } = await installed;
  const listing = await runProgram('tar', ['-tzf', tarball]);
  assert.is(listing.code, 0, listing.stderr);
  const files = listing.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const file of ['package.json', 'README.md', 'bin/regplan.js', 'dist/regplan.mjs', 'src/main.ts', 'schema/regplan.schema.json']) {
    assert.ok(files.includes(file), `${file} is in the package`);
  }
  assert.equal(files.filter((f) => f.startsWith('dist/')), ['dist/regplan.mjs'], 'only the npm bundle from dist/');
  assert.equal(files.filter((f) => f.endsWith('.test.ts') || f.startsWith('test/')), []);
  assert.not.ok(existsSync(path.join(repoRoot, 'dist', 'regplan.mjs')), 'postpack removed the bundle, so a clone runs its sources');
});

test('the install has the runtime dependencies only: no esbuild, typescript or Node runtime package', async () => {
  await installed;
  const modules = readdirSync(path.join(prefix, 'node_modules'));
  for (const dependency of Object.keys(pkg.dependencies)) assert.ok(existsSync(path.join(prefix, 'node_modules', dependency)), dependency);
  for (const dev of Object.keys(pkg.devDependencies)) assert.not.ok(modules.includes(dev), `${dev} (a devDependency) is not installed`);
});

test('installed regplan --version prints the package version on Node 24', async () => {
  const result = await regplan(['--version']);
  assert.is(result.stderr, '');
  assert.is(result.code, 0);
  assert.match(result.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.\\d+\\.\\d+\\)\\n$`));
});

test('installed regplan plan on a copy of the demo prints the plan the sources print', async () => {
  const { dir, config } = await copyDemo();
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache') };
  const human = await regplan(['plan', '-c', config], { cwd: dir, env });
  assert.is(human.code, 0, human.stderr);
  assert.match(human.stdout, /- pr-101 .*no keep rule matched/);
  assert.match(human.stdout, /Plan: \d+ to push, 7 to delete, \d+ kept, 0 skipped\./);
  const [installedJson, sourceJson] = await Promise.all([regplan(['plan', '--json', '-c', config], { cwd: dir, env }), runSource(['plan', '--json', '-c', config], { cwd: dir, env })]);
  assert.is(installedJson.code, 0, installedJson.stderr);
  const blank = (out: string) => ({ ...(JSON.parse(out) as Plan), createdAt: '' });
  assert.equal(blank(installedJson.stdout), blank(sourceJson.stdout));
});

test('installed regplan plans an ECR repo through its own @aws-sdk/client-ecr (a lazy import, not bundled)', async () => {
  await installed;
  const ecr = await startEcrEmulator();
  try {
    ecr.store.seedImage('acme/app', ['v1.0.0'], { pushedAt: new Date(Date.UTC(2025, 0, 1)) });
    ecr.store.seedImage('acme/app', ['pr-1'], { pushedAt: new Date(Date.UTC(2025, 0, 2)) });
    const dir = mkdtempSync(path.join(scratch, 'ecr-'));
    const config = path.join(dir, 'registry.config.yaml');
    writeFileSync(
      config,
      `version: 1\nregistries:\n  "${ecr.host}": { type: ecr, api: "${ecr.api}" }\npolicies:\n  ci: { keep: [{ tags: '^v' }], delete: { tags: '^pr-' } }\nrepos:\n  - { repo: ${ecr.host}/acme/app, cleanup: ci }\n`,
    );
    writeFileSync(path.join(dir, 'docker.json'), '{}');
    const env = {
      HOME: dir,
      REGPLAN_CACHE_DIR: path.join(dir, '.cache'),
      AWS_ACCESS_KEY_ID: ecr.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ecr.credentials.secretAccessKey,
      AWS_REGION: ecr.region,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    };
    const result = await regplan(['plan', '--json', '-c', config], { cwd: dir, env });
    assert.is(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as Plan;
    assert.equal(plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag), ['pr-1']);
    assert.ok(ecr.callsTo('DescribeImages').length >= 1, 'listed through the ECR API');
    assert.ok(readFileSync(path.join(prefix, 'node_modules', 'regplan', 'dist', 'regplan.mjs'), 'utf8').includes('import("@aws-sdk/client-ecr")'));
  } finally {
    await ecr.stop();
  }
});

const oldNode = findOldNode();

(oldNode ? test : test.skip)(`installed regplan on the machine's old Node (${oldNode?.version ?? 'none on PATH'}) prints one line and exits 1`, async () => {
  if (!oldNode) return;
  await installed;
  const result = await runProgram(oldNode.program, [installedBin, 'plan']);
  assert.is(result.code, 1);
  assert.is(result.stdout, '');
  assert.match(result.stderr, /^regplan needs Node\.js 22\.18 or newer \(this is [\d.]+\); use the standalone binary/);
  assert.is(result.stderr.split('\n').length, 2, 'one line');
});

test.run();
