/**
 * Issue 9, hostile registries: the real CLI (a child process, so its memory is its own) runs
 * `apply --auto-approve` against a malformed /v2/ fake: tag names that are paths, bodies cut short, a 600 MB tags
 * list, a 600 MB manifest and a 600 MB config blob streamed on the fly. Whatever the fake does, regplan must
 *   - never put a hostile name into a URL (every request the fake sees is one a well-formed run would make),
 *   - delete nothing but the valid tags the policy dooms (and nothing at all when it fails),
 *   - end with exit 0, or exit 1 and an error that names the registry, without stack trace or "looks like a bug",
 *   - stay under 300 MB of peak RSS (measured with /usr/bin/time -v, or a preload using process.resourceUsage).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startMalformedRegistry, type MalformedOptions, type MalformedRegistry } from './malformed-registry.ts';
import { POLICY_YAML } from './scenario.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REPO = 'acme/app';
const RSS_CAP_KB = Number(process.env['RELIABILITY_RSS_CAP_MB'] ?? 300) * 1024;
const HUGE = 600 * 1024 * 1024;
/** A capped client gives up on a huge body within seconds; reading all 600 MB takes a minute. */
const CHILD_TIMEOUT_MS = Number(process.env['RELIABILITY_CHILD_TIMEOUT_MS'] ?? 45_000);
const TIME = '/usr/bin/time';

/** Releases are kept, the newest main is kept, main-1 and the PR builds are doomed. */
const IMAGES = { 'v1.1.0': 10, 'main-1': 101, 'main-2': 102, 'pr-1': 201, 'pr-2': 202 };
const DOOMED = ['main-1', 'pr-1', 'pr-2'];

/** What the CLI did. */
interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  maxRssKb?: number;
  /** Set when the watchdog killed it: too slow, or memory far over the cap. */
  killed?: string;
  ms: number;
}

const OUTPUT_CAP = 1 << 20;
/** The watchdog kills a run whose RSS passes this (the machine is shared; the run has failed anyway). */
const KILL_RSS_KB = RSS_CAP_KB * 2;

/** Resident set size (KiB) of a process and its descendants, from /proc; 0 where /proc is missing. */
async function treeRssKb(pid: number): Promise<number> {
  let total = 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  for (const child of children.split(/\s+/).filter(Boolean)) total += await treeRssKb(Number(child));
  return total;
}

