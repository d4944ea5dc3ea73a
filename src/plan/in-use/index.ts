/**
 * The `inUse` keep rule's facts: which images running workloads reference, read from one source before evaluation
 * (facts.ts), so the evaluator stays pure. Sources: a Kubernetes cluster (kubernetes.ts), a file of image
 * references, or a command printing them. A source that cannot be read stops the plan — never an empty answer,
 * which would let the plan delete exactly the images that run.
 */
import type { InUseSource } from '../../config/types.ts';
import { RegplanError } from '../../errors.ts';
import { FileRefusedError, readTextFileCapped, runCommand } from '../../runtime.ts';
import type { InUseImage } from '../types.ts';
import { parseImageRef } from './image-ref.ts';
import { readKubernetesImages } from './kubernetes.ts';

/** The largest file or command output read (a cluster's image list is a few megabytes at most). */
export const MAX_IN_USE_BYTES = 16 * 1024 * 1024;
/** How long an `inUse` command may run. */
export const IN_USE_COMMAND_TIMEOUT_MS = 5 * 60_000;

/** The key facts are stored under: the source itself, as JSON (two rules naming one source read it once). */
export const inUseKey = (source: InUseSource): string => JSON.stringify(source);

/** A source in words, for labels and errors: `kubernetes context prod`, `file ./running.txt`, `command kubectl …`. */
export function describeInUseSource(source: InUseSource): string {
  if (source.kind === 'file') return `file ${source.file}`;
  if (source.kind === 'command') return `command ${source.argv.join(' ')}`;
  const parts = [source.context === undefined ? 'current context' : `context ${source.context}`, ...(source.namespace === undefined ? [] : [`namespace ${source.namespace}`])];
  return `kubernetes ${parts.join(', ')}`;
}

/** Reads the images a source says are in use; throws a RegplanError naming the source (and the rule's config line). */
export async function readInUse(source: InUseSource, options: { cwd: string; env: Readonly<Record<string, string | undefined>>; where?: string }): Promise<InUseImage[]> {
  const rule = options.where === undefined ? '' : ` (inUse rule at ${options.where})`;
  try {
    if (source.kind === 'kubernetes') return await readKubernetesImages(source, { env: options.env });
    if (source.kind === 'file') return imagesFromLines(await readImageFile(source.file), source.file);
    return imagesFromLines(await runImageCommand(source.argv, options), `output of ${source.argv[0]}`);
  } catch (error) {
    if (error instanceof RegplanError && error.message.startsWith('inUse')) throw error;
    throw new RegplanError(`inUse: cannot read ${describeInUseSource(source)}${rule}: ${(error as Error).message}`, {
      hint: (error as RegplanError).hint ?? 'fix the source or remove the inUse rule; regplan will not plan without it, since the images in use would lose their protection',
      cause: error,
    });
  }
}

/** One image reference per line; blank lines and `#` comments are skipped; anything else is an error naming the line. */
export function imagesFromLines(text: string, origin: string): InUseImage[] {
  const images: InUseImage[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line === '') return;
    if (parseImageRef(line) === undefined) {
      throw new RegplanError(`inUse: ${origin}:${index + 1}: ${JSON.stringify(line.slice(0, 200))} is not an image reference`, {
        hint: 'write one image reference per line: repo:tag, repo@sha256:<hex> or repo:tag@sha256:<hex> (e.g. ghcr.io/acme/api:v1.2.3)',
      });
    }
    images.push({ image: line, by: `${origin}:${index + 1}` });
  });
  return images;
}

async function readImageFile(file: string): Promise<string> {
  try {
    return await readTextFileCapped(file, { maxBytes: MAX_IN_USE_BYTES, regularOnly: true });
  } catch (error) {
    if (error instanceof FileRefusedError) {
      throw new RegplanError(error.reason.kind === 'not-regular' ? `it is a ${error.reason.type}, not a regular file` : 'it is larger than 16 MiB', {
        hint: 'point inUse.file at a regular text file of image references, one per line',
      });
    }
    throw error;
  }
}

async function runImageCommand(argv: readonly string[], options: { cwd: string; env: Readonly<Record<string, string | undefined>> }): Promise<string> {
  const [program, ...args] = argv as [string, ...string[]];
  const result = await runCommand(program, args, { cwd: options.cwd, env: options.env, timeoutMs: IN_USE_COMMAND_TIMEOUT_MS });
  if (result.code !== 0) {
    const said = result.stderr.trim().split('\n')[0] ?? '';
    throw new RegplanError(`it exited with ${result.code === null ? 'a signal (timed out after 5 minutes?)' : `code ${result.code}`}${said ? `: ${said.slice(0, 300)}` : ''}`, {
      hint: 'run the command by hand from the config file\'s directory; it must print image references, one per line, and exit 0',
    });
  }
  if (result.stdout.length > MAX_IN_USE_BYTES) throw new RegplanError('it printed more than 16 MiB', { hint: 'print one image reference per line' });
  return result.stdout;
}
