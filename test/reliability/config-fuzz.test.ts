/**
 * Config fuzzing: thousands of generated documents through the config loader `validate` uses (loadConfig), and
 * every one that loads through plan evaluation over a synthetic inventory with hostile tags. The only outcomes
 * allowed: a config, or problems that each have a line and column (what ConfigError carries); never another
 * exception, and never more than PER_DOCUMENT_MS for one document. Documents: random YAML, regplan configs built
 * from the schema's shapes and then mutated with hostile snippets, alias bombs, deep nesting, huge strings and
 * lists, hostile regexes and NUL bytes.
 *
 * REGPLAN_FUZZ_SEED reproduces a run; REGPLAN_FUZZ_RUNS scales the number of documents (default 1).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { Policy } from '../../src/config/types.ts';
import { evaluateCleanup } from '../../src/plan/evaluate.ts';
import type { PolicyFacts } from '../../src/plan/types.ts';
import { daysAgo, digestOf, GRACE_MS, hoursAgo, inventory, NOW, tag } from '../plan/fixtures.ts';

const FILE = '/work/fuzz/registry.config.yaml';
const PER_DOCUMENT_MS = Number(process.env['REGPLAN_FUZZ_DOCUMENT_MS'] ?? 5000);
const SCALE = Number(process.env['REGPLAN_FUZZ_RUNS'] ?? 1);
const SEED = process.env['REGPLAN_FUZZ_SEED'] === undefined ? Date.now() % 2 ** 31 : Number(process.env['REGPLAN_FUZZ_SEED']);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const stats = { documents: 0, loaded: 0, evaluated: 0, slowestMs: 0, slowest: '' };

// ---------------------------------------------------------------------------------------------------------------
// Generators

/** Patterns users write, patterns that backtrack exponentially, and ones V8 accepts but chokes on or RE2 refuses. */
const KNOWN_PATTERNS = [
  '^v\\d+\\.\\d+\\.\\d+$', '^(latest|\\d+(\\.\\d+){0,2})$', '^v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$', '^(pr|branch|main)-', 'main', '^sha256-',
  '(a+)+$', '^v(\\d+\\.?)+$', '(a|a)*b', '(a|aa)+$', '(.*a){20}', '^(\\w+\\s?)*$', '(x+x+)+y', '([a-z]+)*[0-9]', '(?:a?){30}a{30}',
  '(?=a)', '(?!pr-)', '(?<=v)\\d', '(?<!x)y', '(a)\\1', '(?<n>a)\\k<n>', `${'(?=a'.repeat(300)}${')'.repeat(300)}`, '(?:.{1000}){1000}', '(?:a{1000}){1000}',
  'a{2147483648}', '(?:(?:(?:a{10}){10}){10}){10}', '\\p{L}{1000}\\p{L}{1000}\\p{L}{1000}', '[^]', '\\u0041', '\\cA', '*', '(', '[', '\\', '(?P<x>a)', '(?i)MAIN', '[[:alpha:]]+', '\\Qa.b\\E',
];
const PATTERN_TOKENS = ['a', 'v', '\\d', '\\w', '.', '+', '*', '?', '(', ')', '(?:', '(?=', '(?<=', '|', '^', '$', '[a-z]', '[', ']', '{2}', '{1000}', '{0,}', '{,3}', '\\1', '\\', '\0', '-', '\\.'];
const patternArb = fc.oneof(
  fc.constantFrom(...KNOWN_PATTERNS),
  fc.array(fc.constantFrom(...PATTERN_TOKENS), { minLength: 1, maxLength: 40 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 20 }),
);
const pathArb = fc.oneof(fc.constantFrom('./keep.txt', '/dev/urandom', './deployed\0.txt', '../../etc/passwd', '.', '', 'x'.repeat(5000)), fc.string({ maxLength: 20 }));
const repoArb = fc.oneof(
  fc.constantFrom('ghcr.io/acme/api', 'oci:./layout', 'oci:./lay\0out', 'oci:', 'localhost:5000/a/b', 'nginx', 'ghcr.io/acme/api:1.0', 'ghcr.io/acme/api@sha256:00', 'GHCR.io/Acme', `ghcr.io/${'a'.repeat(300)}`),
  fc.string({ maxLength: 30 }),
);
const numberish = fc.oneof(fc.integer({ min: -2, max: 50 }), fc.constantFrom(0, 1e21, 1e300, -0, 0.5, Number.MAX_SAFE_INTEGER, '3', 'many', null));
const durationArb = fc.oneof(fc.constantFrom('2h', '14d', '1w2d', '0s', '99999999999999999999d', '1d12h', 'soon', ''), fc.string({ maxLength: 8 }));

