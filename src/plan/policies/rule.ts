/**
 * The shape every keep rule shares: a pure function from a repo's tags (and gathered facts) to the tags it
 * keeps, each with the label the plan shows (`newest 10 (^main-)`, `gitRefs branch main`, …).
 */
import type { PolicyFacts } from '../types.ts';
import type { TagRecord } from '../../model/inventory.ts';

/** What a keep rule looks at. `tags` are the repo's tags that rules judge (referrers follow their subject instead). */
export interface RuleInput {
  repo: string;
  tags: readonly TagRecord[];
  now: Date;
  facts: PolicyFacts;
}

/** Tag name -> the label of the rule that kept it. */
export type RuleVerdicts = Map<string, string>;
