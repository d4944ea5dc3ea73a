/**
 * Image references as workloads write them (`nginx`, `nginx:1.27`, `ghcr.io/acme/api@sha256:…`,
 * `ghcr.io/acme/api:v1@sha256:…`), read into what a keep rule matches: the canonical repo (`nginx` =
 * `docker.io/library/nginx`, listed.ts `canonicalRepo`), the tag (`latest` when neither tag nor digest is given,
 * as a container runtime reads it) and the digest.
 */
import { canonicalRepo } from '../policies/listed.ts';

/** A parsed reference: always a repo, and a tag, a digest or both. */
export interface ImageRef {
  repo: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Parses one reference; undefined when it is not one (the caller decides whether that is an error). */
export function parseImageRef(text: string): ImageRef | undefined {
  const at = text.indexOf('@');
  const digest = at === -1 ? undefined : text.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) return undefined;
  const named = at === -1 ? text : text.slice(0, at);
  const colon = named.lastIndexOf(':');
  const hasTag = colon !== -1 && !named.slice(colon + 1).includes('/');
  const tag = hasTag ? named.slice(colon + 1) : digest === undefined ? 'latest' : undefined;
  if (tag !== undefined && !TAG.test(tag)) return undefined;
  let repo: string;
  try {
    repo = canonicalRepo(hasTag ? named.slice(0, colon) : named);
  } catch {
    return undefined;
  }
  return { repo, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}
