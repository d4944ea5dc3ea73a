/**
 * Digests of an OCI image layout: validating them (they become file paths, so nothing else may pass) and
 * computing them from bytes or a stream.
 */
import { createHash } from 'node:crypto';
import { RegplanError } from '../errors.ts';

const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** A digest split into the algorithm and hex parts that name its file (`blobs/<algorithm>/<hex>`). */
export interface DigestParts {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** True when `hex` is a well-formed hex part for `algorithm` (how garbage collection recognises blob files). */
export function isBlobFileName(algorithm: string, hex: string): boolean {
  const length = HEX_LENGTH[algorithm];
  return length !== undefined && hex.length === length && /^[a-f0-9]+$/.test(hex);
}

/** Splits and validates a digest; anything but `sha256:<64 hex>` / `sha512:<128 hex>` is refused. */
export function parseDigest(digest: string): DigestParts {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (colon === -1 || !isBlobFileName(algorithm, hex)) {
    throw new RegplanError(`invalid digest "${digest}"`, { hint: 'a digest is sha256: followed by 64 lowercase hex digits', context: { ref: digest } });
  }
  return { algorithm: algorithm as DigestParts['algorithm'], hex };
}

/** The sha256 digest of some bytes, as `sha256:<hex>`. */
export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The digest of bytes with the same algorithm as `expected` (so sha512 content verifies too). */
export function digestLike(expected: string, bytes: Uint8Array): string {
  const { algorithm } = parseDigest(expected);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Passes chunks through while hashing them; `result()` gives the digest and size once the stream is drained. */
export function hashingStream(chunks: AsyncIterable<Uint8Array>): { chunks: AsyncIterable<Uint8Array>; result: () => { digest: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  let done: { digest: string; size: number } | undefined;
  async function* pass(): AsyncIterable<Uint8Array> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.byteLength;
      yield chunk;
    }
    done = { digest: `sha256:${hash.digest('hex')}`, size };
  }
  return {
    chunks: pass(),
    result: () => {
      if (!done) throw new Error('hashingStream: result() read before the stream was drained');
      return done;
    },
  };
}
