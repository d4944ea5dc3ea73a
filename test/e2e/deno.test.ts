/**
 * The named Deno subset: the same sources run under Deno 2 (`deno run -A src/main.ts`, npm packages from
 * node_modules via deno.json, an empty DENO_DIR and --cached-only, as in CI) and print exactly what Node 24
 * prints. Covers the version, help, config validation on every example, detection and the registry table;
 * the plan/apply/bundle e2e tests join the subset by calling runDeno from test/support/standalone.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OciLayout } from '../../src/layout/store.ts';
import { copyDemo, removeTempDirs } from '../support/oci-layout.ts';
import { denoPath, repoRoot, runDeno, runProgram, runSource, type RunResult } from '../support/standalone.ts';
import { networkEnv } from '../support/network.ts';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const examples = readdirSync(path.join(repoRoot, 'examples')).filter((f) => /\.ya?ml$/.test(f)).sort();
const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-deno-test-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

async function bothRuntimes(args: string[]): Promise<{ deno: RunResult; node: RunResult }> {
  const [deno, node] = await Promise.all([runDeno(args), runSource(args)]);
  return { deno, node };
}

test('--version under Deno prints the package.json version and "deno 2.x"', async () => {
  const { deno, node } = await bothRuntimes(['--version']);
  assert.is(deno.stderr, '');
  assert.is(deno.code, 0);
  assert.match(deno.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(deno 2\\.\\d+\\.\\d+\\)\\n$`));
  assert.is(deno.stdout.replace(/\(deno .*\)/, ''), node.stdout.replace(/\(node .*\)/, ''));
});

test('--help under Deno is the same text as under Node', async () => {
  const { deno, node } = await bothRuntimes(['--help']);
  assert.is(deno.code, 0, deno.stderr);
  assert.match(deno.stdout, /validate/);
  assert.equal(deno, node);
});

test('validate under Deno accepts every example config (and a minimal one) as Node does', async () => {
  const minimal = path.join(scratch, 'minimal.yaml');
  writeFileSync(minimal, 'version: 1\n');
  for (const config of [minimal, ...examples.map((f) => path.join(repoRoot, 'examples', f))]) {
    const { deno, node } = await bothRuntimes(['validate', '-c', config]);
    assert.is(deno.code, 0, `${config}: ${deno.stdout}${deno.stderr}`);
    assert.equal(deno, node, config);
  }
});

test('validate under Deno reports a broken config with the same errors and exit code as Node', async () => {
  const config = path.join(scratch, 'broken.yaml');
  writeFileSync(config, 'version: 2\npolicies:\n  ci:\n    keep: [{ newest: -1 }]\n    untagged: sometimes\n');
  const { deno, node } = await bothRuntimes(['validate', '-c', config]);
  assert.ok(deno.code !== 0, 'a broken config must fail validation');
  assert.match(deno.stdout + deno.stderr, 'broken.yaml');
  assert.equal(deno, node);
});

test('detect under Deno names the same registry type as Node for each kind of address', async () => {
  for (const repo of ['localhost:5000/demo/app', 'ghcr.io/acme/api', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app', 'acme.azurecr.io/web', 'nginx']) {
    const { deno, node } = await bothRuntimes(['detect', repo]);
    assert.is(deno.code, 0, `${repo}: ${deno.stdout}${deno.stderr}`);
    assert.equal(deno, node, repo);
  }
});

test('registries --json under Deno prints the same table as Node', async () => {
  const { deno, node } = await bothRuntimes(['registries', '--json']);
  assert.is(deno.code, 0, deno.stderr);
  JSON.parse(deno.stdout);
  assert.equal(deno, node);
});

test('deno install -g -A -n regplan makes a regplan command that runs from any directory as Node does', async () => {
  // Its own DENO_DIR: install fetches the npm packages into it, which must not help the --cached-only runs above.
  // The machine's way to the npm registry (proxy, extra CA, registry mirror) goes with it.
  const env: Record<string, string> = { ...networkEnv(), DENO_DIR: path.join(scratch, 'install-deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
  const installRoot = path.join(scratch, 'install-root');
  const installed = await runProgram(denoPath, ['install', '-g', '-A', '-n', 'regplan', '--root', installRoot, path.join(repoRoot, 'src', 'main.ts')], { env, timeoutMs: 180_000 });
  assert.is(installed.code, 0, installed.stdout + installed.stderr);
  const command = path.join(installRoot, 'bin', 'regplan');
  // The installed script runs `deno` from PATH, as on a user's machine.
  const options = { cwd: scratch, env: { ...env, PATH: `${path.dirname(denoPath)}${path.delimiter}${process.env['PATH'] ?? ''}` } };
  const version = await runProgram(command, ['--version'], options);
  assert.is(version.stderr, '', 'the installed command runs from what install cached, with no download');
  assert.match(version.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(deno 2\\.\\d+\\.\\d+\\)\\n$`));
  const config = path.join(repoRoot, 'examples', 'ecr.yaml');
  const [deno, node] = await Promise.all([runProgram(command, ['validate', '-c', config], options), runSource(['validate', '-c', config], { cwd: scratch })]);
  assert.is(deno.code, 0, deno.stdout + deno.stderr);
  assert.equal(deno, node);
});

/** A temp copy of the demo (config, layout, bundle files). */
async function demo(): Promise<{ dir: string; layout: string; env: Record<string, string> }> {
  const { dir, layout } = await copyDemo();
  return { dir, layout, env: { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache') } };
}

const tagsOf = async (layout: string): Promise<string[]> => [...new Set(await (await OciLayout.open(layout)).listTags())].sort();

test.after(removeTempDirs);

test('plan under Deno prints the same human plan and the same plan file as Node', async () => {
  const { dir, env } = await demo();
  const [deno, node] = await Promise.all([runDeno(['plan'], { cwd: dir, env }), runSource(['plan'], { cwd: dir, env })]);
  assert.is(deno.code, 0, deno.stderr);
  assert.match(deno.stdout, /Plan: \d+ to push, \d+ to delete, \d+ kept, \d+ skipped\./);
  assert.equal(deno, node);
  const [denoJson, nodeJson] = await Promise.all([runDeno(['plan', '--json'], { cwd: dir, env }), runSource(['plan', '--json'], { cwd: dir, env })]);
  assert.equal({ ...JSON.parse(denoJson.stdout), createdAt: '' }, { ...JSON.parse(nodeJson.stdout), createdAt: '' });
});

test('apply under Deno of a saved plan deletes exactly the planned tags', async () => {
  const { dir, layout, env } = await demo();
  const before = await tagsOf(layout);
  const planned = await runDeno(['plan', '--out', 'plan.json'], { cwd: dir, env });
  assert.is(planned.code, 0, planned.stderr);
  const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as { regplanVersion: string; actions: { type: string; tag: string }[] };
  assert.is(plan.regplanVersion, pkg.version);
  const deleted = plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag).sort();
  assert.ok(deleted.length > 0, 'the demo plan deletes something');
  const applied = await runDeno(['apply', 'plan.json'], { cwd: dir, env });
  assert.is(applied.code, 0, applied.stdout + applied.stderr);
  assert.equal(await tagsOf(layout), before.filter((tag) => !deleted.includes(tag)));
});

test.run();
