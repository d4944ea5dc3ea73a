import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateCleanup, evaluateRepo } from './evaluate.ts';
import type { KeepRule } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import type { CleanupDecision, DeleteAction } from './types.ts';
import {
  GRACE_MS, NOW, daysAgo, digestOf, hexOf, hoursAgo, image, index, inventory, noFacts, policy, tag,
} from '../../test/plan/fixtures.ts';
import type { RepoInventory } from '../model/inventory.ts';

const options = { facts: noFacts, now: NOW, graceMs: GRACE_MS };
const run = (inv: RepoInventory, keep: KeepRule[], extra: { deleteTags?: string; untagged?: 'delete' | 'keep' } = {}) =>
  evaluateRepo(inv, policy(keep, extra), options);
const keptRules = (decision: CleanupDecision) => Object.fromEntries(decision.kept.map((k) => [k.tag, k.rules]));
const deletedTags = (decision: CleanupDecision) => decision.actions.map((a) => (a.type === 'delete' ? (a.tag ?? a.digest) : ''));
const action = (decision: CleanupDecision, tagName: string) =>
  decision.actions.find((a): a is DeleteAction => a.type === 'delete' && a.tag === tagName);

const A = digestOf('a');
const B = digestOf('b');
const C = digestOf('c');

test('keeps the union of the keep rules and lists every rule that kept a tag', () => {
  const inv = inventory({ tags: [tag('v1.0.0', A, daysAgo(30)), tag('main-1', B, daysAgo(1)), tag('old', C, daysAgo(40))] });
  const decision = run(inv, [{ kind: 'tags', pattern: '^v' }, { kind: 'newest', count: 1 }, { kind: 'pushedWithin', durationMs: 7 * 86_400_000, text: '7d' }]);
  assert.equal(keptRules(decision), { 'main-1': ['newest 1', 'pushedWithin 7d'], 'v1.0.0': ['tags ^v'] });
  assert.equal(deletedTags(decision), ['old']);
});

test('tags outside the delete scope are kept, labelled "outside delete scope"', () => {
  const decision = run(inventory({ tags: [tag('latest', A, daysAgo(90)), tag('pr-1', B, daysAgo(90))] }), [], { deleteTags: '^pr-' });
  assert.equal(keptRules(decision), { latest: ['outside delete scope ^pr-'] });
  assert.equal(deletedTags(decision), ['pr-1']);
});

test('a tag longer than the OCI limit of 128 characters is never judged by patterns: kept, with that reason', () => {
  const long = `pr-${'a'.repeat(126)}`;
  const decision = run(inventory({ tags: [tag(long, A, daysAgo(90)), tag('pr-1', B, daysAgo(90))] }), [{ kind: 'tags', pattern: '^v' }], { deleteTags: '^pr-' });
  assert.equal(keptRules(decision), { [long]: ['longer than 128 characters (not a valid OCI tag): never judged by pattern rules'] });
  assert.equal(deletedTags(decision), ['pr-1']);
});

test('a deletion says why: the scope it matches, its age against grace, and that no keep rule matched', () => {
  const decision = run(inventory({ tags: [tag('pr-1', A, daysAgo(30))] }), [{ kind: 'tags', pattern: '^v' }], { deleteTags: '^pr-' });
  assert.equal(decision.actions, [{
    type: 'delete', repo: 'registry.example.com/acme/app', tag: 'pr-1', digest: A, mode: 'manifest',
    reason: 'matches delete scope ^pr-; pushed 30d ago (older than grace 2h); no keep rule matched', pushedAt: daysAgo(30),
  }]);
  const unscoped = run(inventory({ tags: [tag('x', A, daysAgo(3))] }), []);
  assert.match(action(unscoped, 'x')?.reason ?? '', /^no delete scope \(every tag is a candidate\); pushed 3d ago/);
});

test('candidates pushed within grace are kept ("grace 2h"); one just older is deleted', () => {
  const decision = run(inventory({ tags: [tag('fresh', A, hoursAgo(2)), tag('older', B, hoursAgo(2.01))] }), []);
  assert.equal(keptRules(decision), { fresh: ['grace 2h'] });
  assert.equal(deletedTags(decision), ['older']);
});