/** Runs `regplan -c CONFIG apply --auto-approve` as a child in its own process group and measures its peak RSS. */
async function runRegplan(dir: string, config: string): Promise<ChildRun> {
  const rssFile = path.join(dir, 'max-rss');
  const useTime = existsSync(TIME);
  const node = [process.execPath, ...(useTime ? [] : ['--import', path.join(ROOT, 'test/reliability/report-max-rss.ts')]), path.join(ROOT, 'src/main.ts')];
  const argv = ['-c', config, '--docker-config', path.join(dir, 'docker'), 'apply', '--auto-approve'];
  const [command, ...args] = useTime ? [TIME, '-v', ...node, ...argv] : [...node, ...argv];
  const started = Date.now();
  const child = spawn(command as string, args, {
    cwd: dir,
    detached: true,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), NO_COLOR: '1', RELIABILITY_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let killed: string | undefined;
  let watchedPeakKb = 0;
  child.stdout.on('data', (d: Buffer) => void (stdout.length < OUTPUT_CAP && (stdout += d.toString())));
  child.stderr.on('data', (d: Buffer) => void (stderr.length < OUTPUT_CAP && (stderr += d.toString())));
  const killGroup = (why: string): void => {
    if (killed !== undefined) return;
    killed = why;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => killGroup(`still running after ${CHILD_TIMEOUT_MS / 1000} s`), CHILD_TIMEOUT_MS);
  const watchdog = setInterval(() => {
    void treeRssKb(child.pid as number).then((kb) => {
      watchedPeakKb = Math.max(watchedPeakKb, kb);
      if (kb > KILL_RSS_KB) killGroup(`RSS ${Math.round(kb / 1024)} MB, over twice the cap`);
    });
  }, 100);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  clearInterval(watchdog);
  const base = { signal, ...(killed === undefined ? {} : { killed }), ms: Date.now() - started };
  let maxRssKb: number | undefined;
  if (useTime) {
    const at = stderr.search(/^\s*Command (being timed|exited with non-zero status|terminated by signal)/m);
    const report = at < 0 ? '' : stderr.slice(at);
    if (at >= 0) stderr = stderr.slice(0, at);
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
    if (match) maxRssKb = Number(match[1]);
    const exited = /Command exited with non-zero status (\d+)/.exec(report);
    const finalCode = killed !== undefined ? null : exited ? Number(exited[1]) : /Command terminated by signal/.test(report) ? null : code;
    maxRssKb = Math.max(maxRssKb ?? 0, watchedPeakKb) || undefined;
    return { ...base, code: finalCode, stdout, stderr, ...(maxRssKb === undefined ? {} : { maxRssKb }) };
  }
  const recorded = await readFile(rssFile, 'utf8').catch(() => undefined);
  maxRssKb = Math.max(recorded === undefined ? 0 : Number(recorded), watchedPeakKb) || undefined;
  return { ...base, code: killed !== undefined ? null : code, stdout, stderr, ...(maxRssKb === undefined ? {} : { maxRssKb }) };
}

/** A fake, a config pointing at it, one CLI run; the fake is closed afterwards. */
async function scenario(options: Omit<MalformedOptions, 'repo' | 'images'> & { images?: Record<string, number> }): Promise<{ run: ChildRun; fake: MalformedRegistry }> {
  const fake = await startMalformedRegistry({ repo: REPO, images: IMAGES, ...options });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-malformed-'));
  try {
    const config = path.join(dir, 'registry.config.yaml');
    await writeFile(config, ['version: 1', 'settings: { concurrency: 2, grace: 2h }', ...POLICY_YAML, 'repos:', `  - repo: ${fake.host}/${REPO}`, '    cleanup: ci', ''].join('\n'));
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), '{"auths":{}}');
    return { run: await runRegplan(dir, config), fake };
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Requests a well-formed run could make; anything else means a name was turned into a path. */
function strayRequests(fake: MalformedRegistry, listedTags: readonly string[]): string[] {
  const digests = new Set([...fake.digests.values(), ...fake.blobDigests]);
  const doomedDigests = new Set(DOOMED.map((t) => fake.digests.get(t)));
  const prefix = `/v2/${REPO}/`;
  return fake.requests
    .filter(({ method, url }) => {
      if (url === '/v2/' && method === 'GET') return false;
      const [pathname, query] = url.split('?') as [string, string | undefined];
      if (!pathname.startsWith(prefix)) return true;
      const rest = pathname.slice(prefix.length);
      if (rest === 'tags/list') return method !== 'GET' || (query !== undefined && !/^(n=\d+)?(&?last=[\w.-]+)?$/.test(query));
      if (query !== undefined) return true;
      const manifest = /^manifests\/(.+)$/.exec(rest)?.[1];
      if (manifest !== undefined) {
        if (method === 'DELETE') return !doomedDigests.has(manifest);
        return !(method === 'GET' || method === 'HEAD') || !(listedTags.includes(manifest) || digests.has(manifest));
      }
      const blob = /^blobs\/(.+)$/.exec(rest)?.[1];
      if (blob !== undefined) return !(method === 'GET' || method === 'HEAD') || !digests.has(blob);
      return true;
    })
    .map(({ method, url }) => `${method} ${url}`);
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** Why the run's ending is not acceptable for a failure that must be reported clearly; undefined when it is. */
function unclearFailure(run: ChildRun, host: string): string | undefined {
  const text = `${run.stdout}\n${run.stderr}`;
  if (run.killed !== undefined) return `killed: ${run.killed}`;
  if (run.code !== 1) return `exit ${run.code ?? `signal ${run.signal}`}, not 1`;
  if (STACK_LINE.test(text)) return `a stack trace: ${STACK_LINE.exec(text)?.[0]?.trim()}`;
  if (/looks like a bug/i.test(text)) return 'it calls itself a bug';
  const errors = [...run.stderr.split('\n').filter((l) => l.startsWith('Error:')), ...run.stdout.split('\n').filter((l) => /^failed\s/.test(l))];
  if (errors.length === 0) return 'no error message';
  const vague = errors.find((l) => !l.replace(`${host}/${REPO}:`, '').replace(`${host}/${REPO}@`, '').includes(host));
  return vague === undefined ? undefined : `an error that does not name the registry ${host}: "${vague.slice(0, 300)}"`;
}

/** Common checks: memory, deletes, a clear failure; `mayPass` allows exit 0 (e.g. hostile names skipped). */
function assertContained(label: string, run: ChildRun, fake: MalformedRegistry, options: { mayPass: boolean }): void {
  const transcript = `\n--- ${label}: exit ${run.code}${run.killed ? ` (killed: ${run.killed})` : ''}, ${run.ms} ms, max RSS ${run.maxRssKb ?? '?'} KiB\n${run.stdout.slice(-1500)}\n${run.stderr.slice(-1500)}`;
  console.log(`malformed ${label}: exit ${run.killed ? `killed (${run.killed})` : run.code ?? run.signal}, ${(run.ms / 1000).toFixed(1)} s, max RSS ${run.maxRssKb === undefined ? '?' : Math.round(run.maxRssKb / 1024)} MB, streamed ${Math.round(fake.streamedBytes() / 1048576)} MB, ${fake.requests.filter((r) => r.method === 'DELETE').length} DELETEs; ${(run.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? run.stdout.split('\n').find((l) => /^failed\s/.test(l)) ?? '').slice(0, 200)}`);
  assert.ok(run.maxRssKb !== undefined, `peak RSS was measured${transcript}`);
  assert.ok((run.maxRssKb ?? Infinity) <= RSS_CAP_KB, `peak RSS ${Math.round((run.maxRssKb ?? 0) / 1024)} MB is over the ${RSS_CAP_KB / 1024} MB cap${transcript}`);
  assert.is(run.killed, undefined, `regplan finished on its own${transcript}`);
  const deletes = fake.requests.filter((r) => r.method === 'DELETE');
  if (run.code !== 0 || !options.mayPass) {
    assert.equal(deletes.map((d) => d.url), [], `a failed run deletes nothing${transcript}`);
  }
  if (!(options.mayPass && run.code === 0)) {
    const unclear = unclearFailure(run, fake.host);
    assert.is(unclear, undefined, `regplan must end with a clear error: ${unclear}${transcript}`);
  }
}

const test = suite('reliability: malformed registries');

test('hostile tag names never reach a URL; only valid doomed tags can be deleted', async () => {
  const hostile = ['pr-1/../v1.0.0', '../../../v2/other/manifests/latest', '%2e%2e', 'pr-9?digest=x', 'pr-8#frag', 'pr-7/..', '..'];
  const listed = [...Object.keys(IMAGES), ...hostile];
  const { run, fake } = await scenario({ tagsList: { kind: 'tags', tags: listed }, hidden: { 'v1.0.0': 0 } });
  assertContained('hostile tag names', run, fake, { mayPass: true });
  assert.equal(strayRequests(fake, Object.keys(IMAGES)), [], `every request is one a well-formed run makes\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-1000)}`);
  if (run.code === 0) {
    const deleted = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.url.slice(r.url.lastIndexOf('/') + 1)).sort();
    assert.equal(deleted, DOOMED.map((t) => fake.digests.get(t)).sort(), 'exactly the valid doomed tags were deleted');
  }
});

test('a truncated tags list ends in a clear error naming the registry, nothing deleted', async () => {
  const { run, fake } = await scenario({ tagsList: { kind: 'truncate' } });
  assertContained('truncated tags list', run, fake, { mayPass: false });
});

test('a truncated manifest body ends in a clear error naming the registry, nothing deleted', async () => {
  const { run, fake } = await scenario({ manifest: { tag: 'pr-2', misbehaviour: { kind: 'truncate' } } });
  assertContained('truncated manifest', run, fake, { mayPass: false });
});

test('a truncated config blob ends in a clear error naming the registry, nothing deleted', async () => {
  const { run, fake } = await scenario({ blobs: { kind: 'truncate' } });
  assertContained('truncated blob', run, fake, { mayPass: false });
});

test('a 600 MB tags list (streamed) is cut off: clear error, bounded memory, nothing deleted', async () => {
  const { run, fake } = await scenario({ tagsList: { kind: 'huge', bytes: HUGE } });
  assertContained('600 MB tags list', run, fake, { mayPass: false });
});

test('a 600 MB manifest (streamed) is cut off: clear error, bounded memory, nothing deleted', async () => {
  const { run, fake } = await scenario({ manifest: { tag: 'pr-2', misbehaviour: { kind: 'huge', bytes: HUGE } } });
  assertContained('600 MB manifest', run, fake, { mayPass: false });
});

test('a 600 MB config blob (streamed) is cut off: clear error, bounded memory, nothing deleted', async () => {
  const { run, fake } = await scenario({ blobs: { kind: 'huge', bytes: HUGE } });
  assertContained('600 MB config blob', run, fake, { mayPass: false });
});

test('control: the well-formed fake is cleaned exactly (so the checks above can pass)', async () => {
  const { run, fake } = await scenario({});
  assertContained('well-formed', run, fake, { mayPass: true });
  assert.is(run.code, 0, run.stdout + run.stderr);
  assert.equal(strayRequests(fake, Object.keys(IMAGES)), []);
  const deleted = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.url.slice(r.url.lastIndexOf('/') + 1)).sort();
  assert.equal(deleted, DOOMED.map((t) => fake.digests.get(t)).sort());
});

test.run();
