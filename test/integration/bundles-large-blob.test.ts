/**
 * A large file bundle goes up in chunks, streamed from disk: a 200 MB generated file is planned and applied by
 * `regplan apply --auto-approve` in a child process against the real registry, and the child's peak RSS stays
 * far below the file's size. The registry's debug lines show the chunked upload (PATCH ... then the closing PUT),
 * and skopeo reads the layer digest back.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ImageManifest } from '../../src/registry/oci.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { skopeoInspectRaw } from '../harness/seed.ts';

const SIZE = 200 * 1024 * 1024;
/** Peak resident memory the child may reach: the Node runtime's own ~60-90 MB plus a few chunks, far below 200 MB. */
const RSS_LIMIT = 150 * 1024 * 1024;
const ROOT = path.resolve(import.meta.dirname, '../..');

let registry: TestRegistry;
let dir: string;

test.before(async () => {
  registry = await startRegistry({ auth: 'basic' });
  dir = await mkdtemp(path.join(tmpdir(), 'regplan-large-blob-'));
});
test.after(async () => {
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes `size` random bytes to `file` a MiB at a time, returning their sha256 digest. */
async function generate(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let written = 0; written < size; written += 1 << 20) {
    const chunk = randomBytes(Math.min(1 << 20, size - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return `sha256:${hash.digest('hex')}`;
}

/** The child: runs the CLI in process, then reports its own peak RSS (bytes) on the last stdout line. */
const CHILD = `
import { runCli } from ${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))};
import { processIo } from ${JSON.stringify(path.join(ROOT, 'src/runtime.ts'))};
const code = await runCli(process.argv.slice(2), processIo());
process.stdout.write('\\nmaxRSS=' + process.resourceUsage().maxRSS * 1024 + '\\n');
process.exitCode = code;
`;

function runChild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(dir, 'child.ts'), ...args], {
      cwd: dir,
      env: { ...process.env, DOCKER_CONFIG: registry.dockerConfigDir, HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, '.cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test('a 200 MB file bundle is pushed in chunks by a process whose peak RSS stays far below 200 MB', async () => {
  const digest = await generate(path.join(dir, 'big.bin'), SIZE);
  await writeFile(path.join(dir, 'child.ts'), CHILD);
  await writeFile(path.join(dir, 'registry.config.yaml'), `version: 1\nrepos:\n  - repo: ${registry.host}/big/files\n    bundles:\n      - tag: v1\n        files: [./big.bin]\n`);

  const result = await runChild(['--debug', 'apply', '--auto-approve']);
  assert.is(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /pushed +\S+\/big\/files:v1: 2 blobs uploaded/);
  const patches = result.stderr.match(/PATCH \S+\/v2\/big\/files\/blobs\/uploads\//g) ?? [];
  assert.ok(patches.length >= 20, `the file went up in chunks (${patches.length} PATCH requests)`);
  const maxRss = Number(/maxRSS=(\d+)/.exec(result.stdout)?.[1]);
  assert.ok(Number.isFinite(maxRss) && maxRss > 0, 'the child reported its peak RSS');
  assert.ok(maxRss < RSS_LIMIT, `peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB must stay below ${RSS_LIMIT / 2 ** 20} MiB for a ${SIZE / 2 ** 20} MiB file`);

  const manifest = JSON.parse(new TextDecoder().decode(await skopeoInspectRaw(registry, 'big/files', 'v1'))) as ImageManifest;
  assert.equal(manifest.layers.map((l) => [l.digest, l.size]), [[digest, SIZE]]);
});

test.run();