test('a tag with an unknown or unparsable push time is never deleted by age', () => {
  const decision = run(inventory({ tags: [tag('unknown', A), tag('garbled', B, 'not a time')] }), []);
  assert.equal(keptRules(decision), { garbled: ['push time unknown'], unknown: ['push time unknown'] });
  assert.equal(decision.actions, []);
});

test('a candidate sharing its manifest with a kept tag is untagged where the registry can untag', () => {
  const decision = run(inventory({ untag: true, tags: [tag('v1', A, daysAgo(9)), tag('pr-1', A, daysAgo(9))] }), [{ kind: 'tags', pattern: '^v' }]);
  const untag = action(decision, 'pr-1');
  assert.is(untag?.mode, 'untag');
  assert.match(untag?.reason ?? '', `shares manifest ${A} with kept tag v1, so only the tag is removed`);
  assert.equal(decision.skipped, []);
});

test('a candidate sharing its manifest with a kept tag is skipped where the registry cannot untag', () => {
  const decision = run(inventory({ tags: [tag('v1', A, daysAgo(9)), tag('pr-1', A, daysAgo(9))] }), [{ kind: 'tags', pattern: '^v' }]);
  assert.equal(decision.actions, []);
  assert.is(decision.skipped.length, 1);
  assert.is(decision.skipped[0]?.tag, 'pr-1');
  assert.match(decision.skipped[0]?.reason ?? '', `shares manifest ${A} with kept tag v1`);
});

test('where the registry untags only through a placeholder, a candidate sharing a kept manifest is untagged via placeholder', () => {
  const tags = [tag('v1', A, daysAgo(9)), tag('pr-1', A, daysAgo(9)), tag('pr-2', B, daysAgo(9))];
  const decision = run(inventory({ untagByPlaceholder: true, tags }), [{ kind: 'tags', pattern: '^v' }]);
  const untag = action(decision, 'pr-1');
  assert.equal({ mode: untag?.mode, via: untag?.via }, { mode: 'untag', via: 'placeholder' });
  assert.match(untag?.reason ?? '', `shares manifest ${A} with kept tag v1, so only the tag is removed (through a placeholder manifest`);
  assert.equal({ mode: action(decision, 'pr-2')?.mode, via: action(decision, 'pr-2')?.via }, { mode: 'manifest', via: undefined }, 'an unshared candidate is a digest delete');
  assert.equal(decision.skipped, []);
  const native = run(inventory({ untag: true, untagByPlaceholder: true, tags }), [{ kind: 'tags', pattern: '^v' }]);
  assert.is(action(native, 'pr-1')?.via, undefined, 'a registry that can untag natively does so');
});

test('several candidates on one manifest get one action each; all but the first are covered by the first', () => {
  const decision = run(inventory({ untag: true, tags: ['pr-3', 'pr-1', 'pr-2'].map((n) => tag(n, A, daysAgo(5))) }), []);
  assert.equal(decision.actions.map((a) => [a.type === 'delete' && a.tag, a.type === 'delete' && a.mode, a.type === 'delete' && a.coveredBy]), [
    ['pr-1', 'manifest', undefined], ['pr-2', 'manifest', 'pr-1'], ['pr-3', 'manifest', 'pr-1'],
  ]);
});

test('a cosign signature tag is kept while its subject is kept, whatever the delete scope', () => {
  const sig = `sha256-${hexOf(A)}.sig`;
  const decision = run(inventory({ tags: [tag('v1', A, daysAgo(30)), tag(sig, B, daysAgo(30))] }), [{ kind: 'tags', pattern: '^v' }], { deleteTags: '.' });
  assert.equal(keptRules(decision), { [sig]: ['follows subject v1 (signature)'], v1: ['tags ^v'] });
});

test('referrer tags are deleted with their subject, even outside the delete scope and with unknown push time', () => {
  const sig = `sha256-${hexOf(A)}.sig`;
  const att = `sha256-${hexOf(A)}.att`;
  const decision = run(inventory({ tags: [tag('pr-1', A, daysAgo(30)), tag(sig, B), tag(att, C, daysAgo(30))] }), [], { deleteTags: '^pr-' });
  assert.equal(deletedTags(decision), ['pr-1', att, sig]);
  assert.is(action(decision, sig)?.reason, 'follows subject pr-1 (signature), which this plan deletes');
  assert.match(action(decision, att)?.reason ?? '', 'follows subject pr-1 (attestation), which this plan deletes; pushed 30d ago');
  assert.equal(decision.kept, []);
});

