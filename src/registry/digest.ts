/**
 * Content digests (`sha256:<hex>`): how the client proves a manifest or blob is what it asked for, and how an
 * upload names its content. Files are hashed as a stream (through runtime.ts), never read whole.
 */
import { createHash } from 'node:crypto';
import { readFileReusingBuffer } from '../runtime.ts';

/** The digest algorithms the client can verify; others are passed through unverified. */
const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

/** The `sha256:<hex>` digest of some bytes. */
export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The digest of `bytes` under the algorithm `like` names (`sha512:...` -> sha512); undefined for an unknown algorithm. */
export function digestLike(like: string, bytes: Uint8Array): string | undefined {
  const algorithm = like.slice(0, like.indexOf(':'));
  const hash = ALGORITHMS[algorithm];
  return hash === undefined ? undefined : `${algorithm}:${createHash(hash).update(bytes).digest('hex')}`;
}

/**
 * True when `bytes` hash to `expected`. An algorithm regplan cannot compute counts as verified only when
 * `strict` is false (the caller then relies on the registry's own check).
 */
export function matchesDigest(bytes: Uint8Array, expected: string, options: { strict?: boolean } = {}): boolean {
  const actual = digestLike(expected, bytes);
  if (actual === undefined) return options.strict !== true;
  return actual === expected.toLowerCase();
}

/** Streams a file and returns its sha256 digest and size. */
export async function fileDigest(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of readFileReusingBuffer(file)) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Shortens a digest for messages: `sha256:0123456789ab…`. */
export const shortDigest = (digest: string): string => (digest.length > 19 ? `${digest.slice(0, 19)}…` : digest);
