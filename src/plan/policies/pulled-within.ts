/**
 * `pulledWithin: 30d` keeps tags pulled within the window before `now`, from the registry's own record of pulls
 * (TagRecord.pulled: ECR lastRecordedPullTime, Harbor pull_time, Docker Hub tag_last_pulled). A tag whose pull time
 * is unknown — the registry does not record pulls, or sent something unparsable — is kept, and the label says so:
 * deleting on missing evidence is the mistake this tool exists to avoid. A tag recorded as never pulled is not kept
 * by this rule.
 */
import { ageMs } from '../durations.ts';
import type { RuleInput, RuleVerdicts } from './rule.ts';

/** Keeps tags pulled at most `durationMs` ago, or of unknown pull time; labels `pulledWithin <text>` / `… (pull time unknown)`. */
export function keepRecentlyPulled(rule: { durationMs: number; text: string }, input: RuleInput): RuleVerdicts {
  const kept: RuleVerdicts = new Map();
  for (const record of input.tags) {
    if (record.pulled === undefined) {
      kept.set(record.tag, `pulledWithin ${rule.text} (pull time unknown: the registry does not say)`);
      continue;
    }
    if (record.pulled === 'never') continue;
    const age = ageMs(record.pulled, input.now);
    if (age === undefined) kept.set(record.tag, `pulledWithin ${rule.text} (pull time unknown: the registry does not say)`);
    else if (age <= rule.durationMs) kept.set(record.tag, `pulledWithin ${rule.text}`);
  }
  return kept;
}
