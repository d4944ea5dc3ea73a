/**
 * skopeo as the independent client of integration tests: seeds a test registry with images built by
 * ./layout.ts, and reads the registry's state back (tags, raw manifests, digests) without regplan's code.
 * Always async: in token mode the token server lives in the test process, so a blocking call would deadlock.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildTestImage, sha256Digest, writeOciLayout, type TestImageOptions } from './layout.ts';
import type { TestRegistry } from './registry.ts';

/** What to push: an image (or index) under one or more tags of a repo. */
export interface SeedOptions extends TestImageOptions {
  repo: string;
  tag: string;
  /** More tags that share the same manifest digest. */
  alsoTags?: readonly string[];
}

/** What was pushed, as a test expects to find it in the registry. */
export interface SeededImage {
  repo: string;
  tags: string[];
  digest: string;
  mediaType: string;
  /** Digest of each platform manifest, keyed `os/arch[/variant]`. */
  platformDigests: Record<string, string>;
}

/** The output of a skopeo run. */
export interface SkopeoOutput {
  stdout: Buffer;
  stderr: string;
}

/** Runs skopeo with the registry's Docker config as its auth file (so the user's own logins never leak in). */
export function runSkopeo(registry: TestRegistry, args: readonly string[]): Promise<SkopeoOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      'skopeo',
      ['--insecure-policy', ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, REGISTRY_AUTH_FILE: path.join(registry.dockerConfigDir, 'config.json') } },
      (error, stdout, stderr) => {
        const errText = stderr.toString('utf8');
        if (error) reject(new SkopeoError(`skopeo ${args[0] ?? ''} failed: ${errText.trim() || error.message}`, errText));
        else resolve({ stdout, stderr: errText });
      },
    );
  });
}

/** skopeo exited non-zero; `stderr` holds its message (e.g. "manifest unknown"). */
export class SkopeoError extends Error {
  override name = 'SkopeoError';
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.stderr = stderr;
  }
}

/** Pushes a freshly built image to `repo:tag` (and `alsoTags`) with `skopeo copy --all --preserve-digests`. */
export async function seedImage(registry: TestRegistry, options: SeedOptions): Promise<SeededImage> {
  const image = buildTestImage({
    ...(options.created === undefined ? {} : { created: options.created }),
    ...(options.platforms === undefined ? {} : { platforms: options.platforms }),
    content: options.content ?? `${options.repo}:${options.tag}`,
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-layout-'));
  const tags = [options.tag, ...(options.alsoTags ?? [])];
  try {
    await writeOciLayout(dir, [{ ref: 'seed', image }]);
    for (const tag of tags) {
      await runSkopeo(registry, ['copy', '--all', '--preserve-digests', '--quiet', ...registry.skopeoArgs('dest'), `oci:${dir}:seed`, `docker://${registry.host}/${options.repo}:${tag}`]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { repo: options.repo, tags, digest: image.descriptor.digest, mediaType: image.descriptor.mediaType, platformDigests: image.platformDigests };
}

/** The repo's tags as skopeo lists them (sorted), or [] when the repo does not exist. */
export async function skopeoListTags(registry: TestRegistry, repo: string): Promise<string[]> {
  try {
    const { stdout } = await runSkopeo(registry, ['list-tags', ...registry.skopeoArgs(), `docker://${registry.host}/${repo}`]);
    const parsed = JSON.parse(stdout.toString('utf8')) as { Tags?: string[] | null };
    return [...(parsed.Tags ?? [])].sort();
  } catch (e) {
    if (e instanceof SkopeoError && /404|name unknown|repository name not known/i.test(e.stderr)) return [];
    throw e;
  }
}

/** The manifest bytes exactly as the registry serves them for `repo:ref` (ref = tag or digest). */
export async function skopeoInspectRaw(registry: TestRegistry, repo: string, ref: string): Promise<Uint8Array> {
  const separator = ref.includes(':') ? '@' : ':';
  const { stdout } = await runSkopeo(registry, ['inspect', '--raw', ...registry.skopeoArgs(), `docker://${registry.host}/${repo}${separator}${ref}`]);
  return new Uint8Array(stdout);
}

/** The manifest digest `repo:ref` resolves to, or undefined when the registry says the manifest is unknown. */
export async function skopeoDigest(registry: TestRegistry, repo: string, ref: string): Promise<string | undefined> {
  try {
    return sha256Digest(await skopeoInspectRaw(registry, repo, ref));
  } catch (e) {
    if (e instanceof SkopeoError && /manifest unknown|not found|404/i.test(e.stderr)) return undefined;
    throw e;
  }
}
