/**
 * Two regplan processes on one OCI layout: a cleanup apply (many index.json edits, then garbage collection) and
 * a bundle-push apply, started together and repeated. Whatever the interleaving, the pushed tag must stay on
 * the pushed digest with every blob it needs, the cleanup must delete exactly what it planned, and each journal
 * must tell the truth about what happened.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { OciLayout } from '../../src/layout/store.ts';
import { reachableDigests } from '../../src/layout/gc.ts';
import type { Plan } from '../../src/plan/types.ts';
import {
  CLEANUP_CONFIG, copyLayout, journalLines, put, PUSH_CONFIG, removeWorlds, runInProcess, runProcess, seedLayout, worldDir,
} from './support.ts';

const ROUNDS = Number(process.env['REGPLAN_RACE_ROUNDS'] ?? 20);
const PR_TAGS = 80;

test.after(removeWorlds);

test(`a bundle push beside a cleanup apply on one layout keeps the pushed tag and its blobs (${ROUNDS} rounds)`, async () => {
  // One world planned once; each round applies both plans to a fresh copy of it.
  const template = await worldDir();
  const { pr } = await seedLayout(path.join(template, 'layout'), PR_TAGS);
  await put(path.join(template, 'cleanup.yaml'), CLEANUP_CONFIG);
  await put(path.join(template, 'push.yaml'), PUSH_CONFIG);
  await put(path.join(template, 'notes.md'), 'release notes\n');
  for (const which of ['cleanup', 'push']) {
    const planned = await runInProcess(template, ['-c', `${which}.yaml`, 'plan', '--out', `${which}.json`]);
    assert.is(planned.code, 0, planned.err);
  }
  const pushPlan = JSON.parse(await readFile(path.join(template, 'push.json'), 'utf8')) as Plan;
  const pushed = pushPlan.actions.find((a) => a.type === 'push');
  assert.ok(pushed, 'the push plan pushes the bundle');
  const problems: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dir = await worldDir();
    await copyLayout(template, dir);
    const layoutDir = path.join(dir, 'layout');

    const [cleanup, push] = await Promise.all([
      runProcess(dir, ['-c', 'cleanup.yaml', 'apply', 'cleanup.json']),
      runProcess(dir, ['-c', 'push.yaml', 'apply', 'push.json']),
    ]);
    const tail = (r: { out: string; err: string }) => `${r.out}${r.err}`.trim().split('\n').slice(-3).join(' | ');
    const fail = (what: string) => problems.push(`round ${round}: ${what}\n  cleanup: ${tail(cleanup)}\n  push: ${tail(push)}`);
    if (cleanup.code !== 0) fail(`cleanup apply exited ${cleanup.code}`);
    if (push.code !== 0) fail(`push apply exited ${push.code}`);

    const layout = await OciLayout.open(layoutDir);
    const tags = await layout.listTags();
    const bundle = await layout.resolveTag('bundle');
    const pushJournal = await journalLines(path.join(dir, 'push.json.journal.jsonl'));
    const said = pushJournal.find((l) => l.tag === 'bundle')?.outcome;
    if (said !== 'pushed') fail(`the push journal says ${String(said)}`);
    if (bundle?.digest !== pushed.digest) fail(`tag "bundle" is ${bundle ? `on ${bundle.digest}` : 'gone'}, pushed ${pushed.digest}`);
    for (const digest of await reachableDigests(layout)) {
      if (!(await layout.hasBlob(digest))) fail(`index.json reaches ${digest}, which is not in the layout any more`);
    }
    if (bundle) {
      try {
        const stored = await layout.readManifest(bundle.digest);
        const manifest = stored.manifest as { config: { digest: string }; layers: { digest: string }[] };
        for (const blob of [manifest.config, ...manifest.layers]) await layout.readBlob(blob.digest);
      } catch (error) {
        fail(`the pushed bundle cannot be read back: ${(error as Error).message}`);
      }
    }
    const cleanupJournal = await journalLines(path.join(dir, 'cleanup.json.journal.jsonl'));
    const deleted = cleanupJournal.filter((l) => l.outcome === 'deleted').map((l) => l.tag);
    if (deleted.length !== pr.length) fail(`the cleanup journal says ${deleted.length} deleted, ${pr.length} planned`);
    const left = pr.filter((t) => tags.includes(t));
    if (left.length > 0) fail(`tags the cleanup journal calls deleted are still there: ${left.join(', ')}`);
    if (!tags.includes('v1')) fail('the kept tag v1 is gone');
    if (problems.length > 0) break;
  }
  assert.equal(problems, []);
});

test.run();