test('keep rules never judge a referrer of a present subject: a matching rule does not save it from its subject', () => {
  const sig = `sha256-${hexOf(A)}.sig`;
  const decision = run(inventory({ tags: [tag('pr-1', A, daysAgo(30)), tag(sig, B, daysAgo(3))] }), [{ kind: 'pushedWithin', durationMs: 7 * 86_400_000, text: '7d' }]);
  assert.equal(deletedTags(decision), ['pr-1', sig]);
});

test('a signature pushed within grace is kept and keeps its subject', () => {
  const sig = `sha256-${hexOf(A)}.sig`;
  const decision = run(inventory({ tags: [tag('pr-1', A, daysAgo(30)), tag(sig, B, hoursAgo(1))] }), []);
  assert.equal(keptRules(decision), { [sig]: ['grace 2h', 'follows subject pr-1 (signature)'], 'pr-1': [`subject of kept ${sig}`] });
  assert.equal(decision.actions, []);
});

test('a referrer tag whose subject is gone is judged like any other tag', () => {
  const orphan = `sha256-${hexOf(digestOf('gone'))}.sig`;
  const scoped = run(inventory({ tags: [tag(orphan, B, daysAgo(30))] }), [], { deleteTags: '^pr-' });
  assert.equal(keptRules(scoped), { [orphan]: ['outside delete scope ^pr-'] });
  const unscoped = run(inventory({ tags: [tag(orphan, B, daysAgo(30))] }), []);
  assert.equal(deletedTags(unscoped), [orphan]);
  assert.match(action(unscoped, orphan)?.reason ?? '', 'no keep rule matched');
});

test('an OCI referrer (manifest with subject) follows its subject, tagged or untagged', () => {
  const sbom = image({ subject: A, artifactType: 'application/spdx+json' });
  const untaggedRef = digestOf('untagged-ref');
  const manifests = { [A]: image(), [B]: sbom, [untaggedRef]: image({ subject: A }) };
  const keptSubject = run(inventory({ listUntagged: true, tags: [tag('v1', A, daysAgo(30)), tag('v1-sbom', B, daysAgo(30))], untagged: [{ digest: untaggedRef, pushedAt: daysAgo(30) }], manifests }),
    [{ kind: 'tags', pattern: '^v1$' }], { untagged: 'delete' });
  assert.equal(keptRules(keptSubject), { v1: ['tags ^v1$'], 'v1-sbom': ['follows subject v1 (application/spdx+json)'] });
  assert.equal(keptSubject.actions, []);

  const deletedSubject = run(inventory({ listUntagged: true, tags: [tag('v1', A, daysAgo(30)), tag('v1-sbom', B, daysAgo(30))], untagged: [{ digest: untaggedRef }], manifests }), [], { untagged: 'delete' });
  assert.equal(deletedTags(deletedSubject), ['v1', 'v1-sbom', untaggedRef]);
  const untaggedAction = deletedSubject.actions.find((a) => a.type === 'delete' && a.tag === undefined);
  assert.is(untaggedAction?.type === 'delete' && untaggedAction.reason, 'untagged referrer of v1, which this plan deletes; untagged: delete');

  const keptUntagged = run(inventory({ listUntagged: true, tags: [tag('v1', A, daysAgo(30))], untagged: [{ digest: untaggedRef, pushedAt: daysAgo(30) }], manifests }), [], { untagged: 'keep' });
  assert.equal(deletedTags(keptUntagged), ['v1']);
});

test('platform manifests of a kept index are never deleted; a tag on one is kept as its child', () => {
  const amd = digestOf('amd64');
  const arm = digestOf('arm64');
  const inv = inventory({
    listUntagged: true,
    tags: [tag('v1', A, daysAgo(30)), tag('v1-amd64', amd, daysAgo(30))],
    untagged: [{ digest: arm, pushedAt: daysAgo(30) }],
    manifests: { [A]: index([amd, arm]), [amd]: image(), [arm]: image() },
  });
  const decision = run(inv, [{ kind: 'tags', pattern: '^v1$' }], { untagged: 'delete' });
  assert.equal(keptRules(decision), { v1: ['tags ^v1$'], 'v1-amd64': ['child of kept index v1'] });
  assert.equal(decision.actions, []);
});

