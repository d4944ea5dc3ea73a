/**
 * Gathers the facts keep rules need from outside the registry, before evaluation, so evaluate.ts stays pure:
 * git refs and recent commits for `gitRefs` rules, and keep-list files for `listed` rules.
 *
 * Missing facts are errors, never an empty answer: a gitRefs repo that is not a git checkout, a shallow clone, or
 * a keep-list file that cannot be read would otherwise make the plan delete exactly what the rule protects.
 * Refusing to plan is the safe failure. (werf refuses shallow clones for the same reason, werf-behaviour §6.12.)
 */
import type { Policy } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import { FileRefusedError, path, readTextFileCapped, runCommand } from '../runtime.ts';
import { inUseKey, readInUse } from './in-use/index.ts';
import { parseKeepList } from './policies/listed.ts';
import type { GitFacts, PolicyFacts } from './types.ts';

const GIT_HINT = 'point gitRefs.repo at a git checkout with full history (GitHub Actions: actions/checkout with fetch-depth: 0; GitLab CI: GIT_DEPTH: 0)';

/** Runs git in `dir`; a failure is a RegplanError naming the repo and git's own message. */
async function git(dir: string, args: readonly string[]): Promise<string> {
  let result;
  try {
    result = await runCommand('git', ['-C', dir, ...args], { timeoutMs: 60_000 });
  } catch (error) {
    throw new RegplanError(`cannot run git for the gitRefs rule on "${dir}": ${(error as Error).message}`, {
      hint: 'install git, or remove the gitRefs rule from the policy',
      cause: error,
    });
  }
  if (result.code !== 0) {
    const said = result.stderr.trim().split('\n')[0] ?? '';
    throw new RegplanError(`git ${args[0]} failed in "${dir}" (gitRefs rule): ${said || `exit code ${result.code}`}`, { hint: GIT_HINT });
  }
  return result.stdout;
}

/** Reads live branches (local and origin/*), tags, and the newest `commits` commits of HEAD from a git checkout. */
export async function readGitFacts(dir: string, options: { commits: number }): Promise<GitFacts> {
  await git(dir, ['rev-parse', '--git-dir']);
  if ((await git(dir, ['rev-parse', '--is-shallow-repository'])).trim() === 'true') {
    throw new RegplanError(`"${dir}" is a shallow git clone: its branches, tags and history are incomplete (gitRefs rule)`, {
      hint: `${GIT_HINT}; or run "git fetch --unshallow" first`,
    });
  }
  const refs = await git(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags', 'refs/remotes/origin']);
  const branches = new Set<string>();
  const tags = new Set<string>();
  for (const ref of refs.split('\n').map((line) => line.trim()).filter(Boolean)) {
    if (ref.startsWith('refs/heads/')) branches.add(ref.slice('refs/heads/'.length));
    else if (ref.startsWith('refs/tags/')) tags.add(ref.slice('refs/tags/'.length));
    else if (ref.startsWith('refs/remotes/origin/') && ref !== 'refs/remotes/origin/HEAD') branches.add(ref.slice('refs/remotes/origin/'.length));
  }
  const commits = options.commits > 0
    ? (await git(dir, ['rev-list', `--max-count=${options.commits}`, 'HEAD'])).split('\n').map((line) => line.trim()).filter(Boolean)
    : [];
  return { branches: [...branches].sort(), tags: [...tags].sort(), commits };
}

/** The largest keep-list read: a list of every image ever deployed is a few megabytes at most. */
export const MAX_KEEP_LIST_BYTES = 16 * 1024 * 1024;

/**
 * Reads a keep-list file's lines; a missing or unreadable file (or a bad entry) refuses the plan. Only a regular
 * file of at most 16 MiB is read: a FIFO would block the plan forever and /dev/urandom would never end, so both
 * are refused before a byte is read. `where` (config file:line:col of the rule) goes into the message.
 */
export async function readKeepList(file: string, resolved: string, options: { where?: string } = {}): Promise<string[]> {
  let text: string;
  try {
    text = await readTextFileCapped(resolved, { maxBytes: MAX_KEEP_LIST_BYTES, regularOnly: true });
  } catch (error) {
    const rule = options.where === undefined ? '' : ` (listed rule at ${options.where})`;
    if (error instanceof FileRefusedError) {
      const why = error.reason.kind === 'not-regular'
        ? `it is a ${error.reason.type}, not a regular file`
        : `it is larger than the ${MAX_KEEP_LIST_BYTES / 1024 / 1024} MiB keep-list limit${error.reason.size === undefined ? '' : ` (${(error.reason.size / 1024 / 1024).toFixed(1)} MiB)`}`;
      throw new RegplanError(`refusing to read the keep-list "${file}" (${resolved})${rule}: ${why}`, {
        hint: 'point listed: at a regular text file of tags, one per line, of at most 16 MiB (a deploy job typically writes it); pipes and devices are refused because they can block or never end',
        cause: error,
        context: { file },
      });
    }
    throw new RegplanError(`cannot read the keep-list "${file}" (${resolved})${rule}: ${(error as Error).message}`, {
      hint: 'create the file (an empty one keeps nothing) or remove the listed rule; regplan will not plan without it, since the images it lists would lose their protection',
      cause: error,
      context: { file },
    });
  }
  const lines = text.split(/\r?\n/);
  parseKeepList(file, lines);
  return lines;
}

/**
 * Gathers facts for every gitRefs and listed rule of the given policies. Keys are the strings written in the rules;
 * relative paths are resolved against `baseDir` (the config file's directory).
 */
export async function gatherPolicyFacts(
  policies: readonly Policy[],
  options: { baseDir: string; env?: Readonly<Record<string, string | undefined>> },
): Promise<PolicyFacts> {
  const commitsByRepo = new Map<string, number>();
  const files = new Map<string, string | undefined>(); // keep-list -> where the first rule naming it is
  const sources = new Map<string, Extract<Policy['keep'][number], { kind: 'inUse' }>>();
  for (const policy of policies) {
    for (const rule of policy.keep) {
      if (rule.kind === 'gitRefs') commitsByRepo.set(rule.repo, Math.max(commitsByRepo.get(rule.repo) ?? 0, rule.commits));
      if (rule.kind === 'listed' && !files.has(rule.file)) files.set(rule.file, rule.where);
      if (rule.kind === 'inUse' && !sources.has(inUseKey(rule.source))) sources.set(inUseKey(rule.source), rule);
    }
  }
  const facts: PolicyFacts = { git: {}, listed: {} };
  for (const [repo, commits] of [...commitsByRepo].sort()) {
    facts.git[repo] = await readGitFacts(path.resolve(options.baseDir, repo), { commits });
  }
  for (const [file, where] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    facts.listed[file] = await readKeepList(file, path.resolve(options.baseDir, file), where === undefined ? {} : { where });
  }
  for (const [key, rule] of [...sources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    facts.inUse = { ...facts.inUse, [key]: await readInUse(rule.source, { cwd: options.baseDir, env: options.env ?? process.env, ...(rule.where === undefined ? {} : { where: rule.where }) }) };
  }
  return facts;
}
