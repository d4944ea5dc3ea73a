/**
 * Issue 9, "retries with backoff, per-action re-checks": 50 seeded runs of plan + apply against the real
 * distribution registry through the fault proxy (10% of requests get a 429, a 5xx, a reset, a stall, a truncated
 * body or a lying digest). Each run is rerun (plan + apply, faults still on) up to 3 times until the registry,
 * read directly, holds exactly what a fault-free cleanup leaves. A run passes when it converges, or when it
 * stops with a clear error (exit 1, the registry named, no stack trace, no "looks like a bug") having deleted
 * only doomed tags. A kept tag missing at any point, or a forwarded DELETE of a kept manifest, fails it at once.
 *
 * Knobs (env): RELIABILITY_SEEDS ("1-50" or "3,17"), RELIABILITY_FAULT_RATE (0.1), RELIABILITY_STALL_MS,
 * RELIABILITY_BREAK=expectation (expects a doomed tag to survive) or =kept (deletes v1.0.0 directly after the
 * first plan): every run must then fail, proving the checks bite.
 * Prints one `reliability faults:` summary line (the numbers docs/reliability.md quotes).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { captureIo } from '../support/io.ts';
import { FAULT_KINDS, startFaultProxy, type FaultKind, type FaultProxy } from './fault-proxy.ts';
import { deleteManifestDirect, listTagsDirect, seedTags } from './registry-direct.ts';
import { POLICY_YAML, scenarioFor, type Scenario } from './scenario.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RATE = Number(process.env['RELIABILITY_FAULT_RATE'] ?? 0.1);
const MAX_RERUNS = 3;
/** Self-checks that the suite bites: `expectation` expects a doomed tag to survive, `kept` deletes a kept manifest behind regplan's back. */
const BREAK = process.env['RELIABILITY_BREAK'];
const BREAK_EXPECTATION = BREAK === 'expectation';

/** "1-50" or "3,17,20-22" -> seeds. */
function parseSeeds(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (from === undefined || !Number.isInteger(from)) throw new Error(`RELIABILITY_SEEDS: bad part "${part}"`);
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}
const SEEDS = parseSeeds(process.env['RELIABILITY_SEEDS'] ?? '1-50');

/**
 * The client timeout the suite configures once regplan has `settings.timeout`; a stall lasts past it. Until then
 * a stall is a short delay (regplan's built-in timeout is 120 s, far too long for the suite).
 */
async function clientTimeout(): Promise<{ setting: string; stallMs: number }> {
  const schema = JSON.parse(await readFile(path.join(ROOT, 'schema/regplan.schema.json'), 'utf8')) as { properties?: { settings?: { properties?: Record<string, unknown> } } };
  const supported = schema.properties?.settings?.properties?.['timeout'] !== undefined;
  const stallMs = Number(process.env['RELIABILITY_STALL_MS'] ?? (supported ? 2500 : 300));
  return { setting: supported ? ', timeout: 1s' : '', stallMs };
}

/** One CLI invocation and what a user saw. */
interface Invocation {
  argv: string[];
  code: number;
  out: string;
  err: string;
}

