/**
 * The binaries users download (`npm run release` -> dist/release/): the linux-x64 one runs with no Node.js on
 * PATH; the linux-arm64 one cannot run here, so it is checked for what makes it work on arm64: an AArch64 ELF
 * file, the SEA fuse flipped and a NODE_SEA_BLOB note carrying the same bundle as the x64 binary, without the
 * x64-only code cache; SHA256SUMS checks with `sha256sum -c`. The release is built once and reused while it is
 * newer than every source, schema, script and package file.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseSeaBlob, readSeaBinary, SEA_FUSE } from '../../scripts/sea-binary.ts';
import { node24Path, nodeFreePath, repoRoot, runProgram, runSource } from '../support/standalone.ts';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const releaseDir = path.join(repoRoot, 'dist', 'release');
const sums = path.join(releaseDir, 'SHA256SUMS');
const x64 = path.join(releaseDir, 'regplan-linux-x64');
const arm64 = path.join(releaseDir, 'regplan-linux-arm64');

function newestInput(): number {
  let newest = 0;
  const visit = (file: string): void => {
    const stat = statSync(file);
    if (stat.isDirectory()) for (const entry of readdirSync(file)) visit(path.join(file, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of ['src', 'schema', 'scripts', 'package.json', 'package-lock.json']) visit(path.join(repoRoot, input));
  return newest;
}

test.before(() => {
  if (existsSync(sums) && statSync(sums).mtimeMs > newestInput()) return;
  const release = spawnSync(node24Path, [path.join(repoRoot, 'scripts', 'release.ts')], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  assert.is(release.status, 0, `npm run release failed:\n${release.stdout}${release.stderr}`);
});

/** The first bytes of a file, read without any of the code under test. */
function head(file: string, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, 0);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

test('release: dist/release holds exactly the two binaries and a SHA256SUMS that `sha256sum -c` accepts', () => {
  assert.equal(readdirSync(releaseDir).sort(), ['SHA256SUMS', 'regplan-linux-arm64', 'regplan-linux-x64']);
  assert.match(readFileSync(sums, 'utf8'), /^[0-9a-f]{64} {2}regplan-linux-x64\n[0-9a-f]{64} {2}regplan-linux-arm64\n$/);
  const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: releaseDir, encoding: 'utf8' });
  assert.is(check.status, 0, check.stdout + check.stderr);
  assert.is(check.stdout, 'regplan-linux-x64: OK\nregplan-linux-arm64: OK\n');
  for (const file of [x64, arm64]) assert.ok(statSync(file).size < 120 * 1024 * 1024, `${file} is ${statSync(file).size} bytes: the runtime was not stripped`);
});

test('release: regplan-linux-x64 runs with no node on PATH and validates a config as the sources do', async () => {
  const version = await runProgram(x64, ['--version'], { env: { PATH: nodeFreePath() } });
  assert.is(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^regplan ${pkg.version.replaceAll('.', '\\.')} \\(node v24\\.\\d+\\.\\d+, standalone\\)\\n$`));
  const config = path.join(repoRoot, 'examples', 'ecr.yaml');
  const [binary, source] = await Promise.all([runProgram(x64, ['validate', '-c', config], { env: { PATH: nodeFreePath() } }), runSource(['validate', '-c', config])]);
  assert.is(binary.code, 0, binary.stdout + binary.stderr);
  assert.equal(binary, source);
});

test('release: regplan-linux-arm64 is an AArch64 ELF executable carrying the x64 binary\'s bundle without its code cache', () => {
  const elf = head(arm64, 20);
  assert.is(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
  assert.is(elf[4], 2, 'ELFCLASS64');
  assert.is(elf.readUInt16LE(16), 2, 'e_type ET_EXEC');
  assert.is(elf.readUInt16LE(18), 0xb7, 'e_machine EM_AARCH64');
  const armSea = readSeaBinary(arm64);
  const x64Sea = readSeaBinary(x64);
  assert.is(armSea.fuse, 'flipped', `${SEA_FUSE} must end in :1`);
  assert.ok(armSea.blob && x64Sea.blob, 'both binaries carry a NODE_SEA_BLOB note');
  const armBlob = parseSeaBlob(armSea.blob);
  const x64Blob = parseSeaBlob(x64Sea.blob);
  assert.is(armBlob.useCodeCache, false, 'a V8 code cache made on x64 does not load on arm64');
  assert.is(armBlob.useSnapshot, false);
  assert.is(x64Blob.useCodeCache, true);
  assert.ok(armBlob.mainScript === x64Blob.mainScript, 'the same bundle in both binaries');
  assert.ok(armBlob.mainScript.includes(`name:"regplan",version:${JSON.stringify(pkg.version)}`), 'the bundle embeds the package version');
});

test('release: the plain Node runtime reads as not a SEA binary (the checks above can fail)', () => {
  const plain = readSeaBinary(node24Path);
  assert.is(plain.machine, 0x3e);
  assert.is(plain.fuse, 'unflipped');
  assert.is(plain.blob, undefined);
});

test.run();
