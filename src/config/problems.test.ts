/** One test per kind of config problem: the exact line, column, path, message and hint a user sees. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConfigProblem } from '../errors.ts';
import { loadConfig } from './load.ts';

const FILE = '/work/app/registry.config.yaml';
const load = (lines: string[]) => loadConfig(lines.join('\n') + '\n', { file: FILE });

/** The config must fail with exactly one error; returns it. */
function onlyError(lines: string[]): ConfigProblem {
  const result = load(lines);
  assert.is(result.config, undefined, 'an invalid config yields no config');
  assert.is(result.errors.length, 1, `expected one error, got:\n${result.errors.map((e) => `${e.line}:${e.col} ${e.path} ${e.message}`).join('\n')}`);
  return result.errors[0] as ConfigProblem;
}

function expectAt(problem: ConfigProblem | undefined, expected: { line: number; col: number; path: string; message: string; hint?: string }): void {
  assert.ok(problem, 'the problem exists');
  assert.equal(
    { line: problem.line, col: problem.col, path: problem.path, message: problem.message, ...(expected.hint === undefined ? {} : { hint: problem.hint }) },
    expected,
  );
  assert.is(problem.file, FILE);
}

const POLICY = ['policies:', '  ci:', '    keep:', '      - newest: 3'];
const REPO = ['repos:', '  - repo: ghcr.io/acme/api', '    cleanup: ci'];

test('a YAML syntax error names its line and column and stops there', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/api: x', '    cleanup: nope']), {
    line: 3, col: 11, path: '', message: 'YAML syntax error: Nested mappings are not allowed in compact mappings',
    hint: 'fix the YAML syntax (indentation, quotes, brackets); every later check needs a parseable file',
  });
  expectAt(onlyError(['version: 1', '\tsettings: {}']), { line: 2, col: 1, path: '', message: 'YAML syntax error: Tabs are not allowed as indentation' });
});

test('a duplicate key points at the second occurrence and names the first line', () => {
  expectAt(onlyError(['version: 1', ...POLICY, '  ci:', '    keep: []', ...REPO]), {
    line: 6, col: 3, path: '/policies/ci', message: 'duplicate key "ci" (first defined at line 3)',
    hint: 'a key may appear once per mapping; merge the two entries or remove one',
  });
});

test('a regex that does not compile is reported in keep.tags, newest.tags and delete.tags, quoting the RE2 error', () => {
  const result = load([
    'version: 1', 'policies:', '  ci:', '    keep:',
    "      - tags: '^(v'",
    '      - newest: 2',
    "        tags: 'main-['",
    "    delete: { tags: '*' }",
    ...REPO,
  ]);
  assert.equal(result.errors.map((e) => [e.line, e.col, e.path]), [
    [5, 15, '/policies/ci/keep/0/tags'],
    [7, 15, '/policies/ci/keep/1/tags'],
    [8, 21, '/policies/ci/delete/tags'],
  ]);
  assert.is(result.errors[0]?.message, 'invalid regular expression "^(v": missing closing ): `^(v`');
  assert.is(result.errors[2]?.message, 'invalid regular expression "*": missing argument to repetition operator: `*`');
  assert.match(result.errors[0]?.hint ?? '', 'RE2 syntax');
});

test('groupBy: only next to newest or pushedWithin, and its pattern must compile', () => {
  const misplaced = onlyError(['version: 1', 'policies:', '  ci:', '    keep:', "      - { tags: '^v', groupBy: '^(v)' }", ...REPO]);
  assert.is(misplaced.line, 5);
  assert.is(misplaced.path, '/policies/ci/keep/0/groupBy');
  assert.is(misplaced.message, 'groupBy works only with newest or pushedWithin');
  const broken = onlyError(['version: 1', 'policies:', '  ci:', '    keep:', "      - { newest: 2, groupBy: '^pr-(' }", ...REPO]);
  assert.is(broken.path, '/policies/ci/keep/0/groupBy');
  assert.match(broken.message, /invalid regular expression "\^pr-\("/);
  const fine = load(['version: 1', 'policies:', '  ci:', '    keep:', "      - { newest: 2, groupBy: '^pr-(\\d+)-' }", "      - { pushedWithin: 7d, groupBy: '^pr-(\\d+)-' }", ...REPO]);
  assert.equal(fine.errors, []);
  assert.equal(fine.config?.policies['ci']?.keep, [{ kind: 'newest', count: 2, groupBy: '^pr-(\\d+)-' }, { kind: 'pushedWithin', durationMs: 7 * 86_400_000, text: '7d', groupBy: '^pr-(\\d+)-' }]);
});

