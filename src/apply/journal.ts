/**
 * The apply journal: one JSON line per action outcome, appended as it happens, so an interrupted apply leaves a
 * record of what it did, and a rerun with the same plan skips what is already done.
 *
 * A journal belongs to one plan: every line carries the plan's content digest, and only lines of the plan being
 * applied count as done (a re-plan saved to the same --out never resumes from the old plan's outcomes; their lines
 * stay as history). One apply at a time: opening takes `<journal>.lock` and refuses, naming the other process,
 * while another apply holds it; a lock left by a dead process is taken over with a notice. The file is private
 * (0600, its new directories 0700) and messages are scrubbed of every known secret before they are written.
 * Outcomes recorded while a line is being appended are appended together next, in the order they came; `record`
 * resolves only once its own line is in the file, so thousands of outcomes at once cost a few appends.
 */
import { describeOwner, type HeldLock, tryLock } from '../lock/file-lock.ts';
import { RegplanError } from '../errors.ts';
import { scrubSecrets } from '../registry/redact.ts';
import { appendTextFile, makePrivateDir, path, pathExists, readTextFile } from '../runtime.ts';
import type { Action } from '../plan/types.ts';

/** What happened to one action. */
export type Outcome = 'deleted' | 'untagged' | 'pushed' | 'already-gone' | 'unchanged' | 'stale' | 'failed';

/** Outcomes after which the action needs nothing more. */
export const FINISHED_OUTCOMES: ReadonlySet<Outcome> = new Set(['deleted', 'untagged', 'pushed', 'already-gone', 'unchanged']);

/** One journal line. */
export interface JournalEntry {
  at: string;
  /** Content digest of the plan this outcome belongs to (`planDigest`). */
  plan: string;
  key: string;
  type: Action['type'];
  repo: string;
  tag?: string;
  digest: string;
  outcome: Outcome;
  message?: string;
}

/** A stable identity for an action across runs of the same plan. */
export const actionKey = (action: Action): string =>
  `${action.type} ${action.repo} ${action.tag ?? '-'} ${action.digest}${action.type === 'delete' ? ` ${action.mode}` : ''}`;

/** The lock file that keeps a second apply off a journal. */
export const journalLockFile = (file: string): string => `${file}.lock`;

/** Another apply holds the journal. */
export class JournalInUseError extends RegplanError {
  override name = 'JournalInUseError';
}

/** How a journal is opened. */
export interface JournalOptions {
  /** Content digest of the plan being applied; only its outcomes are resumed. */
  plan: string;
  /** What the lock says this process is doing, e.g. `regplan apply of plan.json`. */
  purpose?: string;
  /** Told when a stale lock of a dead apply was taken over. */
  onNotice?: (line: string) => void;
}

/** An append-only journal file, held exclusively by this process until `close()`. */
export class Journal {
  readonly file: string;
  readonly plan: string;
  /** Lines of other plans found in the file: history, never resumed. */
  readonly otherPlanLines: number;
  readonly #finished: Set<string>;
  readonly #lock: HeldLock;
  /** Lines waiting for the next append, and whether an append is running. */
  #pending: { line: string; done: () => void; failed: (error: unknown) => void }[] = [];
  #appending = false;

  private constructor(file: string, plan: string, state: { finished: Set<string>; otherPlanLines: number; lock: HeldLock }) {
    this.file = file;
    this.plan = plan;
    this.#finished = state.finished;
    this.otherPlanLines = state.otherPlanLines;
    this.#lock = state.lock;
  }

  /**
   * Takes the journal's lock (refusing at once when another apply holds it), then reads the outcomes of this plan.
   * A damaged line is ignored: re-checking is always safe.
   */
  static async open(file: string, options: JournalOptions): Promise<Journal> {
    const lockFile = journalLockFile(file);
    await makePrivateDir(path.dirname(file));
    const attempt = await tryLock(lockFile, {
      purpose: options.purpose ?? 'regplan apply',
      mode: 0o600,
      ...(options.onNotice === undefined ? {} : { onStaleLock: options.onNotice }),
    });
    if (!('held' in attempt)) {
      throw new JournalInUseError(`journal ${file} is in use by another regplan apply (${describeOwner(attempt.heldBy)})`, {
        hint: `wait for that apply to finish, then rerun this one to finish whatever it left; if no regplan is running, remove the stale lock ${lockFile}`,
        context: { file },
      });
    }
    try {
      const finished = new Set<string>();
      let otherPlanLines = 0;
      if (await pathExists(file)) {
        for (const line of (await readTextFile(file)).split('\n')) {
          if (!line.trim()) continue;
          try {
            const entry = JSON.parse(line) as Partial<JournalEntry>;
            if (entry.plan !== options.plan) otherPlanLines++;
            else if (typeof entry.key === 'string' && FINISHED_OUTCOMES.has(entry.outcome as Outcome)) finished.add(entry.key);
          } catch {
            // a line cut short by a kill: that action is simply checked again
          }
        }
      }
      return new Journal(file, options.plan, { finished, otherPlanLines, lock: attempt.held });
    } catch (error) {
      await attempt.held.release();
      throw error;
    }
  }

  /** True when an earlier run of this plan finished this action. */
  isFinished(action: Action): boolean {
    return this.#finished.has(actionKey(action));
  }

  /** Appends one outcome. */
  async record(action: Action, outcome: Outcome, message?: string): Promise<JournalEntry> {
    const entry: JournalEntry = {
      at: new Date().toISOString(),
      plan: this.plan,
      key: actionKey(action),
      type: action.type,
      repo: action.repo,
      ...(action.tag === undefined ? {} : { tag: action.tag }),
      digest: action.digest,
      outcome,
      ...(message === undefined ? {} : { message: scrubSecrets(message) }),
    };
    await this.#append(JSON.stringify(entry) + '\n');
    if (FINISHED_OUTCOMES.has(outcome)) this.#finished.add(entry.key);
    return entry;
  }

  /** Resolves once `line` is in the file; lines queued meanwhile share the next append. */
  #append(line: string): Promise<void> {
    return new Promise((done, failed) => {
      this.#pending.push({ line, done, failed });
      if (!this.#appending) void this.#appendPending();
    });
  }

  async #appendPending(): Promise<void> {
    this.#appending = true;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      try {
        await appendTextFile(this.file, batch.map((entry) => entry.line).join(''), { mode: 0o600, dirMode: 0o700 });
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch) entry.failed(error);
      }
    }
    this.#appending = false;
  }

  /** Lets the next apply use the journal (removes the lock). */
  close(): Promise<void> {
    return this.#lock.release();
  }
}
