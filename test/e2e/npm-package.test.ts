/**
 * The npm package as users get it: `npm pack` (whose prepack script bundles dist/regplan.cjs), then
 * `npm install -g` of that tarball into a temp prefix. Node never strips types under node_modules, so the
 * installed `regplan` must run the bundle, and print what the sources print.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { node24Path, repoRoot, runProgram, runSource } from '../support/standalone.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'regplan-npm-package-test-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function npm(args: string[]): string {
  const cli = process.env['npm_execpath'];
  const [program, prefix] = cli?.endsWith('.js') ? [process.execPath, [cli]] : ['npm', []];
  const result = spawnSync(program, [...prefix, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
  assert.is(result.status, 0, `npm ${args.join(' ')}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

test('npm package: the installed regplan runs the bundled CLI under Node 24 as the sources do', async () => {
  // The prepack script's progress lines come first on stdout; the JSON report starts at the line "[".
  const report = npm(['pack', '--json', '--pack-destination', scratch]);
  const [packed] = JSON.parse(report.slice(report.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed, 'npm pack made a tarball');
  assert.ok(packed.files.some((f) => f.path === 'dist/regplan.cjs'), 'the tarball carries dist/regplan.cjs');
  const prefix = path.join(scratch, 'global');
  npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', path.join(scratch, packed.filename)]);
  const command = path.join(prefix, 'bin', 'regplan');
  const options = { cwd: scratch, env: { PATH: `${path.dirname(node24Path)}${path.delimiter}${process.env['PATH'] ?? ''}` } };
  const version = await runProgram(command, ['--version'], options);
  assert.is(version.stderr, '');
  assert.is(version.stdout, (await runSource(['--version'])).stdout);
  const config = path.join(repoRoot, 'examples', 'ecr.yaml');
  const [installed, source] = await Promise.all([runProgram(command, ['validate', '-c', config], options), runSource(['validate', '-c', config], { cwd: scratch })]);
  assert.is(installed.code, 0, installed.stdout + installed.stderr);
  assert.equal(installed, source);
});

test.run();