test('inUse: exactly one source, with a hint showing each', () => {
  for (const rule of ['{ inUse: {} }', '{ inUse: { file: a.txt, command: [b] } }']) {
    const problem = onlyError(['version: 1', 'policies:', '  ci:', '    keep:', `      - ${rule}`, ...REPO]);
    assert.is(problem.line, 5);
    assert.is(problem.message, 'inUse needs exactly one source: kubernetes, file or command');
    assert.match(problem.hint ?? '', 'inUse: { kubernetes: { context: prod } }');
  }
});

test('an unknown policy name suggests the close one and lists the defined names', () => {
  expectAt(onlyError(['version: 1', ...POLICY, 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup: cii']), {
    line: 8, col: 14, path: '/repos/0/cleanup', message: 'unknown policy "cii"', hint: 'did you mean "ci"? (defined policies: ci)',
  });
});

test('an unknown policy name with no policies defined says so', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup: ci']), {
    line: 4, col: 14, path: '/repos/0/cleanup', message: 'unknown policy "ci"',
    hint: 'this config defines no policies; add one under policies: or write the policy inline',
  });
});

test('a duration that does not parse shows the valid forms', () => {
  expectAt(onlyError(['version: 1', 'settings:', '  grace: 2 hours', ...POLICY, ...REPO]), {
    line: 3, col: 10, path: '/settings/grace', message: 'duration "2 hours" does not parse',
    hint: 'write a number and a unit (s, m, h, d, w): 30m, 2h, 14d, 1w, or combined like 1d12h',
  });
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - pushedWithin: 14days', ...REPO]), {
    line: 5, col: 23, path: '/policies/ci/keep/0/pushedWithin', message: 'duration "14days" does not parse',
  });
});

test('settings.timeout must be a duration of at least 1s and at most 1h', () => {
  expectAt(onlyError(['version: 1', 'settings:', '  timeout: 0s', ...POLICY, ...REPO]), {
    line: 3, col: 12, path: '/settings/timeout', message: 'settings.timeout must be at least 1s, not "0s"',
    hint: 'the timeout is per request (one attempt); 120s is the default',
  });
  expectAt(onlyError(['version: 1', 'settings:', '  timeout: 2h', ...POLICY, ...REPO]), {
    line: 3, col: 12, path: '/settings/timeout', message: 'settings.timeout must be at most 1h, not "2h"',
  });
  expectAt(onlyError(['version: 1', 'settings:', '  timeout: 2 minutes', ...POLICY, ...REPO]), {
    line: 3, col: 12, path: '/settings/timeout', message: 'duration "2 minutes" does not parse',
  });
});

test('an unknown registry type lists the valid names and suggests the close one', () => {
  expectAt(onlyError(['version: 1', 'registries:', '  ghcr.io:', '    type: githb', ...POLICY, ...REPO]), {
    line: 4, col: 11, path: '/registries/ghcr.io/type', message: 'unknown registry type "githb"',
    hint: 'did you mean "github"? valid types: auto, default, ecr, acr, dockerhub, gcr, github, gitlab, harbor, artifactory, nexus, quay, yandex, selectel',
  });
});

test('a literal secret in credentials is an error that never echoes the value', () => {
  const secret = 'ghp_S3cr3tT0kenValue';
  const problem = onlyError(['version: 1', 'registries:', '  ghcr.io:', '    credentials:', `      token: ${secret}`, ...POLICY, ...REPO]);
  expectAt(problem, {
    line: 5, col: 14, path: '/registries/ghcr.io/credentials/token',
    message: 'literal secret in "token": secrets are never written in the config (the value is not shown)',
    hint: 'write token: { env: REGPLAN_TOKEN } (or { file: ./path }) and set that variable in CI; if this file was committed, rotate the secret',
  });
  assert.not.match(JSON.stringify(problem), secret);
});

test('a secret-looking key anywhere holding a literal is flagged once, without the unknown-property noise', () => {
  const result = load(['version: 1', 'registries:', '  harbor.example.com:', "    password: 'hunter2'", ...POLICY, ...REPO]);
  assert.is(result.errors.length, 1);
  expectAt(result.errors[0], {
    line: 4, col: 15, path: '/registries/harbor.example.com/password', message: 'literal secret in "password": secrets are never written in the config (the value is not shown)',
  });
  assert.not.match(JSON.stringify(result), 'hunter2');
});

