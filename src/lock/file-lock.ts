/**
 * Locks between regplan processes, as lock files: created atomically only when absent (O_EXCL semantics via a
 * hard link), holding who took them (pid, host, what for, since when), refreshed by a heartbeat while held and
 * removed on release. A lock whose owner is dead (same host, pid gone) or that stopped being refreshed (another
 * host, or a reused pid) is stale: the next taker removes it — under a short "break" file, so two takers never
 * both break it — and says so through `onStaleLock`. Used for the OCI layout (wait with a timeout) and the apply
 * journal (refuse at once).
 */
import { randomBytes } from 'node:crypto';
import {
  createFileExclusive, hostName, processId, processIsAlive, readTextFileWithTime, removeFile, repeatEvery, touchFile,
} from '../runtime.ts';

/** Who holds a lock; written into the lock file as JSON. */
export interface LockOwner {
  pid: number;
  host: string;
  /** What the owner is doing, e.g. `regplan apply of /ci/plan.json`. */
  purpose: string;
  /** ISO 8601 time the lock was taken. */
  since: string;
  /** Random per acquisition, so a release never removes a lock someone else took over. */
  token: string;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly file: string;
  readonly owner: LockOwner;
  /** Stops the heartbeat and removes the lock file (only if it is still ours). */
  release(): Promise<void>;
}

/** How a lock is taken. */
export interface LockOptions {
  purpose: string;
  /** Mode of the lock file (default 0644). */
  mode?: number;
  /** A lock not refreshed for this long counts as stale (default 2 minutes; holders refresh every 10 s). */
  staleMs?: number;
  /** Told once for each stale lock removed, with who left it. */
  onStaleLock?: (message: string) => void;
}

/** Holders refresh their lock file this often. */
const HEARTBEAT_MS = 10_000;
const DEFAULT_STALE_MS = 120_000;
/** A break file older than this was left by a process that died while breaking a stale lock. */
const BREAK_STALE_MS = 10_000;

/** The owner as people read it: `pid 4242 (regplan apply of plan.json, since 2026-…)`, with the host when it is another. */
export function describeOwner(owner: LockOwner | undefined): string {
  if (owner === undefined) return 'another process (its lock file cannot be read)';
  const host = owner.host === hostName() ? '' : ` on host ${owner.host}`;
  return `pid ${owner.pid}${host} (${owner.purpose}, since ${owner.since})`;
}

/** Takes the lock if it is free (or stale); otherwise says who holds it. Never waits. */
export async function tryLock(file: string, options: LockOptions): Promise<{ held: HeldLock } | { heldBy: LockOwner | undefined }> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const owner: LockOwner = { pid: processId(), host: hostName(), purpose: options.purpose, since: new Date().toISOString(), token: randomBytes(12).toString('hex') };
  let current: LockFile | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (await createFileExclusive(file, `${JSON.stringify(owner)}\n`, { mode: options.mode ?? 0o644 })) return { held: holdLock(file, owner) };
    current = await readLockFile(file);
    if (current === undefined) continue; // released meanwhile
    const stale = staleReason(current, staleMs);
    if (stale === undefined) return { heldBy: current.owner };
    if (await breakLock(file, current)) options.onStaleLock?.(`removed the stale lock ${file}: ${stale}`);
  }
  return { heldBy: current?.owner };
}

/**
 * Takes the lock, waiting (polling with backoff) while a live owner holds it; after `timeoutMs` throws what
 * `busy` makes of the owner.
 */
export async function waitForLock(file: string, options: LockOptions & { timeoutMs: number; busy: (owner: LockOwner | undefined, waitedMs: number) => Error }): Promise<HeldLock> {
  const started = Date.now();
  let pause = 5;
  for (;;) {
    const attempt = await tryLock(file, options);
    if ('held' in attempt) return attempt.held;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw options.busy(attempt.heldBy, waited);
    await sleep(Math.min(pause, options.timeoutMs - waited) * (0.5 + Math.random()));
    pause = Math.min(pause * 2, 200);
  }
}

interface LockFile {
  raw: string;
  owner: LockOwner | undefined;
  modifiedAt: number;
}

async function readLockFile(file: string): Promise<LockFile | undefined> {
  const read = await readTextFileWithTime(file);
  if (read === undefined) return undefined;
  let owner: LockOwner | undefined;
  try {
    const parsed = JSON.parse(read.text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string') {
      owner = { pid: parsed.pid, host: parsed.host, purpose: String(parsed.purpose ?? 'unknown'), since: String(parsed.since ?? 'unknown'), token: parsed.token };
    }
  } catch {
    // unreadable: judged by its age alone
  }
  return { raw: read.text, owner, modifiedAt: read.modifiedAt };
}

/** Why a lock is stale (for the message), or undefined while its owner may still be working. */
function staleReason(lock: LockFile, staleMs: number): string | undefined {
  const idle = Date.now() - lock.modifiedAt;
  const { owner } = lock;
  if (owner !== undefined && owner.host === hostName() && !processIsAlive(owner.pid)) {
    return `it was left by ${describeOwner(owner)}, which is no longer running`;
  }
  if (idle > staleMs) {
    return `${owner === undefined ? 'its content cannot be read and it' : `it was left by ${describeOwner(owner)} and`} has not been refreshed for ${Math.round(idle / 1000)} s`;
  }
  return undefined;
}

/** Removes a stale lock if it is still the one judged stale; true when this call removed it. */
async function breakLock(file: string, seen: LockFile): Promise<boolean> {
  const breaker = `${file}.break`;
  if (!(await createFileExclusive(breaker, `${processId()}\n`))) {
    const other = await readTextFileWithTime(breaker);
    if (other !== undefined && Date.now() - other.modifiedAt > BREAK_STALE_MS) await removeFile(breaker);
    await sleep(5);
    return false;
  }
  try {
    const now = await readLockFile(file);
    if (now === undefined || now.raw !== seen.raw) return false; // released or retaken meanwhile
    await removeFile(file);
    return true;
  } finally {
    await removeFile(breaker);
  }
}

function holdLock(file: string, owner: LockOwner): HeldLock {
  const stopHeartbeat = repeatEvery(HEARTBEAT_MS, () => void touchFile(file).catch(() => false));
  let released = false;
  return {
    file,
    owner,
    async release() {
      if (released) return;
      released = true;
      stopHeartbeat();
      const now = await readLockFile(file);
      if (now?.owner?.token === owner.token) await removeFile(file);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