const keepRuleArb = fc.oneof(
  patternArb.map((tags) => ({ tags })),
  fc.record({ newest: numberish, tags: fc.option(patternArb, { nil: undefined }) }, { requiredKeys: ['newest'] }),
  fc.record({ pushedWithin: durationArb }),
  fc.record({ semver: fc.record({ latestPerMinor: numberish, latestPerMajor: numberish, latestMajors: numberish, prerelease: fc.boolean() }, { requiredKeys: [] }) }),
  fc.record({ gitRefs: fc.record({ repo: pathArb, branches: fc.boolean(), tags: fc.boolean(), commits: numberish }, { requiredKeys: [] }) }),
  fc.record({ listed: pathArb }),
  fc.dictionary(fc.constantFrom('tags', 'newest', 'listed', 'semver', 'extra'), fc.oneof(patternArb, numberish), { maxKeys: 3 }),
);
const policyArb = fc.record(
  { keep: fc.array(keepRuleArb, { maxLength: 5 }), delete: fc.record({ tags: patternArb }, { requiredKeys: [] }), untagged: fc.constantFrom('keep', 'delete', 'maybe') },
  { requiredKeys: [] },
);
const POLICY_NAMES = ['ci', 'cd', 'nightly', 'p-1', 'bad name', ''];
const bundleArb = fc.record(
  { tag: fc.oneof(fc.constantFrom('1.0', 'docs', '-bad', 'x'.repeat(200)), fc.string({ maxLength: 10 })), chart: pathArb, files: fc.array(pathArb, { maxLength: 3 }), image: fc.constantFrom('oci:./build:web', 'web', 'oci:\0:x'), artifactType: fc.constantFrom('application/vnd.acme.docs.v1', 'nope') },
  { requiredKeys: ['tag'] },
);
const configArb = fc.record(
  {
    version: fc.constantFrom(1, 1, 1, 2, '1'),
    settings: fc.record({ concurrency: numberish, grace: durationArb }, { requiredKeys: [] }),
    registries: fc.dictionary(
      fc.constantFrom('ghcr.io', 'localhost:5000', 'Bad Host', 'registry.example.com'),
      fc.record({ type: fc.constantFrom('auto', 'harbor', 'githb'), insecure: fc.boolean(), api: fc.constantFrom('https://x.example.com', 'ftp://x'), credentials: fc.record({ token: fc.oneof(fc.record({ env: fc.constantFrom('TOKEN', '1BAD') }), fc.record({ file: pathArb }), fc.constant('ghp_literal')) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      { maxKeys: 2 },
    ),
    policies: fc.dictionary(fc.constantFrom(...POLICY_NAMES), policyArb, { maxKeys: 4 }),
    repos: fc.array(
      fc.record({ repo: repoArb, cleanup: fc.oneof(fc.constantFrom(...POLICY_NAMES, 'cii'), policyArb), bundles: fc.array(bundleArb, { maxLength: 2 }) }, { requiredKeys: ['repo'] }),
      { maxLength: 5 },
    ),
  },
  { requiredKeys: ['version'] },
);

/** Snippets a mutation inserts: YAML structure, anchors and aliases, tags, directives, control characters. */
const SNIPPETS = ['&a ', '*a', '&b [*a, *a, *a]', '[', ']', '{', '}', '"', "'", '\0', '\\0', '\t', ': ', '- ', '? ', '!!binary ', '!!set ', '!!map ', '!foo ', '%YAML 1.1\n---\n', '---\n', '...\n', '<<: *a\n', '\uFEFF', '\u2028', '#', '|\n', '>-\n', '\n', '  ', '\r\n', '\\x00', '__proto__: {}', 'constructor: 1'];
const mutationArb = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), kind: fc.constantFrom('insert', 'delete', 'duplicate-line', 'replace'), snippet: fc.constantFrom(...SNIPPETS), length: fc.integer({ min: 1, max: 12 }) });

function mutate(text: string, mutations: readonly { at: number; kind: string; snippet: string; length: number }[]): string {
  let out = text;
  for (const m of mutations) {
    const i = Math.floor(m.at * out.length);
    if (m.kind === 'insert') out = out.slice(0, i) + m.snippet + out.slice(i);
    else if (m.kind === 'delete') out = out.slice(0, i) + out.slice(i + m.length);
    else if (m.kind === 'replace') out = out.slice(0, i) + m.snippet + out.slice(i + m.length);
    else {
      const start = out.lastIndexOf('\n', i) + 1;
      const end = out.indexOf('\n', i);
      const line = out.slice(start, end === -1 ? out.length : end);
      out = `${out.slice(0, start)}${line}\n${out.slice(start)}`;
    }
  }
  return out;
}

/** A generated config object as YAML: block style, or flow style (one line per top-level key). */
const configTextArb = fc.tuple(configArb, fc.boolean()).map(([config, flow]) => (flow ? stringify(config, { collectionStyle: 'flow', lineWidth: 0 }) : stringify(config)));
const mutatedConfigArb = fc.tuple(configTextArb, fc.array(mutationArb, { maxLength: 6 })).map(([text, mutations]) => mutate(text, mutations));

/** Random YAML: any JSON-ish value, or a soup of YAML tokens. */
const randomYamlArb = fc.oneof(
  fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true }).map((value) => {
    try {
      return (stringify(value) as string | undefined) ?? '';
    } catch {
      return String(value);
    }
  }),
  fc.array(fc.oneof(fc.constantFrom(...SNIPPETS, 'version: 1\n', 'repos:\n', 'policies:\n', 'keep:\n', 'tags: ', 'a', 'b', '1'), fc.string({ maxLength: 5 })), { maxLength: 60 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** Alias bombs: anchors referring to the previous anchor `width` times, `depth` levels deep, in flow or block style. */
const aliasBombArb = fc.record({ width: fc.integer({ min: 2, max: 12 }), depth: fc.integer({ min: 2, max: 10 }), block: fc.boolean(), merge: fc.boolean(), where: fc.constantFrom('top', 'keep', 'repos') }).map(({ width, depth, block, merge, where }) => {
  const lines = ['version: 1', 'x0: &a0 [lol, lol]'];
  for (let level = 1; level < depth; level++) {
    const refs = Array.from({ length: width }, () => `*a${level - 1}`);
    if (merge) lines.push(`x${level}: &a${level} { ${refs.map((r, i) => `k${i}: ${r}`).join(', ')} }`);
    else lines.push(block ? `x${level}: &a${level}\n${refs.map((r) => `  - ${r}`).join('\n')}` : `x${level}: &a${level} [${refs.join(', ')}]`);
  }
  const last = `*a${depth - 1}`;
  if (where === 'keep') lines.push('policies:', '  ci:', `    keep: ${last}`, 'repos: [{ repo: ghcr.io/a/b, cleanup: ci }]');
  else if (where === 'repos') lines.push(`repos: [${Array.from({ length: width }, () => last).join(', ')}]`);
  else lines.push(`bomb: ${last}`);
  return (merge ? '%YAML 1.1\n---\n' : '') + lines.join('\n');
});

/** Deep nesting, flow or block, closed or not, at depths around the limit and far beyond it. */
const deepArb = fc.record({ depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 40, max: 100_000 })), kind: fc.constantFrom('seq', 'map', 'block-seq', 'block-map', 'mixed'), closed: fc.boolean() }).map(({ depth, kind, closed }) => {
  if (kind === 'seq') return `version: 1\nx: ${'['.repeat(depth)}${closed ? ']'.repeat(depth) : ''}`;
  if (kind === 'map') return `version: 1\nx: ${'{a: '.repeat(depth)}1${closed ? '}'.repeat(depth) : ''}`;
  const levels = Math.min(depth, 700); // block nesting needs its indentation: depth 700 is already ~250 KB
  if (kind === 'block-seq') return `version: 1\nx:\n${Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}-`).join('\n')} 1`;
  if (kind === 'block-map') return `version: 1\nx:\n${Array.from({ length: levels }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1`;
  return `version: 1\nx: ${Array.from({ length: depth }, (_, i) => (i % 2 ? '{k: ' : '[')).join('')}1`;
});

/** Huge strings and lists in the places a config has them; lengths around and past the limits. */
const hugeArb = fc.record({ length: fc.oneof(fc.integer({ min: 1000, max: 6000 }), fc.integer({ min: 6000, max: 300_000 })), where: fc.constantFrom('repo', 'key', 'pattern', 'policy-name', 'list', 'comment', 'annotation'), quoted: fc.boolean() }).map(({ length, where, quoted }) => {
  const big = 'a'.repeat(length);
  const q = (s: string) => (quoted ? JSON.stringify(s) : s);
  if (where === 'repo') return `version: 1\nrepos:\n  - repo: ${q(`ghcr.io/acme/${big}`)}\n    cleanup: { keep: [{ newest: 1 }] }`;
  if (where === 'key') return `version: 1\n${quoted ? `"${big}"` : `? ${big}`}: 1`;
  if (where === 'pattern') return `version: 1\npolicies:\n  ci: { keep: [{ tags: ${q(`^${big}$`)} }] }\nrepos: [{ repo: ghcr.io/a/b, cleanup: ci }]`;
  if (where === 'policy-name') return `version: 1\npolicies:\n  ${big}: { keep: [{ newest: 1 }] }\nrepos: [{ repo: ghcr.io/a/b, cleanup: ${big}b }]`;
  if (where === 'list') return `version: 1\nrepos: [${'{ repo: ghcr.io/a/b }, '.repeat(Math.floor(length / 25))}]`;
  if (where === 'comment') return `# ${big}\nversion: 1`;
  return `version: 1\nrepos:\n  - repo: ghcr.io/a/b\n    bundles: [{ tag: t, files: [a], annotations: { k: ${q(big)} } }]`;
});

