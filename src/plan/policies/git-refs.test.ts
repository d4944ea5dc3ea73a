import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commitNamedByTag, gitlabRefSlug, keepGitRefTags, refTagForms, type GitRefsRule } from './git-refs.ts';
import { NOW, digestOf, tag } from '../../../test/plan/fixtures.ts';
import type { GitFacts } from '../types.ts';
import { RegplanError } from '../../errors.ts';

const SHA1 = 'abc1234def567890abc1234def567890abc12345';
const SHA2 = '1111111aaaaaaabbbbbbbcccccccdddddddeeeee';
const SHA_OLD = '9999999000000011111112222222333333344444';
const facts: GitFacts = { branches: ['feature/Login_UI', 'main'], tags: ['v1.2.3'], commits: [SHA1, SHA2, SHA_OLD] };
const rule = (extra: Partial<GitRefsRule> = {}): GitRefsRule => ({ repo: '.', branches: true, tags: true, commits: 2, ...extra });
const keep = (r: GitRefsRule, names: string[]) =>
  keepGitRefTags(r, { repo: 'x', tags: names.map((n) => tag(n, digestOf(n))), now: NOW, facts: { git: { '.': facts }, listed: {} } });

test('gitRefs: slugs a ref name the way GitLab CI_COMMIT_REF_SLUG does', () => {
  assert.is(gitlabRefSlug('feature/Login_UI'), 'feature-login-ui');
  assert.is(gitlabRefSlug('-Release/1.2-'), 'release-1-2');
  assert.is(gitlabRefSlug('x'.repeat(70)).length, 63);
  assert.equal(refTagForms('feature/Login_UI').sort(), ['feature-Login_UI', 'feature-login-ui']);
  assert.equal(refTagForms('v1.2.3'), ['v1.2.3', 'v1-2-3']);
});

test('gitRefs: keeps tags equal to a live branch or git tag in any CI form, and not prefix matches', () => {
  const kept = keep(rule(), ['main', 'feature-login-ui', 'feature-Login_UI', 'v1.2.3', 'main-latest', 'gone-branch']);
  assert.equal([...kept].sort(), [
    ['feature-Login_UI', 'gitRefs branch feature/Login_UI'],
    ['feature-login-ui', 'gitRefs branch feature/Login_UI'],
    ['main', 'gitRefs branch main'],
    ['v1.2.3', 'gitRefs tag v1.2.3'],
  ]);
});

test('gitRefs: branches false and tags false ignore those refs', () => {
  assert.equal([...keep(rule({ branches: false }), ['main', 'v1.2.3']).keys()], ['v1.2.3']);
  assert.equal([...keep(rule({ tags: false }), ['main', 'v1.2.3']).keys()], ['main']);
});

test('gitRefs: keeps tags naming one of the last N commits by a whole 7-40 hex token', () => {
  const kept = keep(rule(), ['main-abc1234', `sha-${SHA1}`, 'abc1234d', 'pr-7-1111111-1700000000', 'xabc1234', 'main-9999999', 'ABC1234']);
  assert.equal([...kept.keys()].sort(), ['ABC1234', 'abc1234d', 'main-abc1234', 'pr-7-1111111-1700000000', `sha-${SHA1}`]);
  assert.is(kept.get('main-abc1234'), 'gitRefs commit abc1234def56');
});

test('gitRefs: a 64-hex sha256 token never matches a commit', () => {
  assert.is(commitNamedByTag(`sha256-${SHA1}${'0'.repeat(24)}.sig`, [SHA1]), undefined);
});

test('gitRefs: missing git facts refuse the plan', () => {
  try {
    keepGitRefTags(rule({ repo: './elsewhere' }), { repo: 'x', tags: [], now: NOW, facts: { git: {}, listed: {} } });
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.instance(error, RegplanError);
    assert.match((error as Error).message, './elsewhere');
  }
});

test.run();