test('a signature manifest inside a kept index keeps its subject', () => {
  const sigManifest = digestOf('sig-manifest');
  const inv = inventory({
    tags: [tag('pr-1', A, daysAgo(30)), tag('bundle', B, daysAgo(30))],
    manifests: { [B]: index([sigManifest]), [sigManifest]: image({ subject: A }) },
  });
  const decision = run(inv, [{ kind: 'tags', pattern: '^bundle$' }]);
  assert.equal(keptRules(decision), { bundle: ['tags ^bundle$'], 'pr-1': [`subject of kept ${sigManifest}`] });
  assert.equal(decision.actions, []);
});

test('a referrer tag whose subject goes, while content that only follows something else holds its manifest, is untagged or skipped', () => {
  // holder: an index known only from manifest facts, itself a referrer of an untagged manifest that stays
  const holder = digestOf('holder');
  const other = digestOf('other');
  const sigManifest = digestOf('sig-manifest');
  const sig = `sha256-${hexOf(A)}.sig`;
  const make = (untag: boolean) => inventory({
    untag,
    listUntagged: true,
    tags: [tag('pr-1', A, daysAgo(30)), tag(sig, sigManifest, daysAgo(30))],
    untagged: [{ digest: other, pushedAt: daysAgo(30) }],
    manifests: { [holder]: { ...index([sigManifest]), subject: other }, [sigManifest]: image({ subject: A }), [other]: image() },
  });
  const skipping = run(make(false), [], { untagged: 'keep' });
  assert.equal(deletedTags(skipping), ['pr-1']);
  assert.equal(skipping.kept, []);
  assert.equal(skipping.skipped.map((s) => [s.tag, s.reason]), [[sig, `its manifest ${sigManifest} stays (child of kept index ${holder}); the default registry cannot remove a tag alone, so the tag stays`]]);
  const untagging = run(make(true), [], { untagged: 'keep' });
  assert.is(action(untagging, sig)?.mode, 'untag');
  assert.match(action(untagging, sig)?.reason ?? '', 'follows subject pr-1 (signature), which this plan deletes');
});

test('the children of an index deleted now wait for the next run; untagged manifests then go', () => {
  const child = digestOf('child');
  const lone = digestOf('lone');
  const inv = inventory({
    listUntagged: true,
    tags: [tag('pr-1', A, daysAgo(30))],
    untagged: [{ digest: child, pushedAt: daysAgo(30) }, { digest: lone, pushedAt: daysAgo(30) }],
    manifests: { [A]: index([child]), [child]: image(), [lone]: image() },
  });
  const decision = run(inv, [], { untagged: 'delete' });
  assert.equal(deletedTags(decision), ['pr-1', lone]);
  const untaggedAction = decision.actions.find((a) => a.type === 'delete' && a.tag === undefined);
  assert.is(untaggedAction?.type === 'delete' && untaggedAction.reason, 'untagged manifest; pushed 30d ago (older than grace 2h); untagged: delete');
});

test('untagged: delete removes untagged manifests only where the driver lists them, older than grace, with a known time', () => {
  const old = digestOf('old');
  const fresh = digestOf('fresh');
  const unknown = digestOf('unknown');
  const untagged = [{ digest: old, pushedAt: daysAgo(3) }, { digest: fresh, pushedAt: hoursAgo(1) }, { digest: unknown }];
  assert.equal(deletedTags(run(inventory({ listUntagged: true, tags: [], untagged }), [], { untagged: 'delete' })), [old]);
  assert.equal(run(inventory({ listUntagged: false, tags: [], untagged }), [], { untagged: 'delete' }).actions, []);
  assert.equal(run(inventory({ listUntagged: true, tags: [], untagged }), [], { untagged: 'keep' }).actions, []);
});

test('the referrers fallback tag sha256-<hex> follows its subject, and the referrer manifests it lists are kept with it', () => {
  const refIndex = digestOf('referrers-index');
  const sigManifest = digestOf('sig-manifest');
  const inv = inventory({
    listUntagged: true,
    tags: [tag('v1', A, daysAgo(30)), tag(`sha256-${hexOf(A)}`, refIndex, daysAgo(30))],
    untagged: [{ digest: sigManifest, pushedAt: daysAgo(30) }],
    manifests: { [A]: image(), [refIndex]: index([sigManifest]), [sigManifest]: image({ subject: A }) },
  });
  const decision = run(inv, [{ kind: 'tags', pattern: '^v1$' }], { untagged: 'delete' });
  assert.equal(keptRules(decision), { [`sha256-${hexOf(A)}`]: ['follows subject v1 (referrers)'], v1: ['tags ^v1$'] });
  assert.equal(decision.actions, []);
});

