/**
 * A canary test per driver (issue 9): every driver that takes credentials, each way it takes them, runs the real
 * CLI — `plan`, `--debug plan`, `plan --out plan.json`, `apply plan.json`, `--debug apply plan.json` — against its
 * emulator behind the echo proxy, whose error answers (401/403/404/500, JSON and plain text, `WWW-Authenticate`)
 * echo every credential it received. One world runs every command as a child process as well.
 *
 * No canary, and no credential the proxy saw on the wire (issued tokens included), may appear in stdout, stderr,
 * the plan file, the journal or anything under the cache dir — as is, URL-encoded or base64, nor any 12-character
 * piece of one of those (a message cut through a secret). Ends with `canaries: N drivers, M runs, K secrets, found F`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { captureIo } from '../support/io.ts';
import { openWorld, WORLD_SPECS, type CanaryWorld, type WorldSpec } from './canary-worlds.ts';
import type { EchoPhase } from './echo-proxy.ts';

// The AWS SDK also reads this process's environment and files: keep it hermetic, away from instance metadata.
for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
process.env['AWS_CONFIG_FILE'] = '/nonexistent/regplan-test/aws-config';
process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/regplan-test/aws-credentials';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');
/** The shortest piece of a secret that counts as a leak. */
const PIECE = 12;

/** The commands every world runs, in order, and what the proxy does meanwhile. */
const RUNS: readonly { argv: readonly string[]; phase: EchoPhase; exit: readonly number[] }[] = [
  { argv: ['plan'], phase: { targets: 'credentialed', statuses: [401, 403] }, exit: [1] },
  { argv: ['--debug', 'plan'], phase: { targets: 'after-login', statuses: [500, 404, 403, 401] }, exit: [0, 1] },
  { argv: ['plan', '--out', 'plan.json'], phase: { targets: 'none' }, exit: [0] },
  { argv: ['apply', 'plan.json'], phase: { targets: 'deletes', statuses: [403, 500, 404, 401] }, exit: [0, 1] },
  { argv: ['--debug', 'apply', 'plan.json'], phase: { targets: 'none' }, exit: [0, 1] },
];

interface RunResult {
  code: number;
  out: string;
  err: string;
}

async function runInProcess(world: CanaryWorld, argv: readonly string[]): Promise<RunResult> {
  const io = captureIo(world.env, world.dir);
  const code = await runCli([...argv], io);
  return { code, out: io.out(), err: io.err() };
}

function runChild(world: CanaryWorld, argv: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], { cwd: world.dir, env: world.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** The forms a secret may leak in: as is, URL-encoded, base64 (padded or not), base64url. */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, encodeURIComponent(secret), bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')];
}

/** Every piece of PIECE characters of every form of every secret (a whole form when shorter), with its secret. */
function pieces(secrets: Iterable<string>): Map<string, string> {
  const found = new Map<string, string>();
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      if (form.length <= PIECE) found.set(form, secret);
      else for (let i = 0; i + PIECE <= form.length; i++) found.set(form.slice(i, i + PIECE), secret);
    }
  }
  return found;
}

/** Where pieces of secrets occur in `text`: one finding per secret, with some context. */
function leaksIn(text: string, where: string, secretPieces: Map<string, string>): string[] {
  const hits = new Map<string, string>();
  for (let i = 0; i + PIECE <= text.length; i++) {
    const secret = secretPieces.get(text.slice(i, i + PIECE));
    if (secret !== undefined && !hits.has(secret)) hits.set(secret, `${where}: ${JSON.stringify(text.slice(Math.max(0, i - 80), i + 60))} (of ${secret.slice(0, 24)}…)`);
  }
  return [...hits.values()];
}

/** Every file regplan wrote in the world (plan, journal, cache), path -> text. */
async function writtenFiles(world: CanaryWorld): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(world.dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(world.dir, path.join(entry.parentPath, entry.name));
    if (!world.inputs.has(relative)) files.set(relative, await readFile(path.join(world.dir, relative), 'utf8'));
  }
  return files;
}

const totals = { drivers: new Set<string>(), runs: 0, secrets: new Set<string>(), planted: 0, echoes: 0, found: [] as string[] };

/** Runs the five commands in one world and checks every output and file for the secrets. */
async function exercise(spec: WorldSpec, run: (world: CanaryWorld, argv: readonly string[]) => Promise<RunResult>, how: string): Promise<void> {
  const world = await openWorld(spec);
  const name = `${world.name}${how}`;
  try {
    const outputs: { where: string; text: string }[] = [];
    for (const [i, step] of RUNS.entries()) {
      world.proxy.setPhase(step.phase);
      const result = await run(world, step.argv);
      totals.runs += 1;
      const label = `${name}: regplan ${step.argv.join(' ')}`;
      assert.ok(step.exit.includes(result.code), `${label} exited ${result.code}:\n${result.out}${result.err}`);
      assert.not.match(result.err, /looks like a bug/, `${label}:\n${result.err}`);
      if (i < 2) assert.ok(world.proxy.echoes.phase > 0, `${label}: the proxy echoed nothing (so this run proves nothing)`);
      outputs.push({ where: `${label} stdout`, text: result.out }, { where: `${label} stderr`, text: result.err });
    }
    const files = await writtenFiles(world);
    assert.ok(files.has('plan.json'), `${name}: no plan file`);
    assert.ok([...files.keys()].some((f) => f.startsWith('cache')), `${name}: nothing in the cache dir, so it was not checked`);
    for (const [file, text] of files) outputs.push({ where: `${name}: file ${file}`, text });
    assert.ok(
      outputs.some((o) => o.text.includes('ECHO{')),
      `${name}: no echo reached any output, so the test cannot tell a scrubbed secret from one never shown`,
    );

    for (const carrier of spec.carries) assert.ok(world.proxy.carriers.has(carrier), `${name}: no credential came as ${carrier}, so that path was not echoed`);
    const secrets = new Set([...world.canaries, ...world.proxy.received]);
    for (const canary of world.canaries.filter((c) => !world.unsent.has(c))) {
      assert.ok([...world.proxy.received].some((r) => r.includes(canary)), `${name}: the canary ${canary} never reached the server`);
    }
    const secretPieces = pieces(secrets);
    for (const { where, text } of outputs) totals.found.push(...leaksIn(text, where, secretPieces));
    totals.drivers.add(spec.driver);
    for (const secret of secrets) totals.secrets.add(secret);
    totals.planted += world.canaries.length;
    totals.echoes += world.proxy.echoes.total;
  } finally {
    await world.stop();
    await rm(world.dir, { recursive: true, force: true });
  }
}

for (const spec of WORLD_SPECS) {
  test(`${spec.driver} (${spec.variant}): no echoed credential reaches any output or file`, async () => {
    await exercise(spec, runInProcess, '');
  });
}

const childSpec = WORLD_SPECS.find((s) => s.driver === 'default' && s.variant.includes('bearer token server'));
test('as a child process (default, bearer token server): no echoed credential reaches any output or file', async () => {
  assert.ok(childSpec);
  await exercise(childSpec, runChild, ' [child process]');
});

test('the canary summary', () => {
  console.log(`canaries: ${totals.drivers.size} drivers, ${totals.runs} runs, ${totals.secrets.size} secrets, found ${totals.found.length}`);
  console.log(`canary detail: ${totals.planted} planted, ${totals.secrets.size - totals.planted} more seen on the wire (issued tokens, Basic headers), ${totals.echoes} echoing answers`);
  assert.equal(totals.found, [], `secrets leaked:\n${totals.found.join('\n')}`);
});

test.run();
