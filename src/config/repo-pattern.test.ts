/** Repo patterns: parsing (host, path, literal prefix), matching with excludes, and the config problems they raise. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConfigProblem } from '../errors.ts';
import { loadConfig } from './load.ts';
import { compileRepoMatcher, parseRepoPattern, repoAddress } from './repo-pattern.ts';

test('a pattern splits into host, path and the literal prefix the lister is asked for', () => {
  const cases: [string, { host: string; path: string; prefix: string }][] = [
    ['ghcr.io/acme/*', { host: 'ghcr.io', path: 'acme/*', prefix: 'acme/' }],
    ['registry.gitlab.com/group/**', { host: 'registry.gitlab.com', path: 'group/**', prefix: 'group/' }],
    ['localhost:5000/team/*-api', { host: 'localhost:5000', path: 'team/*-api', prefix: 'team/' }],
    ['127.0.0.1:5000/a/b/**/api', { host: '127.0.0.1:5000', path: 'a/b/**/api', prefix: 'a/b/' }],
    ['ghcr.io/**', { host: 'ghcr.io', path: '**', prefix: '' }],
    ['acme/*', { host: 'docker.io', path: 'acme/*', prefix: 'acme/' }],
    ['index.docker.io/acme/*', { host: 'docker.io', path: 'acme/*', prefix: 'acme/' }],
    ['*', { host: 'docker.io', path: 'library/*', prefix: 'library/' }],
  ];
  for (const [written, expected] of cases) {
    const { host, path, prefix } = parseRepoPattern(written);
    assert.equal({ host, path, prefix }, expected, written);
  }
});

test('* matches within one segment, ** matches one or more whole segments', () => {
  const cases: [string, string[], string[]][] = [
    ['ghcr.io/acme/*', ['acme/api', 'acme/a'], ['acme', 'acme/a/b', 'acmex/a', 'other/api']],
    ['localhost:5000/team/*-api', ['team/billing-api', 'team/-api'], ['team/api', 'team/billing-api/v2', 'team/billing-apis']],
    ['ghcr.io/group/**', ['group/a', 'group/a/b/c'], ['group', 'groupx/a']],
    ['ghcr.io/group/**/api', ['group/x/api', 'group/x/y/api'], ['group/api', 'group/x/api/z']],
    ['ghcr.io/a.b/*', ['a.b/c'], ['axb/c']],
  ];
  for (const [written, yes, no] of cases) {
    const { matches } = compileRepoMatcher(written);
    for (const name of yes) assert.ok(matches(name), `${written} matches ${name}`);
    for (const name of no) assert.not.ok(matches(name), `${written} does not match ${name}`);
  }
});

