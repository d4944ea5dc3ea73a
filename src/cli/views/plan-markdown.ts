/**
 * The markdown view of a plan, for a merge-request comment or a CI job summary ($GITHUB_STEP_SUMMARY): the totals
 * first, then one collapsible `<details>` block per repo whose summary line carries that repo's counts, so a
 * reviewer sees the size of the change at a glance and opens only the repos they care about.
 */
import type { Plan } from '../../plan/types.ts';
import { expansionLines, planSummaryLine, pushDetails, reclaimTotalLine, shardLine, shortDigest } from './plan-human.ts';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const html = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

type Op = 'push' | 'delete' | 'untag' | 'skip' | 'keep';
const OP_LABEL: Record<Op, string> = { push: '➕ push', delete: '➖ delete', untag: '➖ untag', skip: '⏭ skip', keep: '✔ keep' };

interface Row {
  repo: string;
  op: Op;
  /** An untag carried out through a placeholder manifest (registries without tag delete). */
  placeholder?: boolean;
  tag: string;
  digest: string | undefined;
  why: string;
}

function planRows(plan: Plan): Row[] {
  return [
    ...plan.actions.map((a): Row => ({
      repo: a.repo,
      op: a.type === 'push' ? 'push' : a.mode === 'untag' ? 'untag' : 'delete',
      ...(a.type === 'delete' && a.via === 'placeholder' ? { placeholder: true } : {}),
      tag: a.tag ?? '(untagged)',
      digest: a.digest,
      why: a.type === 'push' && pushDetails(a) ? `${a.reason} (${pushDetails(a)})` : a.reason,
    })),
    ...plan.skipped.map((s): Row =>
      'kind' in s
        ? { repo: s.repo, op: 'skip', tag: s.kind === 'tag' ? s.name : (s.tag ?? '(untagged)'), digest: s.kind === 'digest' ? s.name : undefined, why: s.reason }
        : { repo: s.repo, op: 'skip', tag: s.tag, digest: s.digest, why: s.reason },
    ),
    ...plan.kept.map((k): Row => ({ repo: k.repo, op: 'keep', tag: k.tag, digest: k.digest, why: k.rules.join('; ') })),
  ];
}

/** One repo's counts for its `<summary>` line: `1 to push, 7 to delete (2 untag only), 11 kept, 0 skipped`. */
function repoCounts(rows: readonly Row[], notes: number): string {
  const count = (...ops: Op[]) => rows.filter((r) => ops.includes(r.op)).length;
  const untag = count('untag');
  const parts = [
    ...(count('push') > 0 ? [`${count('push')} to push`] : []),
    `${count('delete', 'untag')} to delete${untag > 0 ? ` (${untag} untag only)` : ''}`,
    `${count('keep')} kept`,
    `${count('skip')} skipped`,
    ...(notes > 0 ? [`⚠ ${notes} note${notes === 1 ? '' : 's'}`] : []),
  ];
  return parts.join(', ');
}

/** Renders the plan as GitHub/GitLab-flavoured markdown: the totals line, then a `<details>` block per repo. */
export function renderPlanMarkdown(plan: Plan): string {
  const rows = planRows(plan);
  const notes = plan.notes ?? [];
  const lines = [`### regplan: ${planSummaryLine(plan)}`, ''];
  const shard = shardLine(plan);
  if (shard !== undefined) lines.push(`**${cell(shard)}**`, '');
  const total = reclaimTotalLine(plan);
  if (total !== undefined) lines.push(cell(total), '');
  const expansions = expansionLines(plan).filter((line) => line !== '');
  if (expansions.length > 0) lines.push('```text', ...expansions, '```', '');
  for (const repo of [...new Set([...rows.map((r) => r.repo), ...notes.map((n) => n.repo)])].sort()) {
    const repoRows = rows.filter((r) => r.repo === repo);
    const repoNotes = notes.filter((n) => n.repo === repo);
    // A blank line after <summary> and before </details> lets GitHub and GitLab render the markdown inside.
    lines.push('<details>', `<summary><code>${html(repo)}</code>: ${repoCounts(repoRows, repoNotes.length)}</summary>`, '');
    for (const note of repoNotes) lines.push(`> **Note:** ${cell(note.message)}`, '');
    if (repoRows.length > 0) {
      lines.push('| | tag | digest | why |', '|---|---|---|---|');
      for (const row of repoRows) {
        lines.push(`| ${OP_LABEL[row.op]}${row.placeholder === true ? ' (placeholder)' : ''} | \`${cell(row.tag)}\` | ${row.digest === undefined ? '—' : `\`${shortDigest(row.digest)}\``} | ${cell(row.why)} |`);
      }
      lines.push('');
    }
    lines.push('</details>', '');
  }
  lines.push(`<sub>regplan ${plan.regplanVersion}, plan made ${plan.createdAt}, config ${shortDigest(plan.configDigest)}</sub>`, '');
  return lines.join('\n');
}