test('a repo listed twice points at the second and names the first line', () => {
  expectAt(onlyError(['version: 1', ...POLICY, ...REPO, '  - repo: ghcr.io/acme/api', '    cleanup: ci']), {
    line: 9, col: 11, path: '/repos/1/repo', message: 'repo "ghcr.io/acme/api" is listed twice (first at line 7)',
    hint: 'merge the two entries: one entry can have both cleanup and bundles',
  });
});

test('an invalid repo address quotes it with parseRepo\'s hint', () => {
  expectAt(onlyError(['version: 1', ...POLICY, 'repos:', '  - repo: ghcr.io/acme/-api', '    cleanup: ci']), {
    line: 7, col: 11, path: '/repos/0/repo', message: 'invalid repository address "ghcr.io/acme/-api"',
    hint: 'a repo is host[:port]/path in lowercase letters, digits and . _ - separators, without a tag or digest (e.g. ghcr.io/acme/api)',
  });
});

test('a tag or digest in a repo address is refused with the bare address in the hint', () => {
  expectAt(onlyError(['version: 1', ...POLICY, 'repos:', '  - repo: ghcr.io/a/b:1.0', '    cleanup: ci']), {
    line: 7, col: 11, path: '/repos/0/repo', message: 'repo "ghcr.io/a/b:1.0" includes a tag',
    hint: 'write the repo without it (ghcr.io/a/b); tags to keep or delete come from the policy, tags to push from bundles[].tag',
  });
  const digest = onlyError(['version: 1', ...POLICY, 'repos:', `  - repo: localhost:5000/a@sha256:${'a'.repeat(64)}`, '    cleanup: ci']);
  assert.is(digest.message, `repo "localhost:5000/a@sha256:${'a'.repeat(64)}" includes a digest`);
  // host:port alone is not mistaken for a tag
  const result = load(['version: 1', ...POLICY, 'repos:', '  - repo: localhost:5000/demo/app', '    cleanup: ci']);
  assert.equal(result.errors, []);
});

test('an invalid bundle tag is reported at the tag', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/charts', '    bundles:', '      - tag: -rc', '        chart: ./chart']), {
    line: 5, col: 14, path: '/repos/0/bundles/0/tag', message: 'invalid bundle tag "-rc"',
    hint: 'a tag is 1-128 letters, digits, "_", "." and "-", not starting with "." or "-"',
  });
});

test('a bundle tag used twice in one repo is reported at the second', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/charts', '    bundles:', '      - tag: 1.0.0', '        chart: ./a', '      - tag: 1.0.0', '        chart: ./b']), {
    line: 7, col: 14, path: '/repos/0/bundles/1/tag', message: 'bundle tag "1.0.0" is pushed twice in this repo (also bundles[0])', hint: 'give each bundle its own tag',
  });
});

test('a bundle with no content or with several is reported at the bundle', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/charts', '    bundles:', '      - tag: a']), {
    line: 5, col: 9, path: '/repos/0/bundles/0', message: 'bundle has nothing to push: it needs chart, files or image',
  });
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/charts', '    bundles:', '      - tag: a', '        chart: ./c', '        files: [./f]']), {
    line: 5, col: 9, path: '/repos/0/bundles/0', message: 'bundle has several contents: chart, files',
    hint: 'a bundle is exactly one of chart: <dir>, files: [<paths>], image: oci:<dir>:<tag>; use one bundle (and tag) per artifact',
  });
});

test('a bundle image that is not an OCI layout reference is an error', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/web', '    bundles:', '      - tag: a', '        image: ghcr.io/acme/web:1']), {
    line: 6, col: 16, path: '/repos/0/bundles/0/image', message: 'image "ghcr.io/acme/web:1" is not an OCI layout reference',
  });
});

