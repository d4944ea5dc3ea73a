/**
 * Hostile or runaway config text is a config problem at a line and column, never an exception or a stall: alias
 * bombs, deep nesting, oversized documents, strings and lists, NUL bytes in paths, and patterns RE2 cannot run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConfigProblem } from '../errors.ts';
import { loadConfig, type LoadResult } from './load.ts';

const FILE = '/work/app/registry.config.yaml';
const POLICY = ['policies:', '  ci:', '    keep:', '      - newest: 3'];
const REPO = ['repos:', '  - repo: ghcr.io/acme/api', '    cleanup: ci'];

/** Loads text; an exception fails the test with its name (that is the bug these tests pin down). */
function load(text: string): LoadResult {
  try {
    return loadConfig(text, { file: FILE });
  } catch (error) {
    assert.unreachable(`loadConfig threw ${(error as Error).name}: ${(error as Error).message}`);
    throw error;
  }
}

/** The first error whose message matches, positioned (line and column >= 1). */
function errorMatching(result: LoadResult, pattern: RegExp): ConfigProblem {
  assert.is(result.config, undefined, 'an invalid config yields no config');
  const found = result.errors.find((e) => pattern.test(e.message));
  assert.ok(found, `expected an error matching ${pattern}, got:\n${result.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n')}`);
  assert.ok(found.line >= 1 && found.col >= 1, `positioned: ${found.line}:${found.col}`);
  assert.is(found.file, FILE);
  assert.ok(found.hint, 'has a hint');
  return found;
}

test('a YAML alias bomb is a config problem at the first alias, not an exception', () => {
  const text = [
    'version: 1',
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
    'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
    'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
  ].join('\n');
  const problem = errorMatching(load(text), /alias/i);
  assert.equal([problem.line, problem.col], [3, 8]);
});

test('a few ordinary aliases still work', () => {
  const result = load(['version: 1', 'policies:', '  ci: &ci { keep: [{ newest: 3 }] }', '  cd: *ci', 'repos:', '  - { repo: ghcr.io/a/b, cleanup: ci }', '  - { repo: ghcr.io/a/c, cleanup: cd }'].join('\n'));
  assert.equal(result.errors, []);
  assert.equal(result.config?.policies['cd']?.keep, [{ kind: 'newest', count: 3 }]);
});

test('nesting deeper than the limit is one problem at the level that crosses it', () => {
  const flow = load(`version: 1\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
  const problem = errorMatching(flow, /nest/);
  assert.is(problem.line, 2);
  assert.is(flow.errors.length, 1, flow.errors.map((e) => e.message).join('\n'));
  const block = load(['version: 1', ...Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`), `${' '.repeat(200)}v`].join('\n'));
  errorMatching(block, /nest/);
});

test('a document over the size limit is refused before parsing', () => {
  const started = performance.now();
  const result = load(`version: 1\nx: "${'a'.repeat(2 * 1024 * 1024)}"\n`);
  errorMatching(result, /KiB/);
  assert.ok(performance.now() - started < 2000, 'quickly');
});

test('an over-long string and an over-long list are problems at their position', () => {
  errorMatching(load(['version: 1', ...POLICY, 'repos:', `  - repo: ghcr.io/acme/${'a'.repeat(10_000)}`, '    cleanup: ci'].join('\n')), /characters/);
  const problem = errorMatching(load(['version: 1', ...POLICY, `repos: [${'x, '.repeat(5001)}]`].join('\n')), /entries/);
  assert.equal([problem.line, problem.col, problem.path, problem.message], [6, 8, '/repos', '"repos" has 5,001 entries (at most 5,000)']);
});

test('a NUL byte in an oci: path (or any path) is a problem at that value', () => {
  const problem = errorMatching(load(['version: 1', ...POLICY, 'repos:', '  - repo: "oci:./lay\\0out"', '    cleanup: ci'].join('\n')), /NUL|control character/);
  assert.equal([problem.line, problem.col, problem.path], [7, 11, '/repos/0/repo']);
  errorMatching(load(['version: 1', 'policies:', '  ci:', '    keep:', '      - listed: "./deployed\\0.txt"', ...REPO].join('\n')), /NUL|control character/);
});

test('a commit count too large to pass to git is a schema problem', () => {
  const problem = errorMatching(load(['version: 1', 'policies:', '  ci:', '    keep:', '      - gitRefs: { commits: 1e21 }', ...REPO].join('\n')), /<= 1000000/);
  assert.equal([problem.line, problem.path], [5, '/policies/ci/keep/0/gitRefs/commits']);
});

test('long names do not make did-you-mean suggestions quadratic', () => {
  const names = Array.from({ length: 100 }, (_, i) => `p${i}${'x'.repeat(1000)}`);
  const text = ['version: 1', 'policies:', ...names.map((n) => `  ${n}: { keep: [{ newest: 1 }] }`), 'repos:', '  - repo: ghcr.io/a/b', `    cleanup: "${'y'.repeat(4000)}"`].join('\n');
  const started = performance.now();
  errorMatching(load(text), /unknown policy/);
  assert.ok(performance.now() - started < 2000, `validated in ${(performance.now() - started).toFixed(0)} ms`);
});

test('lookaround and backreferences are refused at validate with an RE2 hint', () => {
  const lookahead = errorMatching(load(['version: 1', 'policies:', '  ci:', '    keep:', "      - tags: '^(?!pr-)'", ...REPO].join('\n')), /lookaround/);
  assert.equal([lookahead.line, lookahead.col, lookahead.path], [5, 15, '/policies/ci/keep/0/tags']);
  assert.match(lookahead.hint ?? '', /delete\.tags|keep rule/);
  const backreference = errorMatching(load(['version: 1', 'policies:', '  ci:', "    delete: { tags: '^(a)\\1$' }", ...REPO].join('\n')), /backreference/);
  assert.equal([backreference.line, backreference.path], [4, '/policies/ci/delete/tags']);
});

test('patterns V8 only rejects (or chokes on) when first used are refused at validate', () => {
  const result = load(['version: 1', 'policies:', '  ci:', '    keep:', `      - tags: '${'(?=a'.repeat(400)}${')'.repeat(400)}'`, "      - tags: '(?:.{1000}){1000}'", "      - tags: '(?:a|b|c){9999}x'", ...REPO].join('\n'));
  assert.equal(result.errors.map((e) => e.line), [5, 6, 7], result.errors.map((e) => e.message).join('\n'));
});

test('the patterns shipped in examples/ and the README keep compiling', () => {
  for (const pattern of ['^v\\d+\\.\\d+\\.\\d+$', '^(latest|\\d+(\\.\\d+){0,2})$', '^v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$', '^(pr|branch|main)-', '^(?<kind>pr|main)-\\d+$']) {
    const result = load(['version: 1', 'policies:', '  ci:', '    keep:', `      - tags: '${pattern}'`, ...REPO].join('\n'));
    assert.equal(result.errors, [], pattern);
  }
});

test.run();