/** Hostile regexes (and NUL bytes) in every pattern field of an otherwise valid config. */
const hostileRegexConfigArb = fc.record({ pattern: patternArb, where: fc.constantFrom('keep', 'newest', 'delete', 'inline') }).map(({ pattern, where }) => {
  const p = JSON.stringify(pattern);
  const policy = where === 'keep' ? `{ keep: [{ tags: ${p} }] }` : where === 'newest' ? `{ keep: [{ newest: 2, tags: ${p} }] }` : `{ keep: [{ newest: 1 }], delete: { tags: ${p} } }`;
  return where === 'inline'
    ? `version: 1\nrepos:\n  - repo: ghcr.io/acme/api\n    cleanup: { keep: [{ tags: ${p} }], delete: { tags: ${p} } }`
    : `version: 1\npolicies:\n  ci: ${policy}\nrepos:\n  - { repo: ghcr.io/acme/api, cleanup: ci }\n  - { repo: oci:./layout, cleanup: ci }`;
});

// ---------------------------------------------------------------------------------------------------------------
// The property

/** Tags the evaluation subset judges: ordinary ones and the shapes that stalled backtracking patterns. */
const TAGS = [
  ...Array.from({ length: 150 }, (_, i) => tag(i % 4 === 0 ? `v1.${i}.0` : i % 4 === 1 ? `main-${i}` : i % 4 === 2 ? `pr-${i}` : `sha-${digestOf(String(i)).slice(7, 19)}`, digestOf(String(i % 120)), i % 7 === 0 ? hoursAgo(1) : daysAgo(i % 40))),
  tag(`${'a'.repeat(40)}!`, digestOf('bomb-a'), daysAgo(50)),
  tag(`v${'1'.repeat(38)}!`, digestOf('bomb-v'), daysAgo(50)),
  tag('x'.repeat(129), digestOf('too-long'), daysAgo(50)),
  tag('latest', digestOf('1'), undefined),
];

