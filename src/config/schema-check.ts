/**
 * The ajv step of the config pipeline: validates the parsed data against schema/regplan.schema.json with every
 * error collected, and turns ajv's errors into problems a person can act on, each at the line and column of the
 * node it is about (the offending key for unknown properties, the parent for missing ones).
 * The validator is compiled at build time (config-validator.generated.ts, see scripts/schema-validators.ts), so
 * no schema is compiled while regplan runs.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from '../../schema/regplan.schema.json' with { type: 'json' };
import { validate as generatedValidate } from './config-validator.generated.ts';
import type { ConfigProblem } from '../errors.ts';
import { closestName } from './did-you-mean.ts';
import { DURATION_HINT } from './duration.ts';
import { literalSecretMessage } from './secrets.ts';
import { pointer, type ConfigSource } from './source.ts';

/** The registry type names the config accepts (`auto` = detect from the host). */
export const CONFIG_REGISTRY_TYPES: readonly string[] = schema.definitions.registry.properties.type.enum;

/** The keep rule kinds, in the order the schema lists them. */
export const KEEP_RULE_KINDS = ['tags', 'newest', 'pushedWithin', 'pulledWithin', 'semver', 'gitRefs', 'listed', 'inUse'] as const;

const BUNDLE_KINDS = ['chart', 'files', 'image'] as const;

const validate = generatedValidate as ValidateFunction;

/**
 * Which part of the language a schema object is. An error's `parentSchema` is the generated validator's own copy
 * of the schema object (and its `schemaPath` starts at the definition a $ref led to, so it does not say which), so
 * objects are matched by their JSON text; the roles' objects all differ (checked as this module loads).
 */
const defs = schema.definitions;
const roleKey = (schemaObject: unknown): string => JSON.stringify(schemaObject) ?? '';
const ROLE_OF_SCHEMA: [unknown, string][] = [
  [schema, 'root'],
  [schema.properties.registries, 'registries'],
  [schema.properties.policies, 'policies'],
  [defs.duration, 'duration'],
  [defs.secretRef, 'secretRef'],
  [defs.secretRef.properties.env, 'env'],
  [defs.registry.properties.type, 'registryType'],
  [defs.keepRule, 'keepRule'],
  [defs.keepRule.properties.semver, 'semver'],
  [defs.keepRule.properties.newest, 'newest'],
  [defs.keepRule.properties.inUse, 'inUse'],
  [defs.policy.properties.untagged, 'untagged'],
  [defs.policy.properties.delete, 'delete'],
  [defs.bundle, 'bundle'],
  [defs.bundle.properties.artifactType, 'artifactType'],
  [defs.repo, 'repo'],
  [schema.properties.settings.properties.concurrency, 'concurrency'],
];
const ROLE = new Map(ROLE_OF_SCHEMA.map(([schemaObject, role]) => [roleKey(schemaObject), role]));
if (ROLE.size !== ROLE_OF_SCHEMA.length) throw new Error('schema-check: two roles name schema objects with the same JSON; give each a distinct description');

type Segment = string | number;

const splitPointer = (instancePath: string): Segment[] =>
  instancePath === '' ? [] : instancePath.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

/** "eight" for 8: the number someone spelled out, so the hint can give it back as digits. */
const NUMBER_WORDS: ReadonlyMap<string, number> = new Map(
  ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen'].map((w, i) => [w, i + 1]),
);

const TYPE_WORDS: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'nothing' };

/** Says what a value is without echoing strings (they may be secrets). */
export function describeFound(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return `the number ${value}`;
  return String(value);
}

