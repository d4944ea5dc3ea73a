import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gatherPolicyFacts, readGitFacts } from '../../src/plan/facts.ts';
import { RegplanError } from '../../src/errors.ts';
import type { Policy } from '../../src/config/types.ts';
import { loadConfig } from '../../src/config/load.ts';

const root = mkdtempSync(path.join(tmpdir(), 'regplan-facts-'));
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], { cwd, encoding: 'utf8' }).trim();

// origin: main with 3 commits, branch feature/Login, tag v1.0.0; work: a clone with a local branch of its own
const origin = path.join(root, 'origin');
const work = path.join(root, 'work');
let headCommits: string[] = [];
test.before(() => {
  execFileSync('mkdir', ['-p', origin]);
  git(origin, 'init', '-q');
  for (const n of [1, 2, 3]) git(origin, 'commit', '-q', '--allow-empty', '-m', `c${n}`);
  git(origin, 'tag', 'v1.0.0');
  git(origin, 'branch', 'feature/Login');
  git(root, 'clone', '-q', origin, work);
  git(work, 'branch', 'local-only');
  git(work, 'commit', '-q', '--allow-empty', '-m', 'c4');
  headCommits = git(work, 'rev-list', 'HEAD').split('\n');
});

const rejects = async (promise: Promise<unknown>, pattern: RegExp) => {
  try {
    await promise;
    assert.unreachable('should have refused');
  } catch (error) {
    assert.instance(error, RegplanError);
    assert.match((error as Error).message, pattern);
    assert.ok((error as RegplanError).hint, 'has a hint');
  }
};

test('git facts: local and origin branches (no origin/HEAD), tags, and the newest N commits, newest first', async () => {
  const facts = await readGitFacts(work, { commits: 2 });
  assert.equal(facts.branches, ['feature/Login', 'local-only', 'main']);
  assert.equal(facts.tags, ['v1.0.0']);
  assert.equal(facts.commits, headCommits.slice(0, 2));
  assert.is(facts.commits[0]?.length, 40);
  assert.equal((await readGitFacts(work, { commits: 0 })).commits, []);
});

test('git facts: a directory that is not a git repository refuses the plan', async () => {
  const plain = path.join(root, 'plain');
  execFileSync('mkdir', ['-p', plain]);
  await rejects(readGitFacts(plain, { commits: 1 }), /plain/);
});

test('git facts: a shallow clone refuses the plan (its refs and history are incomplete)', async () => {
  const shallow = path.join(root, 'shallow');
  git(root, 'clone', '-q', '--depth', '1', `file://${origin}`, shallow);
  await rejects(readGitFacts(shallow, { commits: 1 }), /shallow/);
});

test('policy facts: rules are keyed as written, paths resolve against the config directory, the largest commits wins', async () => {
  writeFileSync(path.join(root, 'keep.txt'), '# deployed\nv1\n');
  const policies: Policy[] = [
    { name: 'a', untagged: 'keep', keep: [{ kind: 'gitRefs', repo: 'work', branches: true, tags: true, commits: 1 }, { kind: 'listed', file: './keep.txt' }] },
    { name: 'b', untagged: 'keep', keep: [{ kind: 'gitRefs', repo: 'work', branches: true, tags: false, commits: 3 }] },
  ];
  const facts = await gatherPolicyFacts(policies, { baseDir: root });
  assert.equal(Object.keys(facts.git), ['work']);
  assert.equal(facts.git['work']?.commits, headCommits.slice(0, 3));
  assert.equal(facts.listed, { './keep.txt': ['# deployed', 'v1', ''] });
});

test('policy facts: a missing keep-list, or one with a bad entry, refuses the plan', async () => {
  await rejects(gatherPolicyFacts([{ name: 'a', untagged: 'keep', keep: [{ kind: 'listed', file: './missing.txt' }] }], { baseDir: root }), /missing\.txt/);
  writeFileSync(path.join(root, 'bad.txt'), 'v1\nnot a tag\n');
  await rejects(gatherPolicyFacts([{ name: 'a', untagged: 'keep', keep: [{ kind: 'listed', file: 'bad.txt' }] }], { baseDir: root }), /bad\.txt:2:/);
});

/** The policies of a config whose one policy keeps `listed: <file>` (line 5, column 17), loaded from `root`. */
function listedPolicies(file: string): Policy[] {
  const text = ['version: 1', 'policies:', '  ci:', '    keep:', `      - listed: ${JSON.stringify(file)}`, 'repos:', '  - { repo: ghcr.io/acme/api, cleanup: ci }'].join('\n');
  const { config, errors } = loadConfig(text, { file: path.join(root, 'registry.config.yaml') });
  assert.equal(errors, []);
  return Object.values(config?.policies ?? {});
}

/** Settles `promise` or fails after `ms`, calling `unblock` so a blocked read cannot keep the test process alive. */
async function within<T>(promise: Promise<T>, ms: number, unblock: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      unblock();
      reject(new Error(`still reading after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test('policy facts: a FIFO keep-list is refused at once (never opened for a blocking read), naming the file and config line', async () => {
  const fifo = path.join(root, 'deployed.fifo');
  execFileSync('mkfifo', [fifo]);
  const unblock = () => closeSync(openSync(fifo, 'w')); // gives a blocked reader its end of file
  const reading = gatherPolicyFacts(listedPolicies('./deployed.fifo'), { baseDir: root });
  await rejects(within(reading.catch((e: unknown) => { throw e; }), 3000, unblock), /deployed\.fifo.*registry\.config\.yaml:5:17.*not a regular file/s);
});

test('policy facts: a device keep-list (/dev/urandom) is refused, not read until memory runs out', async () => {
  const reading = gatherPolicyFacts(listedPolicies('/dev/urandom'), { baseDir: root });
  await rejects(within(reading, 3000, () => {}), /\/dev\/urandom.*not a regular file/s);
});

test('policy facts: a keep-list over 16 MiB or a directory is refused with the limit', async () => {
  const big = path.join(root, 'huge.txt');
  writeFileSync(big, '');
  truncateSync(big, 17 * 1024 * 1024);
  await rejects(within(gatherPolicyFacts(listedPolicies('huge.txt'), { baseDir: root }), 3000, () => {}), /huge\.txt.*16 MiB/s);
  await rejects(within(gatherPolicyFacts(listedPolicies('.'), { baseDir: root }), 3000, () => {}), /directory/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
