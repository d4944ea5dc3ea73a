import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { copyDemoLayout, removeTempDirs } from '../../test/support/oci-layout.ts';
import { runCli } from './main.ts';
import { globToRegExp } from '../plan/make-plan.ts';
import { parsePlanArgs } from './plan.ts';
import { progressLine } from './planning-context.ts';

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await removeTempDirs();
});

async function configDir(yaml: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-plan-cli-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'registry.config.yaml'), yaml);
  return dir;
}

test('cleanup on GitHub without a token stops the plan before any request, naming the flag and env var', async () => {
  const dir = await configDir(
    ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup: ci', ''].join('\n'),
  );
  const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') }, dir);
  assert.is(await runCli(['plan'], io), 1);
  assert.match(io.err(), 'Error: cannot clean up "ghcr.io/acme/api": GitHub Packages deletes only through the GitHub API, and no GitHub token is set');
  assert.match(io.err(), /Hint: create a classic personal access token with read:packages and delete:packages and pass it as --repo-github-token or REGPLAN_REPO_GITHUB_TOKEN/);
  assert.is(io.out(), '');
});

test('--repo GLOB restricts the plan to matching repos', async () => {
  const layout = await copyDemoLayout();
  const other = await copyDemoLayout();
  const dir = path.dirname(layout);
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^pr-' }", 'repos:', `  - repo: oci:${layout}`, '    cleanup: ci', `  - repo: oci:${other}`, '    cleanup: ci', ''].join('\n'),
  );
  const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') }, dir);
  assert.is(await runCli(['plan', '--json', '--repo', `oci:${layout}`], io), 0, io.err());
  const plan = JSON.parse(io.out()) as { actions: { repo: string }[] };
  assert.ok(plan.actions.length > 0);
  assert.equal([...new Set(plan.actions.map((a) => a.repo))], [`oci:${layout}`]);
});

test('--repo GLOB matching no configured repo is a usage error naming the glob and the configured repos', async () => {
  const layout = await copyDemoLayout();
  const dir = path.dirname(layout);
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^pr-' }", 'repos:', `  - repo: oci:${layout}`, '    cleanup: ci', ''].join('\n'),
  );
  const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') }, dir);
  assert.is(await runCli(['plan', '--repo', 'nomatch/*'], io), 2);
  assert.match(io.err(), 'Error: --repo "nomatch/*" matches no repo in the config');
  assert.match(io.err(), `Hint: the config's repos: oci:${layout}`);
  assert.not.match(io.out(), 'No changes');
});

test('-c with a missing file says the file is missing, with no line numbers', async () => {
  const dir = await configDir('version: 1\n');
  const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') }, dir);
  assert.is(await runCli(['-c', 'missing.yaml', 'plan'], io), 1);
  assert.is(io.err(), [
    `Error: ${path.join(dir, 'missing.yaml')}: config file not found`,
    'Hint: create one, see examples/ or set -c/REGPLAN_CONFIG',
    '',
  ].join('\n'));
  assert.is(io.out(), '');
});

test('globs: * and ? are wildcards, everything else is literal', () => {
  assert.ok(globToRegExp('ghcr.io/acme/*').test('ghcr.io/acme/api'));
  assert.not.ok(globToRegExp('ghcr.io/acme/*').test('ghcrxio/acme/api'));
  assert.ok(globToRegExp('quay.io/a?c/x').test('quay.io/abc/x'));
});

test('plan flags: --json and --format markdown contradict; an unknown format is a usage error naming the flag', () => {
  assert.throws(() => parsePlanArgs(['--json', '--format', 'markdown']), /contradict/);
  assert.throws(() => parsePlanArgs(['--format', 'yaml']), /--format must be human, json or markdown, not "yaml"/);
  assert.equal(parsePlanArgs(['--repo', 'a', '--repo', 'b']).repoGlobs, ['a', 'b']);
});

test('the progress line is drawn only on a terminal and cleared at the end', () => {
  const quiet = captureIo();
  assert.is(progressLine(quiet, true).progress, undefined);
  const tty = { ...captureIo(), stderrIsTTY: true };
  let written = '';
  tty.stderr = (text: string) => void (written += text);
  const line = progressLine(tty, true);
  line.progress?.({ repo: 'oci:./x', done: 3, total: 10 });
  line.done();
  assert.match(written, 'reading oci:./x: 3/10 tags');
  assert.ok(written.endsWith('\r\u001b[2K'), 'the line is erased before the plan prints');
  assert.is(progressLine(tty, false).progress, undefined, '--json turns it off');
});

test.run();