/** Runs ajv and maps every error to a positioned problem; empty when the data fits the schema. */
export function schemaProblems(source: ConfigSource): ConfigProblem[] {
  if (validate(source.data)) return [];
  const errors = validate.errors ?? [];
  const unknownKeysAt = new Set(errors.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath));
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const problem = explain(error, source, unknownKeysAt);
    const key = problem === undefined ? '' : `${problem.path}\n${problem.message}`;
    if (problem && !seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function explain(error: ErrorObject, source: ConfigSource, unknownKeysAt: Set<string>): ConfigProblem | undefined {
  // Branch internals of oneOf/anyOf/if only say which alternative failed; the combinator's own error explains it.
  if (/\/(oneOf|anyOf)\/\d+\//.test(error.schemaPath) || error.keyword === 'if' || error.keyword === 'not') return undefined;
  if (error.schemaPath.includes('/propertyNames/')) return undefined;
  const path = splitPointer(error.instancePath);
  const parentSchema: unknown = error.parentSchema;
  const role = ROLE.get(roleKey(parentSchema));
  const data: unknown = error.data;
  const at = (p: Segment[], key = false) => ({ file: source.file, ...source.positionOf(p, { key }), path: pointer(p) });
  const last = path[path.length - 1];
  const params = error.params as Record<string, unknown>;

  switch (error.keyword) {
    case 'required': {
      const missing = String(params['missingProperty']);
      const problem = { ...at(path), path: pointer([...path, missing]) };
      if (role === 'root' && missing === 'version') {
        return { ...problem, message: 'version is missing', hint: 'add "version: 1" as the first line after the comments' };
      }
      const hints: Record<string, string> = {
        repo: 'every repos[] entry needs "repo: host/path" (or "repo: oci:<dir>")',
        bundle: 'every bundle needs the tag it is pushed to, e.g. "tag: 1.4.0"',
        delete: "write delete: { tags: '^(pr|branch)-' } to limit deletion, or delete: { tags: '.*' } to make every tag a candidate",
      };
      return { ...problem, message: `missing required property "${missing}"`, ...(role && hints[role] ? { hint: hints[role] } : {}) };
    }
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {}).filter((k) => k !== '$schema');
      const guess = closestName(key, allowed);
      const where = role === 'root' ? 'unknown top-level key' : 'unknown property';
      return {
        ...at([...path, key], true),
        message: `${where} "${key}"`,
        hint: guess ? `did you mean "${guess}"? (allowed here: ${allowed.join(', ')})` : `allowed here: ${allowed.join(', ')}`,
      };
    }
    case 'type':
      return explainType(at(path), String(params['type']), data, role, last, source, path, (parentSchema as { default?: unknown } | undefined)?.default);
    case 'const':
      return { ...at(path), message: `version must be 1, found ${describeFound(data)}`, hint: 'this regplan reads config version 1; write "version: 1"' };
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const found = typeof data === 'string' ? `"${data}"` : describeFound(data);
      const guess = typeof data === 'string' ? closestName(data, allowed) : undefined;
      const hint = `${guess ? `did you mean "${guess}"? ` : ''}valid ${role === 'registryType' ? 'types' : 'values'}: ${allowed.join(', ')}`;
      if (role === 'registryType') return { ...at(path), message: `unknown registry type ${found}`, hint };
      return { ...at(path), message: `${String(last)} must be one of ${allowed.join(', ')}, found ${found}`, hint };
    }
    case 'minimum': {
      const limit = Number(params['limit']);
      const message = `${String(last)} must be an integer >= ${limit}, found ${describeFound(data)}`;
      if (role === 'newest') return { ...at(path), message, hint: 'newest: N keeps the N most recently pushed tags; to keep none this way, remove the rule' };
      if (role === 'concurrency') return { ...at(path), message, hint: 'concurrency is the number of parallel requests per registry host; 1 means one at a time (default 8)' };
      return { ...at(path), message };
    }
    case 'maximum':
      return { ...at(path), message: `${String(last)} must be an integer <= ${Number(params['limit'])}, found ${describeFound(data)}`, hint: `write a number up to ${Number(params['limit']).toLocaleString('en')}; larger values mean nothing more here` };
    case 'pattern': {
      if (role === 'duration') return { ...at(path), message: `duration "${String(data)}" does not parse`, hint: DURATION_HINT };
      if (role === 'env') {
        return { ...at(path), message: 'env must name an environment variable (letters, digits and _, not starting with a digit)', hint: 'e.g. password: { env: HARBOR_PASSWORD }' };
      }
      if (role === 'artifactType') return { ...at(path), message: `artifactType "${String(data)}" is not a media type`, hint: 'write type/subtype, e.g. application/vnd.acme.docs.v1' };
      return { ...at(path), message: `${String(last)} does not match ${String(params['pattern'])}` };
    }
    case 'propertyNames': {
      const name = String(params['propertyName']);
      if (role === 'registries') {
        return { ...at([...path, name], true), message: `registry key "${name}" is not a host[:port]`, hint: 'write the host as it appears in repo addresses, in lowercase, e.g. registry.example.com or localhost:5000' };
      }
      return { ...at([...path, name], true), message: `policy name "${name}" is not allowed`, hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit' };
    }
    case 'minLength':
      return { ...at(path), message: `${String(last)} must not be empty` };
    case 'minProperties':
    case 'maxProperties':
      if (role === 'inUse') {
        return { ...at(path), message: 'inUse needs exactly one source: kubernetes, file or command', hint: 'e.g. inUse: { kubernetes: { context: prod } }, inUse: { file: ./running-images.txt } or inUse: { command: [./list-running-images.sh] } (one image reference per line)' };
      }
      return { ...at(path), message: `${String(last)} ${error.message ?? 'is invalid'}` };
    case 'minItems':
      return { ...at(path), message: `${String(last)} must list at least one entry` };
    case 'format':
      return { ...at(path), message: `${String(last)} "${String(data)}" is not an http(s) URL`, hint: 'write the base URL of the native API, e.g. https://gitlab.example.com' };
    case 'oneOf':
    case 'anyOf':
      return explainChoice(at(path), role, data, unknownKeysAt.has(error.instancePath));
    default:
      return { ...at(path), message: `${String(last ?? 'document')} ${error.message ?? 'is invalid'}` };
  }
}

