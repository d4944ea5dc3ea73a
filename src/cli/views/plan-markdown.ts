/** The markdown view of a plan: one table per repo, for a merge-request comment or a CI job summary. */
import type { Plan } from '../../plan/types.ts';
import { planSummaryLine, pushDetails, shortDigest } from './plan-human.ts';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Renders the plan as GitHub/GitLab-flavoured markdown. */
export function renderPlanMarkdown(plan: Plan): string {
  const rows = [
    ...plan.actions.map((a) => ({
      repo: a.repo,
      op: a.type === 'push' ? '➕ push' : a.mode === 'untag' ? '➖ untag' : '➖ delete',
      tag: a.tag ?? '(untagged)',
      digest: a.digest,
      why: a.type === 'push' && pushDetails(a) ? `${a.reason} (${pushDetails(a)})` : a.reason,
    })),
    ...plan.skipped.map((s) =>
      'kind' in s
        ? { repo: s.repo, op: '⏭ skip', tag: s.kind === 'tag' ? s.name : (s.tag ?? '(untagged)'), digest: s.kind === 'digest' ? s.name : undefined, why: s.reason }
        : { repo: s.repo, op: '⏭ skip', tag: s.tag, digest: s.digest, why: s.reason },
    ),
    ...plan.kept.map((k) => ({ repo: k.repo, op: '✔ keep', tag: k.tag, digest: k.digest, why: k.rules.join('; ') })),
  ];
  const lines = [`### regplan: ${planSummaryLine(plan)}`, ''];
  for (const repo of [...new Set([...rows.map((r) => r.repo), ...(plan.notes ?? []).map((n) => n.repo)])].sort()) {
    lines.push(`#### \`${repo}\``, '');
    for (const note of (plan.notes ?? []).filter((n) => n.repo === repo)) lines.push(`> **Note:** ${cell(note.message)}`, '');
    lines.push('| | tag | digest | why |', '|---|---|---|---|');
    for (const row of rows.filter((r) => r.repo === repo)) {
      lines.push(`| ${row.op} | \`${cell(row.tag)}\` | ${row.digest === undefined ? '—' : `\`${shortDigest(row.digest)}\``} | ${cell(row.why)} |`);
    }
    lines.push('');
  }
  lines.push(`<sub>regplan ${plan.regplanVersion}, plan made ${plan.createdAt}, config ${shortDigest(plan.configDigest)}</sub>`, '');
  return lines.join('\n');
}