/** How one seeded run ended. */
interface RunOutcome {
  seed: number;
  /** Reruns it took to converge (0 = the first plan + apply), or undefined when it never converged. */
  reruns?: number;
  /** Why the run counts as failed; undefined when it passed. */
  failure?: string;
  /** The failure in a few words, for the tally. */
  reason?: string;
  /** Set when it did not converge but stopped with a clear error. */
  stoppedWith?: string;
  faults: Record<FaultKind, number>;
  requests: number;
  deletes: number;
  ms: number;
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** The lines of an invocation that report an error: `Error: …` on stderr and `failed …` lines of apply. */
function errorLines(run: Invocation, repoAddress: string): string[] {
  const lines = [...run.err.split('\n').filter((l) => l.startsWith('Error:'))];
  for (const line of run.out.split('\n')) {
    const match = /^failed\s+(\S+?)(?::|@)\S*?: (.*)$/.exec(line);
    if (match) lines.push(match[2] ?? '');
    else if (line.startsWith('failed ')) lines.push(line.slice(6).trim().replace(repoAddress, ''));
  }
  return lines;
}

/**
 * Why an exit-1 invocation's error is not one a user can act on, or undefined when it is clear: it names the
 * registry it failed against, has no stack trace, and does not call itself a bug.
 */
function unclearError(run: Invocation, host: string, repoAddress: string): string | undefined {
  const text = `${run.out}\n${run.err}`;
  if (run.code !== 1) return `exit code ${run.code}, not 1`;
  if (STACK_LINE.test(text)) return `a stack trace: ${STACK_LINE.exec(text)?.[0]?.trim()}`;
  if (/looks like a bug/i.test(text)) return `"looks like a bug": ${text.split('\n').find((l) => l.startsWith('Error:')) ?? ''}`;
  const lines = errorLines(run, repoAddress);
  if (lines.length === 0) return 'exit 1 without an error message';
  const vague = lines.find((line) => !line.includes(host));
  if (vague !== undefined) return `an error that does not name the registry ${host}: "${vague.slice(0, 200)}"`;
  return undefined;
}

const test = suite('reliability: plan + apply through injected faults');
let registry: TestRegistry;
let timeout: { setting: string; stallMs: number };
const outcomes: RunOutcome[] = [];
const strayRejections: unknown[] = [];
const onRejection = (reason: unknown): void => void strayRejections.push(reason);

test.before(async () => {
  process.on('unhandledRejection', onRejection);
  registry = await startRegistry({ auth: 'basic' });
  timeout = await clientTimeout();
});
test.after(async () => {
  process.off('unhandledRejection', onRejection);
  await registry?.stop();
});

async function seedScenario(scenario: Scenario): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const image of scenario.images) {
    const digest = await seedTags(registry, scenario.repo, image.tags, { content: image.content, created: new Date(Date.UTC(2025, 0, 1) + image.day * 86_400_000) });
    for (const tag of image.tags) digests.set(tag, digest);
  }
  return digests;
}

async function writeWorld(dir: string, proxy: FaultProxy, scenario: Scenario, repo = scenario.repo): Promise<{ config: string; dockerConfig: string }> {
  const config = path.join(dir, 'registry.config.yaml');
  await writeFile(
    config,
    ['version: 1', `settings: { concurrency: 2, grace: 2h${timeout.setting} }`, ...POLICY_YAML, 'repos:', `  - repo: ${proxy.host}/${repo}`, '    cleanup: ci', ''].join('\n'),
  );
  const dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth } } }));
  return { config, dockerConfig };
}

