/**
 * Push leases of an OCI layout: a push's blobs are reachable from index.json only once its tagged manifest
 * lands, so until then the pusher names them in a lease file (`.regplan-lease-<pid>-<id>` in the layout) and
 * garbage collection, in any process, keeps every blob a live lease names. Both sides act under the layout lock
 * (store.ts), so a collection either sees a lease or finished before it was taken. A lease goes when its push's
 * manifest is stored; one of a dead process (or idle for an hour: a reused pid, a copied layout) is ignored and
 * removed by the next collection.
 */
import { appendTextFile, hostName, listDir, path, processId, processIsAlive, readTextFileWithTime, removeFile } from '../runtime.ts';

/** Lease files start with this, inside the layout directory. */
export const LEASE_PREFIX = '.regplan-lease-';
/** A lease not written to for this long is ignored even if its pid runs. */
const LEASE_MAX_IDLE_MS = 60 * 60_000;

/** One push's lease on blobs of a layout; callers hold the layout lock while adding. */
export class PushLease {
  readonly file: string;
  readonly #digests = new Set<string>();

  constructor(layoutDir: string) {
    this.file = path.join(layoutDir, `${LEASE_PREFIX}${processId()}-${Math.random().toString(36).slice(2, 10)}`);
  }

  /** Digests not leased yet (so callers take the lock only when there is something to add). */
  missing(digests: readonly string[]): string[] {
    return [...new Set(digests)].filter((digest) => !this.#digests.has(digest));
  }

  /** Adds digests to the lease file (created with its owner on first use). */
  async add(digests: readonly string[]): Promise<void> {
    const fresh = this.missing(digests);
    if (fresh.length === 0) return;
    const header = this.#digests.size === 0 ? `${JSON.stringify({ pid: processId(), host: hostName(), since: new Date().toISOString() })}\n` : '';
    await appendTextFile(this.file, header + fresh.map((digest) => `${digest}\n`).join(''));
    for (const digest of fresh) this.#digests.add(digest);
  }

  /** Ends the lease (its blobs are reachable from index.json now, or the push gave up). */
  release(): Promise<void> {
    return removeFile(this.file);
  }
}

/** Digests named by live leases of any process; dead or idle leases are removed. Call under the layout lock. */
export async function leasedDigests(layoutDir: string): Promise<Set<string>> {
  const leased = new Set<string>();
  for (const name of await listDir(layoutDir)) {
    if (!name.startsWith(LEASE_PREFIX)) continue;
    const file = path.join(layoutDir, name);
    const read = await readTextFileWithTime(file);
    if (read === undefined) continue;
    const [first = '', ...digests] = read.text.split('\n');
    let owner: { pid?: unknown; host?: unknown } = {};
    try {
      owner = JSON.parse(first) as typeof owner;
    } catch {
      // a torn header: judged by age alone
    }
    const dead = owner.host === hostName() && typeof owner.pid === 'number' && !processIsAlive(owner.pid);
    if (dead || Date.now() - read.modifiedAt > LEASE_MAX_IDLE_MS) {
      await removeFile(file);
      continue;
    }
    for (const digest of digests) if (digest.trim() !== '') leased.add(digest.trim());
  }
  return leased;
}
