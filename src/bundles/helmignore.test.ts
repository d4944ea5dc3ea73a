/** .helmignore rules: Helm's pattern forms, comments, directories, anchoring, negation, and refused patterns. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { goGlobToRegExp, parseHelmIgnore } from './helmignore.ts';

const rules = parseHelmIgnore(['# build output', '', '*.tgz', '!keep.tgz', 'secrets/', '/top.txt', 'ci/*.yaml', '[a-c]x.txt', '.git'].join('\n'));
const ignored = (p: string, dir = false) => rules.ignores(p, dir);

test('a pattern without a slash matches the base name at any depth', () => {
  assert.ok(ignored('a.tgz'));
  assert.ok(ignored('charts/sub/b.tgz'));
  assert.ok(ignored('.git', true));
  assert.not.ok(ignored('Chart.yaml'));
});

test('a trailing slash matches directories only', () => {
  assert.ok(ignored('secrets', true));
  assert.ok(ignored('sub/secrets', true));
  assert.not.ok(ignored('secrets', false));
});

test('a leading slash anchors at the chart root; a pattern with a slash matches the whole path', () => {
  assert.ok(ignored('top.txt'));
  assert.not.ok(ignored('sub/top.txt'));
  assert.ok(ignored('ci/values.yaml'));
  assert.not.ok(ignored('ci/deep/values.yaml'), '* does not cross a slash');
});

test('! re-includes what an earlier rule excluded, and leaves everything else alone', () => {
  assert.not.ok(ignored('keep.tgz'));
  assert.ok(ignored('other.tgz'));
  assert.not.ok(ignored('values.yaml'), 'a negation never excludes what it does not match');
});

test('character classes work as in Go filepath.Match, with ^ negation', () => {
  assert.ok(ignored('bx.txt'));
  assert.not.ok(ignored('dx.txt'));
  assert.ok(goGlobToRegExp('[^a-c]x')?.test('dx'));
  assert.not.ok(goGlobToRegExp('[^a-c]x')?.test('ax'));
  assert.ok(goGlobToRegExp('a\\*b')?.test('a*b'));
  assert.not.ok(goGlobToRegExp('a\\*b')?.test('axb'));
});

test("Helm's default rule drops hidden files under templates/", () => {
  const none = parseHelmIgnore('');
  assert.ok(none.ignores('templates/.swp', false));
  assert.not.ok(none.ignores('templates/deploy.yaml', false));
  assert.not.ok(none.ignores('.helmignore', false));
});

test('double-star and malformed patterns are errors naming the file and line', () => {
  assert.throws(() => parseHelmIgnore('ok\n**/x', '/c/.helmignore'), /\/c\/\.helmignore:2: cannot use pattern "\*\*\/x": double-star/);
  assert.throws(() => parseHelmIgnore('[abc', '/c/.helmignore'), /\/c\/\.helmignore:1: cannot use pattern "\[abc": it is not a valid glob/);
});

test.run();