test('output is sorted by repo, then tag, untagged manifests last, whatever the input order', () => {
  const make = (repo: string) => inventory({ repo, listUntagged: true, tags: [tag('b', B, daysAgo(9)), tag('a', A, daysAgo(9))], untagged: [{ digest: C, pushedAt: daysAgo(9) }] });
  const decision = evaluateCleanup([{ inventory: make('z.example.com/app'), policy: policy([], { untagged: 'delete' }) }, { inventory: make('a.example.com/app'), policy: policy([], { untagged: 'delete' }) }], options);
  assert.equal(decision.actions.map((a) => `${a.repo} ${a.type === 'delete' ? (a.tag ?? a.digest) : ''}`), [
    'a.example.com/app a', 'a.example.com/app b', `a.example.com/app ${C}`, 'z.example.com/app a', 'z.example.com/app b', `z.example.com/app ${C}`,
  ]);
});

test('each repo is judged by its own policy', () => {
  const decision = evaluateCleanup([
    { inventory: inventory({ repo: 'r.example.com/keep', tags: [tag('x', A, daysAgo(9))] }), policy: policy([{ kind: 'tags', pattern: 'x' }]) },
    { inventory: inventory({ repo: 'r.example.com/drop', tags: [tag('x', A, daysAgo(9))] }), policy: policy([]) },
  ], options);
  assert.equal(decision.kept.map((k) => k.repo), ['r.example.com/keep']);
  assert.equal(decision.actions.map((a) => a.repo), ['r.example.com/drop']);
});

test('an inventory listing a tag twice, or a repo given twice, refuses the plan', () => {
  assert.throws(() => run(inventory({ tags: [tag('a', A), tag('a', B)] }), []), (e: unknown) => e instanceof RegplanError && /lists tag "a" twice/.test(e.message));
  const target = { inventory: inventory({ tags: [] }), policy: policy([]) };
  assert.throws(() => evaluateCleanup([target, target], options), (e: unknown) => e instanceof RegplanError && /twice/.test(e.message));
});

test('an invalid delete scope regex refuses the plan', () => {
  assert.throws(() => run(inventory({ tags: [tag('a', A, daysAgo(9))] }), [], { deleteTags: '[' }), (e: unknown) => e instanceof RegplanError && /delete scope/.test(e.message));
});

test('gitRefs and listed rules read the gathered facts; missing facts refuse the plan', () => {
  const inv = inventory({ tags: [tag('main', A, daysAgo(9)), tag('gone', B, daysAgo(9)), tag('prod', C, daysAgo(9))] });
  const keep: KeepRule[] = [{ kind: 'gitRefs', repo: '.', branches: true, tags: false, commits: 0 }, { kind: 'listed', file: 'k.txt' }];
  const decision = evaluateRepo(inv, policy(keep), { ...options, facts: { git: { '.': { branches: ['main'], tags: [], commits: [] } }, listed: { 'k.txt': ['prod'] } } });
  assert.equal(keptRules(decision), { main: ['gitRefs branch main'], prod: ['listed k.txt'] });
  assert.throws(() => evaluateRepo(inv, policy(keep), options), (e: unknown) => e instanceof RegplanError);
});

test('untagged: delete on a registry that cannot list untagged manifests says so in the plan instead of silently doing nothing', () => {
  const cannot = run(inventory({ tags: [tag('v1', A, daysAgo(1))], listUntagged: false }), [], { untagged: 'delete' });
  assert.equal(cannot.notes, [{ repo: 'registry.example.com/acme/app', message: 'untagged: delete has no effect here: the default driver cannot list untagged manifests, so none are deleted' }]);
  assert.is(run(inventory({ tags: [], listUntagged: true }), [], { untagged: 'delete' }).notes, undefined);
  assert.is(run(inventory({ tags: [], listUntagged: false }), [], { untagged: 'keep' }).notes, undefined);
});

test.run();