test('exclude entries are full addresses on the pattern\'s host, with the same wildcards', () => {
  const matcher = compileRepoMatcher('ghcr.io/acme/**', ['ghcr.io/acme/legacy-*', 'ghcr.io/acme/tools/old']);
  assert.is(matcher.excludedBy('acme/legacy-api'), 'ghcr.io/acme/legacy-*');
  assert.is(matcher.excludedBy('acme/tools/old'), 'ghcr.io/acme/tools/old');
  assert.is(matcher.excludedBy('acme/tools/older'), undefined);
  assert.is(matcher.excludedBy('acme/legacy-api/x'), undefined, '* stays within its segment');
  assert.throws(() => compileRepoMatcher('ghcr.io/acme/*', ['quay.io/acme/x']), /exclude "quay.io\/acme\/x" is on quay.io, not on the pattern's host ghcr.io/);
});

test('matching a hostile name takes time linear in its length (no backtracking on user patterns)', () => {
  const { matches } = compileRepoMatcher('ghcr.io/**/*a*a*a*a*a*a*a*a*b');
  const name = `${'a/'.repeat(2000)}${'a'.repeat(20_000)}`;
  const started = performance.now();
  assert.not.ok(matches(name));
  assert.ok(performance.now() - started < 2000, 'matched in well under two seconds');
});

test('an expanded repo keeps the pattern\'s way of writing its host', () => {
  assert.is(repoAddress(parseRepoPattern('ghcr.io/acme/*'), 'acme/api'), 'ghcr.io/acme/api');
  assert.is(repoAddress(parseRepoPattern('acme/*'), 'acme/api'), 'acme/api');
  assert.is(repoAddress(parseRepoPattern('*'), 'library/nginx'), 'nginx');
});

const FILE = '/work/app/registry.config.yaml';
const HEAD = ['version: 1', 'policies:', '  ci:', "    keep: [{ tags: '^v' }]", "    delete: { tags: '^pr-' }", 'repos:'];
const errorsOf = (lines: string[]): ConfigProblem[] => loadConfig([...HEAD, ...lines].join('\n') + '\n', { file: FILE }).errors;
const one = (lines: string[]) => {
  const errors = errorsOf(lines);
  assert.is(errors.length, 1, errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  const [error] = errors as [ConfigProblem];
  return { line: error.line, col: error.col, path: error.path, message: error.message };
};

test('a valid pattern entry normalizes into repoPatterns with its policy, excludes and position', () => {
  const result = loadConfig([...HEAD, '  - repo: ghcr.io/acme/*', '    cleanup: ci', '    exclude: [ghcr.io/acme/legacy-*]', '  - repo: ghcr.io/acme/api', '    cleanup: ci'].join('\n'), { file: FILE });
  assert.equal(result.errors, []);
  assert.equal(result.config?.repos.map((r) => r.repo), ['ghcr.io/acme/api']);
  const [pattern] = result.config?.repoPatterns ?? [];
  assert.equal({ ...pattern, cleanup: pattern?.cleanup?.name }, { pattern: 'ghcr.io/acme/*', exclude: ['ghcr.io/acme/legacy-*'], cleanup: 'ci', where: `${FILE}:7:11` });
});

test('a config without patterns has no repoPatterns key (its plans and digests are unchanged)', () => {
  const result = loadConfig([...HEAD, '  - repo: ghcr.io/acme/api', '    cleanup: ci'].join('\n'), { file: FILE });
  assert.ok(result.config !== undefined && !('repoPatterns' in result.config));
});

test('pattern problems name the line, the column and what to write instead', () => {
  assert.equal(one(['  - repo: oci:./layouts/*', '    cleanup: ci']), { line: 7, col: 11, path: '/repos/0/repo', message: 'repo "oci:./layouts/*" is an OCI layout, which cannot be a pattern' });
  assert.equal(one(['  - repo: "*.example.com/acme/api"', '    cleanup: ci']), { line: 7, col: 11, path: '/repos/0/repo', message: 'repo pattern "*.example.com/acme/api" has a wildcard in its host' });
  assert.equal(one(['  - repo: ghcr.io/acme/a**', '    cleanup: ci']), { line: 7, col: 11, path: '/repos/0/repo', message: 'repo pattern "ghcr.io/acme/a**" uses ** inside the segment "a**"' });
  assert.equal(one(['  - repo: ghcr.io/Acme/*', '    cleanup: ci']), { line: 7, col: 11, path: '/repos/0/repo', message: 'invalid repo pattern "ghcr.io/Acme/*"' });
  assert.equal(one(['  - repo: ghcr.io/acme/*', '    cleanup: ci', '    exclude: [quay.io/acme/x]']), { line: 9, col: 15, path: '/repos/0/exclude/0', message: 'exclude "quay.io/acme/x" is on quay.io, not on the pattern\'s host ghcr.io' });
  assert.equal(one(['  - repo: ghcr.io/acme/api', '    cleanup: ci', '    exclude: [ghcr.io/acme/x]']), { line: 9, col: 5, path: '/repos/0/exclude', message: 'exclude applies to repo patterns only, and "ghcr.io/acme/api" is not one' });
  assert.equal(one(['  - repo: ghcr.io/acme/*', '    bundles: [{ tag: docs, files: [./docs.tgz] }]']), { line: 8, col: 5, path: '/repos/0/bundles', message: 'repo pattern "ghcr.io/acme/*" cannot have bundles: a push needs one concrete repo' });
  assert.equal(one(['  - repo: ghcr.io/acme/*', '    cleanup: ci', '  - repo: ghcr.io/acme/*', '    cleanup: ci']), { line: 9, col: 11, path: '/repos/1/repo', message: 'repo pattern "ghcr.io/acme/*" is listed twice (first at line 7)' });
});

test('an exclude that is not a list of strings is a schema error at its line', () => {
  const errors = errorsOf(['  - repo: ghcr.io/acme/*', '    cleanup: ci', '    exclude: ghcr.io/acme/x']);
  assert.ok(errors.some((e) => e.line === 9 && e.path === '/repos/0/exclude'), errors.map((e) => `${e.line} ${e.path} ${e.message}`).join('\n'));
});

test.run();
