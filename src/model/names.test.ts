import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertValidDigest, assertValidReference, assertValidRepoName, assertValidTag, InvalidNameError, isValidDigest, isValidReference,
  isValidRepoName, isValidTag, quoteName,
} from './names.ts';

const SHA256 = `sha256:${'a'.repeat(64)}`;
const SHA512 = `sha512:${'0'.repeat(128)}`;

test('tags: 1-128 letters, digits, _ . -, not starting with . or -', () => {
  for (const tag of ['v1.0.0', 'latest', '_x', 'A', 'pr-1', 'a'.repeat(128), 'sha256-abc.sig']) assert.ok(isValidTag(tag), tag);
  for (const tag of ['', '.hidden', '-x', 'a'.repeat(129), 'pr-1/../v1.0.0', '../../../v2/other/manifests/latest', 'pr-2%2f..%2fv1', '%2e%2e', '..', '.', 'a b', 'pr-3\u001b[2J', 'v1\n', 'tag:x', 'tag@x', 'ünïcode']) {
    assert.not.ok(isValidTag(tag), JSON.stringify(tag));
  }
});

test('digests: algorithm:encoded per the image-spec grammar, sha256 and sha512 exactly lowercase hex of their length', () => {
  for (const digest of [SHA256, SHA512, 'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8', 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564']) {
    assert.ok(isValidDigest(digest), digest);
  }
  for (const digest of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(65)}`, `sha512:${'a'.repeat(64)}`, 'sha256', ':abc', 'SHA256:' + 'a'.repeat(64), `sha256:${'a'.repeat(63)}/`, `sha256:../${'a'.repeat(61)}`, 'x:%2e%2e']) {
    assert.not.ok(isValidDigest(digest), digest);
  }
});

test('repository names: lowercase components joined by /, separators . _ __ or dashes between alphanumerics', () => {
  for (const name of ['app', 'acme/api', 'a/b/c', 'my-app', 'my--app', 'my_app', 'my__app', 'my.app', 'library/ubuntu', `${'a'.repeat(255)}`]) assert.ok(isValidRepoName(name), name);
  for (const name of ['', 'App', 'a//b', '/a', 'a/', 'a/../b', '..', 'a/./b', 'a___b', 'a._b', '-a', 'a-', 'a%2fb', 'a b', `${'a'.repeat(256)}`]) {
    assert.not.ok(isValidRepoName(name), name);
  }
});

test('a reference is a tag or a digest', () => {
  assert.ok(isValidReference('v1'));
  assert.ok(isValidReference(SHA256));
  assert.not.ok(isValidReference('sha256:abc/../x'));
});

test('assert variants throw InvalidNameError that shows the name quoted and escaped, with the source', () => {
  assertValidTag('v1');
  assertValidDigest(SHA256);
  assertValidRepoName('acme/api');
  assertValidReference(SHA512);
  try {
    assertValidTag('pr-3\u001b[2J', { where: 'a request to registry r.example' });
    assert.unreachable('expected a throw');
  } catch (error) {
    assert.instance(error, InvalidNameError);
    const invalid = error as InvalidNameError;
    assert.is(invalid.kind, 'tag');
    assert.is(invalid.message, 'invalid tag "pr-3\\u001b[2J" in a request to registry r.example');
    assert.not.ok(invalid.message.includes('\u001b'));
    assert.match(invalid.hint ?? '', '1-128 letters');
  }
  assert.throws(() => assertValidRepoName('a/../b'), (e: unknown) => e instanceof InvalidNameError && e.kind === 'repository name');
  assert.throws(() => assertValidDigest('sha256:x'), (e: unknown) => e instanceof InvalidNameError && e.kind === 'digest');
  assert.throws(() => assertValidReference('../x'), (e: unknown) => e instanceof InvalidNameError && e.kind === 'reference');
});

test('quoteName: printable ASCII only, JSON-compatible escapes, long names cut with their length', () => {
  assert.is(quoteName('pr-1/../v1.0.0'), '"pr-1/../v1.0.0"');
  assert.is(quoteName('a"b\\c`d'), '"a\\"b\\\\c\\u0060d"');
  assert.is(quoteName('\u001b[2J\u0007\u007f\u009b\u202e\u2028'), '"\\u001b[2J\\u0007\\u007f\\u009b\\u202e\\u2028"');
  assert.is(quoteName('😀'), '"\\ud83d\\ude00"');
  assert.is(JSON.parse(quoteName('x\u001by\u009b😀"')), 'x\u001by\u009b😀"', 'the quoted form is a JSON literal of the name');
  const long = quoteName('x'.repeat(200));
  assert.is(long, `"${'x'.repeat(100)}..." (200 characters)`);
  for (const shown of [quoteName('\u0000'.repeat(5000)), long]) assert.ok(/^[\x20-\x7e]*$/.test(shown));
});

test.run();
