import type { ManifestFacts } from '../model/inventory.ts';
/**
 * Related artifacts: signatures, attestations and SBOMs follow their subject (design §5.4). They are recognised
 * two ways: cosign-style tags named after the subject digest (`sha256-<hex>.sig/.att/.sbom`, and the plain
 * `sha256-<hex>` tag of the OCI referrers tag-schema fallback), and OCI referrers whose manifest has `subject`.
 */

const REFERRER_TAG = /^sha256-([0-9a-f]{64})(?:\.(sig|att|sbom))?$/;

const KIND_BY_SUFFIX: Record<string, string> = { sig: 'signature', att: 'attestation', sbom: 'sbom' };

/** The subject a tag's name points at, with the kind of artifact, when the tag is named like a referrer. */
export function referrerTagSubject(tag: string): { subject: string; kind: string } | undefined {
  const match = REFERRER_TAG.exec(tag);
  if (!match) return undefined;
  const suffix = match[2];
  return { subject: `sha256:${match[1]}`, kind: suffix === undefined ? 'referrers' : (KIND_BY_SUFFIX[suffix] ?? suffix) };
}

/** True when a tag is named like a referrer (such tags are never counted by `newest`: they are not images). */
export const isReferrerTagName = (tag: string): boolean => REFERRER_TAG.test(tag);

/** The kind of an OCI referrer manifest, in words (its artifactType when it has one). */
export function referrerKind(facts: ManifestFacts): string {
  return facts.artifactType ?? 'referrer';
}
