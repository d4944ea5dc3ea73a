/** `regplan export-policy` in process: per repo the verdict, rule-by-rule limitations, the policy, and flag errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from './main.ts';
import { captureIo } from '../../test/support/io.ts';

const CONFIG = [
  'version: 1',
  'settings: { grace: 2h }',
  'policies:',
  '  releases:',
  "    keep: [{ tags: '^v' }, { pushedWithin: 14d }]",
  '  versions:',
  "    keep: [{ tags: '^v' }, { semver: { latestPerMinor: 2 } }]",
  'repos:',
  '  - repo: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/api',
  '    cleanup: releases',
  '  - repo: registry.gitlab.com/acme/web',
  '    cleanup: versions',
  '  - repo: ghcr.io/acme/tool',
  '    cleanup: releases',
  '',
].join('\n');

async function run(...argv: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'regplan-export-'));
  try {
    writeFileSync(path.join(dir, 'registry.config.yaml'), CONFIG);
    const io = captureIo({ HOME: dir, PATH: '' }, dir);
    const code = await runCli(['-c', path.join(dir, 'registry.config.yaml'), ...argv], io);
    return { code, out: io.out(), err: io.err() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('text: the ECR policy with its notes, GitLab UNSAFE with the semver rule named, GHCR without a language', async () => {
  const r = await run('export-policy');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/api (ECR lifecycle policy): exported (safe subset)');
  assert.match(r.out, '"tagPatternList": [');
  assert.match(r.out, 'registry.gitlab.com/acme/web (GitLab project cleanup policy): UNSAFE: no policy printed');
  assert.match(r.out, /- keep\[1\] semver: keeps the newest versions per major\/minor .* -> no policy exported/);
  assert.match(r.out, 'ghcr.io/acme/tool (github): no server-side lifecycle language');
  assert.match(r.out, 'Export: 1 exported, 1 unsafe, 1 without a lifecycle language.');
});

test('--repo selects repos; --format json prints the exports as data', async () => {
  const r = await run('export-policy', '--repo', 'registry.gitlab.com/*', '--format', 'json');
  assert.is(r.code, 0, r.err);
  const { exports } = JSON.parse(r.out) as { exports: { repo: string; status: string }[] };
  assert.equal(exports.map((e) => [e.repo, e.status]), [['registry.gitlab.com/acme/web', 'unsafe']]);
});

test('a bad --format or a --repo matching nothing is a usage error naming the flag', async () => {
  const format = await run('export-policy', '--format', 'yaml');
  assert.is.not(format.code, 0);
  assert.match(format.err, '--format must be text or json');
  const repo = await run('export-policy', '--repo', 'nope/*');
  assert.is.not(repo.code, 0);
  assert.match(repo.err, '--repo "nope/*" matches no repo');
});

test.run();
