/**
 * The apply journal: one JSON line per action outcome, appended as it happens, so an interrupted apply leaves a
 * record of what it did, and a rerun with the same plan skips what is already done.
 */
import { appendTextFile, pathExists, readTextFile } from '../runtime.ts';
import type { Action } from '../plan/types.ts';

/** What happened to one action. */
export type Outcome = 'deleted' | 'untagged' | 'pushed' | 'already-gone' | 'unchanged' | 'stale' | 'failed';

/** Outcomes after which the action needs nothing more. */
export const FINISHED_OUTCOMES: ReadonlySet<Outcome> = new Set(['deleted', 'untagged', 'pushed', 'already-gone', 'unchanged']);

/** One journal line. */
export interface JournalEntry {
  at: string;
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

/** An append-only journal file. */
export class Journal {
  readonly file: string;
  readonly #finished = new Set<string>();

  private constructor(file: string) {
    this.file = file;
  }

  /** Opens (and reads, if present) the journal at `file`. A damaged line is ignored: re-checking is always safe. */
  static async open(file: string): Promise<Journal> {
    const journal = new Journal(file);
    if (await pathExists(file)) {
      for (const line of (await readTextFile(file)).split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as JournalEntry;
          if (FINISHED_OUTCOMES.has(entry.outcome)) journal.#finished.add(entry.key);
        } catch {
          // a line cut short by a kill: that action is simply checked again
        }
      }
    }
    return journal;
  }

  /** True when an earlier run finished this action. */
  isFinished(action: Action): boolean {
    return this.#finished.has(actionKey(action));
  }

  /** Appends one outcome. */
  async record(action: Action, outcome: Outcome, message?: string): Promise<JournalEntry> {
    const entry: JournalEntry = {
      at: new Date().toISOString(),
      key: actionKey(action),
      type: action.type,
      repo: action.repo,
      ...(action.tag === undefined ? {} : { tag: action.tag }),
      digest: action.digest,
      outcome,
      ...(message === undefined ? {} : { message }),
    };
    await appendTextFile(this.file, JSON.stringify(entry) + '\n');
    if (FINISHED_OUTCOMES.has(outcome)) this.#finished.add(entry.key);
    return entry;
  }
}