function explainType(
  problem: Omit<ConfigProblem, 'message'>,
  expected: string,
  data: unknown,
  role: string | undefined,
  last: Segment | undefined,
  source: ConfigSource,
  path: Segment[],
  schemaDefault: unknown,
): ConfigProblem {
  if (role === 'secretRef' && (typeof data === 'string' || typeof data === 'number')) {
    return { ...problem, ...literalSecretMessage(String(last)) };
  }
  if (last === 'cleanup') {
    return { ...problem, message: `cleanup must be a policy name or an inline policy, found ${describeFound(data)}`, hint: 'write cleanup: ci (a key of policies) or cleanup: { keep: [...], delete: {...} }' };
  }
  if (path.length === 0) {
    return { ...problem, message: `the config must be a mapping, found ${describeFound(data)}`, hint: 'start with "version: 1" and add settings, registries, policies and repos' };
  }
  if (last === 'listed' && typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const named = Object.values(data).find((v): v is string => typeof v === 'string');
    return {
      ...problem,
      message: `listed must be a file path, found ${describeFound(data)}`,
      hint: `write the path itself: listed: ${named ?? './deployed-tags.txt'} (relative to the config file; { file: ... } is the form of credentials)`,
    };
  }
  const wanted = expected.split(',').map((t) => TYPE_WORDS[t] ?? t).join(' or ');
  const message = `${String(last)} must be ${wanted}, found ${describeFound(data)}`;
  if (expected === 'string' && (typeof data === 'number' || typeof data === 'boolean')) {
    return { ...problem, message, hint: `quote it so YAML reads it as text: ${String(last)}: '${source.textOf(path) ?? String(data)}'` };
  }
  if ((expected === 'integer' || expected === 'number') && typeof data === 'string' && /^\s*-?\d+\s*$/.test(data)) {
    return { ...problem, message, hint: `write the number without quotes: ${String(last)}: ${data.trim()}` };
  }
  if ((expected === 'integer' || expected === 'number') && typeof data === 'string') {
    const example = NUMBER_WORDS.get(data.trim().toLowerCase()) ?? (typeof schemaDefault === 'number' && schemaDefault > 0 ? schemaDefault : 4);
    return { ...problem, message, hint: `write a number without quotes: ${String(last)}: ${example}` };
  }
  if (expected === 'array' && data !== null && typeof data !== 'object') {
    return { ...problem, message, hint: `write a list: ${String(last)}: [ ... ] or one "- item" per line` };
  }
  return { ...problem, message };
}

function explainChoice(problem: Omit<ConfigProblem, 'message'>, role: string | undefined, data: unknown, hasUnknownKeys: boolean): ConfigProblem | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined; // the type error says it
  const present = (kinds: readonly string[]) => kinds.filter((k) => k in data);
  if (role === 'keepRule') {
    const found = present(KEEP_RULE_KINDS).filter((k, _, all) => !(k === 'tags' && all.includes('newest')));
    if (found.length === 0 && hasUnknownKeys) return undefined; // the unknown key (with its did-you-mean) is the real problem
    return {
      ...problem,
      message: found.length === 0 ? 'keep rule has no rule kind' : `keep rule mixes several kinds: ${found.join(', ')}`,
      hint: 'write one kind per list item: tags, newest (optionally with tags as its scope), pushedWithin, pulledWithin, semver, gitRefs, listed or inUse',
    };
  }
  if (role === 'semver') {
    return { ...problem, message: 'semver rule keeps nothing: it needs latestPerMinor, latestPerMajor or latestMajors', hint: 'e.g. semver: { latestPerMinor: 2, latestMajors: 3 }' };
  }
  if (role === 'secretRef') {
    const found = present(['env', 'file']);
    if (found.length === 0 && hasUnknownKeys) return undefined;
    return { ...problem, message: found.length === 0 ? 'secret reference is empty: it needs env or file' : 'secret reference has both env and file', hint: 'write { env: NAME } or { file: path }, exactly one' };
  }
  if (role === 'bundle') {
    const found = present(BUNDLE_KINDS);
    if (found.length === 0 && hasUnknownKeys) return undefined;
    return {
      ...problem,
      message: found.length === 0 ? 'bundle has nothing to push: it needs chart, files or image' : `bundle has several contents: ${found.join(', ')}`,
      hint: 'a bundle is exactly one of chart: <dir>, files: [<paths>], image: oci:<dir>:<tag>; use one bundle (and tag) per artifact',
    };
  }
  return { ...problem, message: 'value does not match any allowed form' };
}