/** Facts for every gitRefs and listed rule (evaluation is pure; reading them is facts.ts's job, tested elsewhere). */
function factsFor(policies: readonly Policy[]): PolicyFacts {
  const facts: PolicyFacts = { git: {}, listed: {} };
  for (const rule of policies.flatMap((p) => p.keep)) {
    if (rule.kind === 'gitRefs') facts.git[rule.repo] = { branches: ['main', 'feature/x'], tags: ['v1.4.0'], commits: [digestOf('c1').slice(7, 47)] };
    if (rule.kind === 'listed') facts.listed[rule.file] = ['v1.0.0', 'ghcr.io/acme/api:main-1', '# comment'];
  }
  return facts;
}

/** The property every document must have; returns nothing, fails by assertion. */
function checkDocument(text: string): void {
  stats.documents++;
  const started = performance.now();
  let result: ReturnType<typeof loadConfig>;
  try {
    result = loadConfig(text, { file: FILE });
  } catch (error) {
    throw new Error(`loadConfig threw ${(error as Error).name}: ${(error as Error).message}\n--- document (${text.length} chars) ---\n${text.slice(0, 600)}`);
  }
  for (const problem of result.errors) {
    if (!(problem.line >= 1 && problem.col >= 1 && problem.message !== '' && problem.file === FILE)) {
      throw new Error(`a problem without a position: ${JSON.stringify(problem).slice(0, 300)}\n--- document ---\n${text.slice(0, 600)}`);
    }
  }
  if (result.errors.length === 0 && result.config === undefined) throw new Error(`no config and no errors\n--- document ---\n${text.slice(0, 600)}`);
  if (result.config !== undefined) {
    stats.loaded++;
    const targets = result.config.repos.filter((repo) => repo.cleanup !== undefined).map((repo, i) => ({
      inventory: inventory({ repo: `${repo.repo}#${i}`, tags: TAGS }),
      policy: repo.cleanup as Policy,
    }));
    if (targets.length > 0) {
      stats.evaluated++;
      try {
        evaluateCleanup(targets, { facts: factsFor(targets.map((t) => t.policy)), now: NOW, graceMs: result.config.settings.graceMs });
      } catch (error) {
        throw new Error(`evaluation of a valid config threw ${(error as Error).name}: ${(error as Error).message}\n--- document ---\n${text.slice(0, 600)}`);
      }
    }
  }
  const ms = performance.now() - started;
  if (ms > stats.slowestMs) Object.assign(stats, { slowestMs: ms, slowest: `${text.length} chars: ${JSON.stringify(text.slice(0, 60))}` });
  if (ms > PER_DOCUMENT_MS) throw new Error(`took ${ms.toFixed(0)} ms (bound ${PER_DOCUMENT_MS} ms)\n--- document (${text.length} chars) ---\n${text.slice(0, 600)}`);
}

