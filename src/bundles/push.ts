/**
 * Pushing a packaged bundle to any target that stores content (a registry or an OCI layout), in the order the
 * distribution spec needs: each blob (HEAD first; mounted from another repo of the same registry when one is
 * known to hold it; uploaded otherwise, in chunks from disk when large), then the children of an index, then the
 * manifest under its tag. Every manifest's stored digest is checked against the packaged one, so what lands on
 * the tag is exactly what the plan showed.
 */
import type { ContentPusher, PushManifest } from '../drivers/driver.ts';
import { RegplanError } from '../errors.ts';
import type { PreparedBundle } from './types.ts';

/** What a push did, for the apply report. */
export interface PushReport {
  digest: string;
  /** Blobs the target already had, mounted from another repo, and uploaded. */
  existing: number;
  mounted: number;
  uploaded: number;
  bytesUploaded: number;
}

/** Options of `pushBundle`. */
export interface PushOptions {
  tag: string;
  /** Repos of the same registry known to hold some of the blobs; mounts are tried from these. */
  mountFrom?: (digest: string) => readonly string[];
  /** How the target is named in messages, e.g. `127.0.0.1:5000/acme/docs`. */
  display?: string;
}

/** Pushes blobs, children and the tagged manifest; throws when the target stores another digest than packaged. */
export async function pushBundle(target: ContentPusher, name: string, bundle: PreparedBundle, options: PushOptions): Promise<PushReport> {
  const report: PushReport = { digest: bundle.manifest.digest, existing: 0, mounted: 0, uploaded: 0, bytesUploaded: 0 };
  for (const blob of bundle.blobs) {
    if (await target.hasBlob(name, blob.digest)) {
      report.existing++;
      continue;
    }
    const mountFrom = (options.mountFrom?.(blob.digest) ?? []).filter((repo) => repo !== name);
    const how = await target.putBlob(name, blob, { mountFrom });
    if (how === 'mounted') report.mounted++;
    else {
      report.uploaded++;
      report.bytesUploaded += blob.size;
    }
  }
  const where = options.display ?? name;
  for (const child of bundle.children) checkStored(child, await target.putManifest(name, child), `${where}@${child.digest}`);
  checkStored(bundle.manifest, await target.putManifest(name, bundle.manifest, { tag: options.tag }), `${where}:${options.tag}`);
  return report;
}

function checkStored(manifest: PushManifest, stored: string, subject: string): void {
  if (stored === manifest.digest) return;
  throw new RegplanError(`pushed manifest "${subject}" was stored as ${stored}, not ${manifest.digest} as packaged`, {
    hint: 'the target rewrote the manifest; regplan only publishes content whose digest it controls',
    context: { ref: manifest.digest },
  });
}
