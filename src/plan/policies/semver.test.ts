import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepSemverTags, parseVersionTag, type SemverRule } from './semver.ts';
import { NOW, digestOf, noFacts, tag } from '../../../test/plan/fixtures.ts';

const keep = (rule: SemverRule, names: string[]) =>
  keepSemverTags(rule, { repo: 'r', tags: names.map((n) => tag(n, digestOf(n))), now: NOW, facts: noFacts });
const keptNames = (rule: SemverRule, names: string[]) => [...keep(rule, names).keys()].sort();

test('semver: reads MAJOR.MINOR.PATCH tags with or without a leading v, and nothing else', () => {
  assert.is(parseVersionTag('v1.2.3')?.version, '1.2.3');
  assert.is(parseVersionTag('1.2.3-rc.1')?.version, '1.2.3-rc.1');
  for (const other of ['1.2', 'v1', 'latest', 'V1.2.3', '=1.2.3', 'x1.2.3', '01.2.3']) assert.is(parseVersionTag(other), undefined, other);
});

test('semver: latestPerMinor keeps the N highest patches of every major.minor', () => {
  const names = ['v1.0.0', 'v1.0.1', 'v1.0.2', 'v1.1.0', 'v1.1.5', 'v2.0.3', 'v2.0.10', 'v2.0.9'];
  assert.equal(keptNames({ latestPerMinor: 2, prerelease: false }, names), ['v1.0.1', 'v1.0.2', 'v1.1.0', 'v1.1.5', 'v2.0.10', 'v2.0.9']);
  assert.is(keep({ latestPerMinor: 2, prerelease: false }, names).get('v2.0.10'), 'semver latestPerMinor 2');
});

test('semver: latestPerMajor keeps the N highest versions of every major (precedence, not push order)', () => {
  const names = ['1.0.0', '1.9.0', '1.10.0', '2.0.0', '2.1.0'];
  assert.equal(keptNames({ latestPerMajor: 1, prerelease: false }, names), ['1.10.0', '2.1.0']);
});

test('semver: latestMajors considers only the N highest majors', () => {
  const names = ['1.0.0', '2.0.0', '2.1.0', '3.0.0', '3.0.1'];
  assert.equal(keptNames({ latestPerMinor: 1, latestMajors: 2, prerelease: false }, names), ['2.0.0', '2.1.0', '3.0.1']);
  assert.is(keep({ latestPerMinor: 1, latestMajors: 2, prerelease: false }, names).get('3.0.1'), 'semver latestPerMinor 1 (latestMajors 2)');
  assert.equal(keptNames({ latestMajors: 1, prerelease: false }, names), ['3.0.0', '3.0.1']);
});

test('semver: prerelease false never keeps a prerelease, and prereleases take no slot', () => {
  const names = ['1.2.3', '1.2.4-rc.1', '1.2.2'];
  assert.equal(keptNames({ latestPerMinor: 2, prerelease: false }, names), ['1.2.2', '1.2.3']);
  assert.equal(keptNames({ latestPerMinor: 2, prerelease: true }, names), ['1.2.3', '1.2.4-rc.1']);
});

test('semver: both per-minor and per-major keep the union, labelled with each part that kept the tag', () => {
  const verdicts = keep({ latestPerMinor: 1, latestPerMajor: 2, prerelease: false }, ['1.0.0', '1.1.0', '1.1.1']);
  assert.is(verdicts.get('1.1.1'), 'semver latestPerMinor 1 + latestPerMajor 2');
  assert.is(verdicts.get('1.1.0'), 'semver latestPerMajor 2');
  assert.is(verdicts.get('1.0.0'), 'semver latestPerMinor 1');
});

test('semver: v1.2.3 and 1.2.3 name one version and share its slot', () => {
  assert.equal(keptNames({ latestPerMinor: 1, prerelease: false }, ['v1.2.3', '1.2.3', '1.2.2']), ['1.2.3', 'v1.2.3']);
});

test('semver: without a limit every version (in the considered majors) is kept', () => {
  assert.equal(keptNames({ prerelease: false }, ['1.0.0', '2.0.0', 'latest']), ['1.0.0', '2.0.0']);
  assert.is(keep({ prerelease: false }, ['1.0.0']).get('1.0.0'), 'semver');
});

test.run();