const property = (name: string, arb: fc.Arbitrary<string>, numRuns: number) =>
  test(`${name}: only a config or positioned problems, within ${PER_DOCUMENT_MS} ms each (${runs(numRuns)} documents)`, () => {
    fc.assert(fc.property(arb, checkDocument), { numRuns: runs(numRuns), seed: SEED, endOnFailure: true });
  });

property('mutated regplan configs', mutatedConfigArb, 2500);
property('unmutated generated configs', configTextArb, 600);
property('random YAML', randomYamlArb, 1200);
property('hostile regexes in every pattern field', hostileRegexConfigArb, 1000);
property('alias bombs', aliasBombArb, 250);
property('deep nesting', deepArb, 250);
property('huge strings and lists', hugeArb, 120);

test.after(() => {
  console.log(`config fuzz (seed ${SEED}): ${stats.documents} documents, ${stats.loaded} loaded, ${stats.evaluated} evaluated; slowest ${stats.slowestMs.toFixed(0)} ms (${stats.slowest})`);
});

test('the fuzzer reached every outcome (loaded, evaluated, refused)', () => {
  assert.ok(stats.loaded > 50, `loaded ${stats.loaded}`);
  assert.ok(stats.evaluated > 50, `evaluated ${stats.evaluated}`);
  assert.ok(stats.documents - stats.loaded > 2000, `refused ${stats.documents - stats.loaded}`);
});

test.run();