test('a policy with no keep rules and no delete scope is a warning, not an error', () => {
  const result = load(['version: 1', 'policies:', '  wipe: {}', 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup: wipe']);
  assert.equal(result.errors, []);
  assert.ok(result.config);
  assert.is(result.warnings.length, 1);
  expectAt(result.warnings[0], {
    line: 3, col: 9, path: '/policies/wipe', message: 'policy has no keep rules and no delete scope: every tag older than settings.grace is deleted',
    hint: "add keep rules, or delete: { tags: '^(pr|branch)-' } to limit what can be deleted",
  });
});

test('a policy with keep rules but no delete scope is a warning at the policy name: every other tag is a candidate', () => {
  const result = load(['version: 1', ...POLICY, ...REPO]);
  assert.equal(result.errors, []);
  assert.ok(result.config);
  assert.is(result.warnings.length, 1);
  expectAt(result.warnings[0], {
    line: 3, col: 3, path: '/policies/ci',
    message: 'policy has no delete scope: every tag no keep rule keeps is a deletion candidate, "latest" and "v*" releases included',
    hint: "add delete: { tags: '^(pr|branch)-' } to limit what can be deleted, or delete: { tags: '.*' } if every tag is meant",
  });
  const inline = load(['version: 1', 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup:', '      keep: [{ newest: 3 }]']);
  expectAt(inline.warnings[0], {
    line: 4, col: 5, path: '/repos/0/cleanup',
    message: 'policy has no delete scope: every tag no keep rule keeps is a deletion candidate, "latest" and "v*" releases included',
  });
  const scoped = load(['version: 1', ...POLICY, "    delete: { tags: '.*' }", ...REPO]);
  assert.equal(scoped.warnings, []);
});

test('a repo written as a URL says to drop the scheme, naming the bare address', () => {
  expectAt(onlyError(['version: 1', ...POLICY, "    delete: { tags: '^pr-' }", 'repos:', '  - repo: https://ghcr.io/acme/app', '    cleanup: ci']), {
    line: 8, col: 11, path: '/repos/0/repo', message: 'invalid repository address "https://ghcr.io/acme/app": a repo is not a URL',
    hint: 'drop the scheme: write ghcr.io/acme/app (plain http is used only for loopback hosts and registries marked insecure: true)',
  });
  expectAt(onlyError(['version: 1', ...POLICY, "    delete: { tags: '^pr-' }", 'repos:', '  - repo: docker://ghcr.io/acme/app:1.0', '    cleanup: ci']), {
    line: 8, col: 11, path: '/repos/0/repo', message: 'invalid repository address "docker://ghcr.io/acme/app:1.0": a repo is not a URL',
    hint: 'drop the scheme: write ghcr.io/acme/app:1.0',
  });
});

test('an upper-case repo suggests its lower-case spelling', () => {
  expectAt(onlyError(['version: 1', ...POLICY, "    delete: { tags: '^pr-' }", 'repos:', '  - repo: ghcr.io/Acme/App', '    cleanup: ci']), {
    line: 8, col: 11, path: '/repos/0/repo', message: 'invalid repository address "ghcr.io/Acme/App"',
    hint: 'repository names are lower-case: write ghcr.io/acme/app',
  });
});

test('listed written as { file: ... } shows the plain-path form', () => {
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - listed: { file: ./deployed.txt }', "    delete: { tags: '^pr-' }", ...REPO]), {
    line: 5, col: 17, path: '/policies/ci/keep/0/listed', message: 'listed must be a file path, found a mapping',
    hint: 'write the path itself: listed: ./deployed.txt (relative to the config file; { file: ... } is the form of credentials)',
  });
});

test('a number written as a word gets the digits back; other text gets the default as an example', () => {
  expectAt(onlyError(['version: 1', 'settings:', '  concurrency: "eight"', ...POLICY, "    delete: { tags: '^pr-' }", ...REPO]), {
    line: 3, col: 16, path: '/settings/concurrency', message: 'concurrency must be an integer, found a string',
    hint: 'write a number without quotes: concurrency: 8',
  });
  expectAt(onlyError(['version: 1', 'settings:', '  concurrency: three', ...POLICY, "    delete: { tags: '^pr-' }", ...REPO]), {
    line: 3, col: 16, path: '/settings/concurrency', message: 'concurrency must be an integer, found a string', hint: 'write a number without quotes: concurrency: 3',
  });
  expectAt(onlyError(['version: 1', 'settings:', '  concurrency: lots', ...POLICY, "    delete: { tags: '^pr-' }", ...REPO]), {
    line: 3, col: 16, path: '/settings/concurrency', message: 'concurrency must be an integer, found a string', hint: 'write a number without quotes: concurrency: 8',
  });
});

test('version missing points at the document start; version 2 at the value', () => {
  expectAt(onlyError(['# comment', ...POLICY, ...REPO]), {
    line: 2, col: 1, path: '/version', message: 'version is missing', hint: 'add "version: 1" as the first line after the comments',
  });
  expectAt(onlyError(['version: 2', ...POLICY, ...REPO]), {
    line: 1, col: 10, path: '/version', message: 'version must be 1, found the number 2', hint: 'this regplan reads config version 1; write "version: 1"',
  });
});

test('a string where an integer belongs is a type error with a hint to drop the quotes', () => {
  expectAt(onlyError(['version: 1', 'settings:', '  concurrency: "8"', ...POLICY, ...REPO]), {
    line: 3, col: 16, path: '/settings/concurrency', message: 'concurrency must be an integer, found a string', hint: 'write the number without quotes: concurrency: 8',
  });
});

test('a number where a tag belongs is a type error with a hint to quote it as written', () => {
  expectAt(onlyError(['version: 1', 'repos:', '  - repo: ghcr.io/acme/web', '    bundles:', '      - tag: 1.40', '        chart: ./c']), {
    line: 5, col: 14, path: '/repos/0/bundles/0/tag', message: 'tag must be a string, found the number 1.4', hint: "quote it so YAML reads it as text: tag: '1.40'",
  });
});

test('an unknown top-level key suggests the intended one', () => {
  expectAt(onlyError(['version: 1', 'polices:', '  ci: {}', 'repos: []']), {
    line: 2, col: 1, path: '/polices', message: 'unknown top-level key "polices"',
    hint: 'did you mean "policies"? (allowed here: version, settings, registries, policies, repos)',
  });
});

test('an unknown property in a keep rule suggests the intended kind and hides the "no kind" noise', () => {
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - newst: 3', ...REPO]), {
    line: 5, col: 9, path: '/policies/ci/keep/0/newst', message: 'unknown property "newst"',
    hint: 'did you mean "newest"? (allowed here: tags, newest, pushedWithin, pulledWithin, groupBy, semver, gitRefs, listed, inUse)',
  });
});