/** One seeded run: seed, plan + apply, rerun until converged; never throws for a product failure, returns it. */
async function runSeed(seed: number): Promise<RunOutcome> {
  const started = Date.now();
  const scenario = scenarioFor(seed);
  const digests = await seedScenario(scenario);
  const seeded = await listTagsDirect(registry, scenario.repo);
  assert.equal(seeded, [...scenario.kept, ...scenario.doomed].sort(), 'the registry holds the seeded tags');
  const expected = BREAK_EXPECTATION ? [...scenario.kept, scenario.doomed[0] as string].sort() : scenario.kept;
  const keptDigests = new Set(scenario.kept.map((t) => digests.get(t)));

  const proxy = await startFaultProxy({ target: registry.host, seed, rate: RATE, stallMs: timeout.stallMs });
  const dir = await mkdtemp(path.join(tmpdir(), `regplan-faults-${seed}-`));
  const repoAddress = `${proxy.host}/${scenario.repo}`;
  const transcript: Invocation[] = [];
  const finish = (result: Omit<RunOutcome, 'seed' | 'faults' | 'requests' | 'deletes' | 'ms'>): RunOutcome => ({
    seed,
    ...result,
    faults: proxy.faultCounts(),
    requests: proxy.requests.length,
    deletes: proxy.deletes.length,
    ms: Date.now() - started,
  });
  try {
    const { config, dockerConfig } = await writeWorld(dir, proxy, scenario);
    const env = { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), NO_COLOR: '1' };
    const run = async (phase: string, ...argv: string[]): Promise<Invocation> => {
      proxy.setPhase(phase);
      const io = captureIo(env, dir);
      const code = await runCli(['-c', config, '--docker-config', dockerConfig, ...argv], io);
      const invocation = { argv, code, out: io.out(), err: io.err() };
      transcript.push(invocation);
      return invocation;
    };
    /** A kept tag gone, or a kept manifest's DELETE forwarded: the one thing that must never happen. */
    const wrongDeletion = async (): Promise<string | undefined> => {
      const now = await listTagsDirect(registry, scenario.repo);
      const missing = scenario.kept.filter((t) => !now.includes(t));
      const hit = proxy.deletes.find((d) => d.forwarded && keptDigests.has(d.path.slice(d.path.lastIndexOf('/') + 1)));
      if (missing.length === 0 && hit === undefined) return undefined;
      return `WRONG DELETION: kept tags missing [${missing.join(', ')}]${hit ? `; DELETE ${hit.path} of a kept manifest reached the registry (fault ${hit.fault ?? 'none'})` : ''}`;
    };
    const describe = (): string =>
      `\n  faults: ${proxy.faults.map((f) => `${f.kind} ${f.method} ${f.path}`).join('; ')}` +
      `\n  DELETEs: ${proxy.deletes.map((d) => `${d.path.slice(d.path.lastIndexOf('/') + 1, d.path.lastIndexOf('/') + 20)}… ${d.forwarded ? `-> ${d.upstreamStatus ?? 'reset'}` : 'not forwarded'}${d.fault ? ` [${d.fault}]` : ''}`).join('; ') || 'none'}` +
      `\n  last output:\n${transcript.slice(-2).map((t) => `  $ regplan ${t.argv.join(' ')} -> ${t.code}\n${(t.out + t.err).trim().split('\n').slice(-12).map((l) => `    ${l}`).join('\n')}`).join('\n')}`;

    let last: Invocation | undefined;
    for (let attempt = 0; attempt <= MAX_RERUNS; attempt++) {
      const planFile = `plan-${attempt}.json`;
      last = await run(`attempt ${attempt} plan`, 'plan', '--out', planFile);
      if (BREAK === 'kept' && attempt === 0) await deleteManifestDirect(registry, scenario.repo, digests.get('v1.0.0') as string);
      const afterPlan = await wrongDeletion();
      if (afterPlan) return finish({ reason: 'wrong deletion', failure: `${afterPlan} (after plan, attempt ${attempt})${describe()}` });
      if (last.code === 0) {
        last = await run(`attempt ${attempt} apply`, 'apply', planFile);
        const afterApply = await wrongDeletion();
        if (afterApply) return finish({ reason: 'wrong deletion', failure: `${afterApply} (after apply, attempt ${attempt})${describe()}` });
      }
      if (last.code !== 0) {
        const unclear = unclearError(last, proxy.host, repoAddress);
        if (unclear) return finish({ reason: `${last.argv[0]}: ${unclear.replace(/127\.0\.0\.1:\d+/g, 'HOST').slice(0, 90)}`, failure: `unclear error from "regplan ${last.argv.join(' ')}" (attempt ${attempt}): ${unclear}${describe()}` });
      }
      const now = await listTagsDirect(registry, scenario.repo);
      if (JSON.stringify(now) === JSON.stringify(expected)) return finish({ reruns: attempt });
    }
    const now = await listTagsDirect(registry, scenario.repo);
    const leftover = now.filter((t) => !expected.includes(t));
    const lost = expected.filter((t) => !now.includes(t));
    if (last !== undefined && last.code === 1) {
      const firstError = errorLines(last, repoAddress)[0] ?? '';
      if (lost.length === 0) return finish({ stoppedWith: firstError });
    }
    return finish({
      reason: 'not converged, exit 0',
      failure: `not converged after ${MAX_RERUNS} reruns and the last run did not stop with an error: left [${leftover.join(', ')}], missing [${lost.join(', ')}]${describe()}`,
    });
  } finally {
    await proxy.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const seed of SEEDS) {
  test(`seed ${seed}: plan + apply through ${Math.round(RATE * 100)}% faults converges or stops clearly, deleting only doomed tags`, async () => {
    const outcome = await runSeed(seed);
    outcomes.push(outcome);
    if (outcome.failure !== undefined) assert.unreachable(`seed ${seed}: ${outcome.failure}`);
  });
}

