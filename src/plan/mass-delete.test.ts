import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { copyDemoLayout, removeTempDirs } from '../../test/support/oci-layout.ts';
import { runCli } from '../cli/main.ts';
import { loadConfig } from '../config/load.ts';
import { describeMassDeletion, guardMassDeletion, MassDeletionError, massDeletions } from './mass-delete.ts';
import type { Plan } from './types.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const del = (repo: string, tag: string) => ({ type: 'delete' as const, repo, tag, digest, mode: 'manifest' as const, reason: 'r' });
const kept = (repo: string, tag: string) => ({ repo, tag, digest, rules: ['x'] });
/** Repo a: 3 deletions of 4 tags; repo b: 1 deletion of 4 tags (one of them skipped). */
const plan = {
  actions: [del('a', '1'), del('a', '2'), del('a', '3'), del('b', '1')],
  kept: [kept('a', 'k'), kept('b', 'k1'), kept('b', 'k2')],
  skipped: [{ repo: 'b', tag: 's', digest, reason: 'shared' }, { repo: 'b', tag: 'push', reason: 'refused bundle push: not a registry tag' }],
} as unknown as Plan;

test('counts per repo against a count and a percentage of the repo (kept, skipped and deleted tags)', () => {
  assert.equal(massDeletions(plan, undefined), []);
  assert.equal(massDeletions(plan, { repo: { count: 3 } }), []);
  assert.equal(massDeletions(plan, { repo: { count: 2 } }), [{ repo: 'a', deletions: 3, size: 4, limit: { count: 2 } }]);
  assert.equal(massDeletions(plan, { repo: { percent: 75 } }), []);
  assert.equal(massDeletions(plan, { repo: { percent: 50 } }).map((m) => m.repo), ['a']);
  assert.equal(massDeletions(plan, { repo: { percent: 20 } }).map((m) => [m.repo, m.size]), [['a', 4], ['b', 4]]);
});

test('the whole plan: deletions against the total count and the share of every repo together', () => {
  assert.equal(massDeletions(plan, { total: { count: 4 } }), []);
  assert.equal(massDeletions(plan, { total: { count: 3 } }), [{ deletions: 4, size: 8, limit: { count: 3 } }]);
  assert.equal(massDeletions(plan, { total: { percent: 50 } }), []);
  assert.equal(describeMassDeletion({ deletions: 4, size: 8, limit: { percent: 40 } }), 'whole plan: 4 deletions of 8 (50%), over maxDeletions total 40%');
  assert.equal(describeMassDeletion({ repo: 'a', deletions: 3, size: 4, limit: { count: 2 } }), 'a: 3 deletions of 4 (75%), over maxDeletions per repo 2');
});

test('the guard throws unless allowed, and then only warns', () => {
  assert.equal(guardMassDeletion(plan, { repo: { count: 5 } }, { allowed: false, when: 'plan' }), []);
  assert.throws(() => guardMassDeletion(plan, { total: { count: 1 } }, { allowed: false, when: 'apply' }), (e: unknown) => e instanceof MassDeletionError && /--allow-mass-delete/.test(e.hint ?? ''));
  assert.equal(guardMassDeletion(plan, { total: { count: 1 } }, { allowed: true, when: 'apply' }), ['--allow-mass-delete: whole plan: 4 deletions of 8 (50%), over maxDeletions total 1']);
});

test('settings.maxDeletions: a bare value limits each repo and the whole plan; bad values name the line', () => {
  const settings = (value: string) => loadConfig(`version: 1\nsettings:\n  maxDeletions: ${value}\nrepos: []\n`, { file: '/w/registry.config.yaml' });
  assert.equal(settings('50').config?.settings.maxDeletions, { repo: { count: 50 }, total: { count: 50 } });
  assert.equal(settings("'30%'").config?.settings.maxDeletions, { repo: { percent: 30 }, total: { percent: 30 } });
  assert.equal(settings("{ repo: '12.5%', total: 500 }").config?.settings.maxDeletions, { repo: { percent: 12.5 }, total: { count: 500 } });
  for (const bad of ['-1', "'150%'", "'lots'", '{ repos: 3 }', '{}']) {
    const loaded = settings(bad);
    assert.is(loaded.config, undefined, bad);
    assert.is(loaded.errors[0]?.line, 3, `${bad}: ${loaded.errors.map((e) => e.message).join('; ')}`);
  }
});

const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  await removeTempDirs();
});

test('CLI: a plan over the limit is shown, not saved, exit 1; apply needs the flag again, even for a plan made with it', async () => {
  const layout = await copyDemoLayout();
  const dir = path.dirname(layout);
  dirs.push(await mkdtemp(path.join(tmpdir(), 'regplan-mass-')));
  await writeFile(
    path.join(dir, 'registry.config.yaml'),
    ['version: 1', 'settings: { maxDeletions: 2 }', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:', `  - repo: oci:${layout}`, '    cleanup: ci', ''].join('\n'),
  );
  const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'c') };
  const planned = captureIo(env, dir);
  assert.is(await runCli(['plan', '--out', 'plan.json'], planned), 1);
  assert.match(planned.out(), /to delete/, 'the plan is shown for review');
  assert.match(planned.err(), /Error: the plan deletes more than settings.maxDeletions allows \(oci:.*: \d+ deletions of \d+ \(\d+%\), over maxDeletions per repo 2; whole plan: /);
  assert.match(planned.err(), /--allow-mass-delete/);
  assert.is(await access(path.join(dir, 'plan.json')).then(() => true, () => false), false, 'no plan file is written');

  const allowed = captureIo(env, dir);
  assert.is(await runCli(['plan', '--out', 'plan.json', '--allow-mass-delete'], allowed), 0, allowed.err());
  assert.match(allowed.err(), /Warning: --allow-mass-delete: oci:/);

  const refused = captureIo(env, dir);
  assert.is(await runCli(['apply', 'plan.json'], refused), 1);
  assert.match(refused.err(), /run apply with --allow-mass-delete/);
  const after = captureIo(env, dir);
  assert.is(await runCli(['plan', '--json', '--allow-mass-delete'], after), 0);
  assert.ok((JSON.parse(after.out()) as { actions: unknown[] }).actions.length > 2, 'nothing was deleted by the refused apply');

  const applied = captureIo(env, dir);
  assert.is(await runCli(['apply', 'plan.json', '--allow-mass-delete'], applied), 0, applied.err());
  assert.match(applied.out(), /Apply: \d+ done, 0 stale, 0 failed/);
});

test.run();