test('a keep rule with two kinds (other than newest + tags) or none is an error at the rule', () => {
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', "      - tags: '^v'", '        listed: ./tags.txt', ...REPO]), {
    line: 5, col: 9, path: '/policies/ci/keep/0', message: 'keep rule mixes several kinds: tags, listed',
    hint: 'write one kind per list item: tags, newest (optionally with tags as its scope), pushedWithin, pulledWithin, semver, gitRefs, listed or inUse',
  });
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - {}', ...REPO]), {
    line: 5, col: 9, path: '/policies/ci/keep/0', message: 'keep rule has no rule kind',
  });
});

test('a semver rule with no count is an error', () => {
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - semver: { prerelease: true }', ...REPO]), {
    line: 5, col: 17, path: '/policies/ci/keep/0/semver', message: 'semver rule keeps nothing: it needs latestPerMinor, latestPerMajor or latestMajors',
    hint: 'e.g. semver: { latestPerMinor: 2, latestMajors: 3 }',
  });
});

test('newest: 0 is an error that says how to keep none', () => {
  expectAt(onlyError(['version: 1', 'policies:', '  ci:', '    keep:', '      - newest: 0', ...REPO]), {
    line: 5, col: 17, path: '/policies/ci/keep/0/newest', message: 'newest must be an integer >= 1, found the number 0',
    hint: 'newest: N keeps the N most recently pushed tags; to keep none this way, remove the rule',
  });
});

test('concurrency: 0 is an error', () => {
  expectAt(onlyError(['version: 1', 'settings:', '  concurrency: 0', ...POLICY, ...REPO]), {
    line: 3, col: 16, path: '/settings/concurrency', message: 'concurrency must be an integer >= 1, found the number 0',
    hint: 'concurrency is the number of parallel requests per registry host; 1 means one at a time (default 8)',
  });
});

test('an env var name that is not an identifier is an error', () => {
  expectAt(onlyError(['version: 1', 'registries:', '  ghcr.io:', '    credentials:', '      token: { env: GH-TOKEN }', ...POLICY, ...REPO]), {
    line: 5, col: 21, path: '/registries/ghcr.io/credentials/token/env',
    message: 'env must name an environment variable (letters, digits and _, not starting with a digit)',
  });
});

