/**
 * The standalone binary (dist/regplan, built by `npm run build`) runs with no `node` on PATH and prints what
 * the sources print. CI builds the binary before the tests; when it is missing these tests fail, never skip.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OciLayout } from '../../src/layout/store.ts';
import { copyDemo, removeTempDirs } from '../support/oci-layout.ts';
import { nodeFreePath, repoRoot, requireBinary, runBinary, runProgram, runSource } from '../support/standalone.ts';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const examples = readdirSync(path.join(repoRoot, 'examples')).filter((f) => /\.ya?ml$/.test(f)).sort();
const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-binary-test-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

test('dist/regplan exists (run npm run build when this fails)', () => {
  requireBinary();
});

test('the PATH the binary runs with has no node on it, so the binary cannot lean on one', async () => {
  const which = await runProgram('/bin/sh', ['-c', 'command -v node || echo none'], { env: { PATH: nodeFreePath() } });
  assert.is(which.stdout.trim(), 'none');
});

test('--version prints the package.json version and the embedded Node 24 runtime, marked standalone', async () => {
  const result = await runBinary(['--version']);
  assert.is(result.stderr, '');
  assert.is(result.code, 0);
  assert.match(result.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.\\d+\\.\\d+, standalone\\)\\n$`));
});

test('--help lists the commands and exits 0, exactly as the sources do', async () => {
  const [binary, source] = await Promise.all([runBinary(['--help']), runSource(['--help'])]);
  assert.is(binary.code, 0, binary.stderr);
  assert.match(binary.stdout, /^ {2}validate /m);
  assert.match(binary.stdout, /^ {2}detect /m);
  assert.is(binary.stdout, source.stdout);
});

test('an unknown command is a usage error (exit 2) with the same message as the sources', async () => {
  const [binary, source] = await Promise.all([runBinary(['frobnicate']), runSource(['frobnicate'])]);
  assert.is(binary.code, 2);
  assert.match(binary.stderr, 'unknown command "frobnicate"');
  assert.is(binary.stderr, source.stderr);
});

test('validate accepts every example config (and a minimal one), with the same output as the sources', async () => {
  const minimal = path.join(scratch, 'minimal.yaml');
  writeFileSync(minimal, 'version: 1\n');
  for (const example of [minimal, ...examples.map((f) => path.join(repoRoot, 'examples', f))]) {
    const args = ['validate', '-c', example];
    const [binary, source] = await Promise.all([runBinary(args), runSource(args)]);
    assert.is(binary.code, 0, `${example}: ${binary.stdout}${binary.stderr}`);
    assert.equal(binary, source, example);
  }
});

test('validate reports a broken config as the sources do: same errors, same exit code', async () => {
  const config = path.join(scratch, 'broken.yaml');
  writeFileSync(config, 'version: 2\npolicies:\n  ci:\n    keep: [{ newest: -1 }]\n    untagged: sometimes\n');
  const args = ['validate', '-c', config];
  const [binary, source] = await Promise.all([runBinary(args), runSource(args)]);
  assert.ok(binary.code !== 0, 'a broken config must fail validation');
  assert.match(binary.stdout + binary.stderr, 'broken.yaml');
  assert.equal(binary, source);
});

test('a config file that does not exist is reported, not a crash, as the sources do', async () => {
  const args = ['validate', '-c', path.join(scratch, 'absent.yaml')];
  const [binary, source] = await Promise.all([runBinary(args), runSource(args)]);
  assert.ok(binary.code !== 0);
  assert.not.match(binary.stderr, /\n\s+at /, 'no stack trace without --debug');
  assert.equal(binary, source);
});

/** A temp copy of the demo (config, layout, bundle files). */
async function demo(): Promise<{ dir: string; layout: string; env: Record<string, string> }> {
  const { dir, layout } = await copyDemo();
  return { dir, layout, env: { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache') } };
}

const tagsOf = async (layout: string): Promise<string[]> => [...new Set(await (await OciLayout.open(layout)).listTags())].sort();

test.after(removeTempDirs);

test('plan and apply with the binary: the saved plan matches the sources\' plan, records the --version version, and apply deletes exactly its tags', async () => {
  const { dir, layout, env } = await demo();
  const before = await tagsOf(layout);
  const planned = await runBinary(['plan', '--json', '--out', 'plan.json'], { cwd: dir, env });
  assert.is(planned.code, 0, planned.stderr);
  const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8')) as { regplanVersion: string; createdAt: string; actions: { type: string; tag: string }[] };
  const fromSource = await runSource(['plan', '--json'], { cwd: dir, env });
  assert.equal({ ...JSON.parse(fromSource.stdout), createdAt: '' }, { ...plan, createdAt: '' });
  const version = await runBinary(['--version']);
  assert.ok(version.stdout.startsWith(`regplan ${plan.regplanVersion} (`), `plan records ${plan.regplanVersion}, --version says ${version.stdout}`);
  assert.is(plan.regplanVersion, pkg.version);
  const deleted = plan.actions.filter((a) => a.type === 'delete').map((a) => a.tag).sort();
  assert.ok(deleted.length > 0, 'the demo plan deletes something');

  const applied = await runBinary(['apply', 'plan.json'], { cwd: dir, env });
  assert.is(applied.code, 0, applied.stdout + applied.stderr);
  assert.equal(await tagsOf(layout), before.filter((tag) => !deleted.includes(tag)));
});

test.run();
