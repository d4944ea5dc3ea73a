/**
 * Support for the cross-process tests: a seeded OCI layout in a temp world, `regplan` run as a separate
 * Node process (so two of them really race), and readers for journals.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { OciLayout } from '../../src/layout/store.ts';
import { captureIo } from '../support/io.ts';
import { putTestImage } from '../support/oci-layout.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/main.ts');

/** What a regplan process printed and how it ended. */
export interface RunResult {
  code: number;
  out: string;
  err: string;
}

const dirs: string[] = [];

/** A fresh temp directory, removed by `removeWorlds`. */
export async function worldDir(prefix = 'regplan-reliability-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Removes every temp directory made here. */
export async function removeWorlds(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** The environment every run gets: its own HOME and cache, nothing from the developer's machine. */
const envFor = (dir: string): Record<string, string> => ({
  HOME: dir,
  REGPLAN_CACHE_DIR: path.join(dir, '.cache'),
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  NO_COLOR: '1',
});

/** Runs regplan in process (planning, where nothing races). */
export async function runInProcess(dir: string, argv: string[]): Promise<RunResult> {
  const io = captureIo(envFor(dir), dir);
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** Runs regplan as its own Node process in `dir`. */
export function runProcess(dir: string, argv: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], { cwd: dir, env: envFor(dir), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** A layout with `count` old `pr-N` images (deletable) and a kept `v1`, built once and copied per world. */
export async function seedLayout(dir: string, count: number): Promise<{ pr: string[] }> {
  const layout = await OciLayout.create(dir);
  const pr: string[] = [];
  for (let i = 0; i < count; i++) {
    await putTestImage(layout, `pr build ${i}`, { tag: `pr-${i}`, configCreated: '2020-01-01T00:00:00Z' });
    pr.push(`pr-${i}`);
  }
  await putTestImage(layout, 'release 1', { tag: 'v1', configCreated: '2020-01-01T00:00:00Z' });
  return { pr };
}

/** Copies a seeded layout into a world. */
export const copyLayout = (from: string, to: string): Promise<void> => cp(from, to, { recursive: true });

/** The config that cleans every `pr-*` tag of `oci:./layout` and keeps `v*`. */
export const CLEANUP_CONFIG = [
  'version: 1',
  'settings: { grace: 2h }',
  'policies:',
  '  ci:',
  '    keep:',
  "      - tags: '^v'",
  "    delete: { tags: '^pr-' }",
  '    untagged: keep',
  'repos:',
  '  - repo: oci:./layout',
  '    cleanup: ci',
  '',
].join('\n');

/** The config that pushes one file bundle as `bundle` into `oci:./layout`. */
export const PUSH_CONFIG = [
  'version: 1',
  'repos:',
  '  - repo: oci:./layout',
  '    bundles:',
  '      - tag: bundle',
  '        files: [./notes.md]',
  '        artifactType: application/vnd.regplan.test.notes.v1',
  '',
].join('\n');

/** Writes a file (and its directory). */
export async function put(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

/** One parsed journal line. */
export interface JournalLine {
  key: string;
  outcome: string;
  tag?: string;
  plan?: string;
  message?: string;
}

/** Every complete line of a journal (none when it does not exist). */
export async function journalLines(file: string): Promise<JournalLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as JournalLine);
}