test('a secret reference with both env and file is an error', () => {
  expectAt(onlyError(['version: 1', 'registries:', '  ghcr.io:', '    credentials:', '      token: { env: A, file: ./b }', ...POLICY, ...REPO]), {
    line: 5, col: 14, path: '/registries/ghcr.io/credentials/token', message: 'secret reference has both env and file',
  });
});

test('a registries key that is not a host[:port] is reported at the key', () => {
  expectAt(onlyError(['version: 1', 'registries:', '  https://ghcr.io:', '    type: github', ...POLICY, ...REPO]), {
    line: 3, col: 3, path: '/registries/https:~1~1ghcr.io', message: 'registry key "https://ghcr.io" is not a host[:port]',
  });
});

test('an api that is not an http(s) URL is an error', () => {
  expectAt(onlyError(['version: 1', 'registries:', '  ghcr.io:', '    api: api.github.com', ...POLICY, ...REPO]), {
    line: 4, col: 10, path: '/registries/ghcr.io/api', message: 'api "api.github.com" is not an http(s) URL',
  });
});

test('untagged must be delete or keep', () => {
  expectAt(onlyError(['version: 1', ...POLICY, '    untagged: purge', ...REPO]), {
    line: 6, col: 15, path: '/policies/ci/untagged', message: 'untagged must be one of delete, keep, found "purge"', hint: 'valid values: delete, keep',
  });
});

test('delete without tags points at the delete mapping', () => {
  expectAt(onlyError(['version: 1', ...POLICY, '    delete: {}', ...REPO]), {
    line: 6, col: 13, path: '/policies/ci/delete/tags', message: 'missing required property "tags"',
    hint: "write delete: { tags: '^(pr|branch)-' } to limit deletion, or delete: { tags: '.*' } to make every tag a candidate",
  });
});

test('cleanup of the wrong type says what it accepts', () => {
  expectAt(onlyError(['version: 1', ...POLICY, 'repos:', '  - repo: ghcr.io/acme/api', '    cleanup: [ci]']), {
    line: 8, col: 14, path: '/repos/0/cleanup', message: 'cleanup must be a policy name or an inline policy, found a list',
  });
});

test('an empty file and a file that is not a mapping are errors', () => {
  expectAt(onlyError(['# nothing yet']), { line: 1, col: 1, path: '', message: 'the config is empty' });
  expectAt(onlyError(['- version: 1']), { line: 1, col: 1, path: '', message: 'the config must be a mapping, found a list' });
});

test('unused policies, registries that no repo lives on and repos that do nothing are warnings', () => {
  const result = load([
    'version: 1',
    'registries:',
    '  ghcr.ioo: {}',
    'policies:',
    "  ci: { keep: [{ newest: 3 }], delete: { tags: '^pr-' } }",
    '  old:',
    "    keep: [{ newest: 1 }]",
    "    delete: { tags: '^pr-' }",
    ...REPO,
    '  - repo: ghcr.io/acme/idle',
  ]);
  assert.equal(result.errors, []);
  assert.equal(result.warnings.map((w) => [w.line, w.col, w.message, w.hint]), [
    [3, 3, 'registry "ghcr.ioo" is not the host of any repo', 'did you mean "ghcr.io"?'],
    [6, 3, 'policy "old" is not used by any repo', 'refer to it with cleanup: old in repos[], or remove it'],
    [12, 5, 'repo "ghcr.io/acme/idle" has neither cleanup nor bundles: regplan does nothing with it', 'add cleanup: <policy> or bundles: [...], or remove the entry'],
  ]);
});

test('every problem in a file is reported at once, sorted by position', () => {
  const result = load([
    'version: 1',
    'settings: { concurrency: 0, grace: soon }',
    'policies:',
    '  ci:',
    "    keep: [{ tags: '(' }, { newest: 0 }]",
    'repos:',
    '  - repo: ghcr.io/a/b:latest',
    '    cleanup: nope',
  ]);
  assert.equal(result.errors.map((e) => `${e.line}:${e.col} ${e.path}`), [
    '2:26 /settings/concurrency',
    '2:36 /settings/grace',
    '5:20 /policies/ci/keep/0/tags',
    '5:37 /policies/ci/keep/1/newest',
    '7:11 /repos/0/repo',
    '8:14 /repos/0/cleanup',
  ]);
});

test.run();