test('a registry that always lies in Docker-Content-Digest on HEAD of a kept tag does not get that tag deleted', async () => {
  // The shared-manifest guard (pr-shared shares v1.1.0's manifest) must not rest on an unverified HEAD header:
  // deleting pr-shared's manifest by digest removes v1.1.0 with it.
  const repo = 'rel/lying-head';
  const release = await seedTags(registry, repo, ['v1.1.0', 'pr-shared'], { content: `${repo} v1.1.0` });
  await seedTags(registry, repo, ['pr-1'], { content: `${repo} pr-1` });
  const proxy = await startFaultProxy({ target: registry.host, seed: 1, force: (r) => (r.method === 'HEAD' && r.path.endsWith('/manifests/v1.1.0') ? 'wrong-digest' : 'none') });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-faults-lie-'));
  try {
    const { config, dockerConfig } = await writeWorld(dir, proxy, scenarioFor(0), repo);
    const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), NO_COLOR: '1' }, dir);
    // A first plan reads each tag with a verified GET (a cold plan sends no HEAD); the cache then knows the tags,
    // so the plan inside apply HEADs them, and the HEAD of v1.1.0 lies.
    assert.is(await runCli(['-c', config, '--docker-config', dockerConfig, 'plan'], captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache'), NO_COLOR: '1' }, dir)), 0);
    const code = await runCli(['-c', config, '--docker-config', dockerConfig, 'apply', '--auto-approve'], io);
    assert.ok(proxy.faultCounts()['wrong-digest'] > 0, 'the lie was told');
    const left = await listTagsDirect(registry, repo);
    const hit = proxy.deletes.filter((d) => d.forwarded && d.path.endsWith(release));
    assert.ok(left.includes('v1.1.0') && hit.length === 0, `v1.1.0 survives (exit ${code}; left [${left.join(', ')}]; DELETEs ${proxy.deletes.map((d) => d.path).join(', ')})\n${io.out()}${io.err()}`);
  } finally {
    await proxy.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('summary: faults of every kind were injected at about the configured rate, no stray rejections', () => {
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, outcomes.reduce((sum, o) => sum + o.faults[k], 0)])) as Record<FaultKind, number>;
  const totalFaults = Object.values(faults).reduce((a, b) => a + b, 0);
  const requests = outcomes.reduce((sum, o) => sum + o.requests, 0);
  const histogram: Record<string, number> = { '0': 0, '1': 0, '2': 0, '3': 0, stopped: 0, failed: 0 };
  for (const o of outcomes) {
    const key = o.failure !== undefined ? 'failed' : o.reruns !== undefined ? String(o.reruns) : 'stopped';
    histogram[key] = (histogram[key] ?? 0) + 1;
  }
  const failedSeeds = outcomes.filter((o) => o.failure !== undefined).map((o) => o.seed);
  const wrong = outcomes.filter((o) => o.reason === 'wrong deletion').map((o) => o.seed);
  const reasons: Record<string, number> = {};
  for (const o of outcomes) if (o.reason !== undefined) reasons[o.reason] = (reasons[o.reason] ?? 0) + 1;
  const perSeed = outcomes.map((o) => `${o.seed}:${o.failure !== undefined ? 'F' : o.reruns ?? 'S'}`).join(' ');
  const stopped = outcomes.filter((o) => o.stoppedWith !== undefined).map((o) => `${o.seed}: ${o.stoppedWith}`);
  const summary = {
    runs: outcomes.length,
    rate: RATE,
    requests,
    faults: totalFaults,
    byKind: faults,
    reruns: histogram,
    wrongDeletions: wrong.length,
    failedSeeds,
    failureReasons: reasons,
    stallMs: timeout.stallMs,
    clientTimeout: timeout.setting === '' ? 'none (120 s built in)' : timeout.setting.replace(/^, timeout: /, ''),
    seconds: Math.round(outcomes.reduce((sum, o) => sum + o.ms, 0) / 1000),
  };
  console.log(`reliability faults: ${JSON.stringify(summary)}`);
  console.log(`reliability faults per seed (reruns to converge, S = stopped with a clear error, F = failed): ${perSeed}`);
  for (const line of stopped) console.log(`  stopped clearly: seed ${line}`);
  assert.equal(strayRejections.map(String), [], 'regplan left no unhandled promise rejection behind');
  if (RATE > 0 && outcomes.length >= 20) {
    const share = totalFaults / requests;
    assert.ok(share > RATE * 0.6 && share < RATE * 1.4, `faults on ${(share * 100).toFixed(1)}% of requests, configured ${RATE * 100}%`);
    for (const kind of FAULT_KINDS) assert.ok(faults[kind] > 0, `no ${kind} fault was injected in ${outcomes.length} runs`);
  }
  if (RATE === 0) assert.equal(totalFaults, 0);
});

test.run();
