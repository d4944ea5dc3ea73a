/** Tag patterns translated into wildcard, prefix and whole-tag regex forms for lifecycle policies. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileTagPattern } from '../config/pattern.ts';
import { excludesReferrerTags, NOT_REFERRER_TAG_REGEX, prefixes, pythonCompatible, wholeTagRegex, wildcards } from './patterns.ts';

test('exact wildcards: anchors, literal text, .* gaps and alternations expand; unanchored ends become *', () => {
  assert.equal(wildcards('^v1\\.2$', 'exact'), ['v1.2']);
  assert.equal(wildcards('^pr-', 'exact'), ['pr-*']);
  assert.equal(wildcards('-rc$', 'exact'), ['*-rc']);
  assert.equal(wildcards('main', 'exact'), ['*main*']);
  assert.equal(wildcards('^(main|release)-.*-x$', 'exact'), ['main-*-x', 'release-*-x']);
  assert.equal(wildcards('^a|^b$', 'exact'), ['a*', 'b']);
});

test('exact wildcards refuse what a wildcard cannot say exactly: classes, repeats, flags', () => {
  for (const p of ['^v\\d+$', '^[a-z]+$', '^a+$', '(?i)^main$', '^(a|b)+$', '^x.+$']) assert.is(wildcards(p, 'exact'), undefined, p);
});

test('cover wildcards read what they cannot say as a gap, a superset of the regex', () => {
  assert.equal(wildcards('^v\\d+\\.\\d+\\.\\d+$', 'cover'), ['v*.*.*']);
  assert.equal(wildcards('^[a-z]+-(\\d+)$', 'cover'), ['*-*']);
  assert.is(wildcards('(?i)main', 'cover'), undefined, 'case folding is not a superset a wildcard can say');
  assert.equal(wildcards('^a*b$', 'cover'), ['*b'], 'a quantified literal is a gap');
  assert.is(wildcards('^a.*b.*c.*d.*e.*f$', 'cover', 4), undefined, 'ECR allows at most four wildcards');
});

test('prefixes: exact only for "literal then anything", cover takes the literal start', () => {
  assert.equal(prefixes('^(v|release-)', 'exact'), ['v', 'release-']);
  assert.is(prefixes('^v\\d+$', 'exact'), undefined);
  assert.equal(prefixes('^v\\d+$', 'cover'), ['v']);
  assert.is(prefixes('-rc$', 'cover'), undefined, 'no literal start');
});

test('whole-tag regexes match a tag exactly when the regplan pattern matches it', () => {
  for (const [pattern, tag, expected] of [['^v', 'v1', true], ['^v', 'xv1', false], ['rc$', 'v1-rc', true], ['rc$', 'rc1', false], ['main', 'a-main-b', true], ['^a|b$', 'xb', true]] as const) {
    const whole = compileTagPattern(`^(?:${wholeTagRegex(pattern)})$`, 'test');
    assert.is(whole.test(tag), expected, `${pattern} on ${tag}`);
    assert.is(compileTagPattern(pattern, 'test').test(tag), expected);
  }
});

test('referrer tags: which patterns rule out sha256- tags, and the RE2 complement of the prefix', () => {
  assert.ok(excludesReferrerTags('^pr-'));
  assert.ok(excludesReferrerTags('^(pr|branch)-'));
  assert.not.ok(excludesReferrerTags('.'), 'matches anything');
  assert.not.ok(excludesReferrerTags('^sha'), 'a prefix of sha256-');
  assert.not.ok(excludesReferrerTags('pr'), 'unanchored');
  const notReferrer = compileTagPattern(`^${NOT_REFERRER_TAG_REGEX}$`, 'test');
  for (const tag of ['v1', 's', 'sha', 'sha256', 'sha256x', 'main', 'sha255-1']) assert.ok(notReferrer.test(tag), tag);
  for (const tag of ['sha256-abc.sig', 'sha256-']) assert.not.ok(notReferrer.test(tag), tag);
});

test('python compatibility: RE2-only syntax is refused for Quay', () => {
  assert.ok(pythonCompatible('^v\\d+\\.\\d+$'));
  for (const p of ['\\pL', '(?<name>a)', '[[:alpha:]]', '\\Qa.b\\E', 'a\\z']) assert.not.ok(pythonCompatible(p), p);
});

test.run();
