/**
 * Renders a full benchmark run as bench/results.md: the plan cases against their ceiling, time per tag across
 * 1k → 10k → 100k, apply against the DELETE ceiling, the skopeo script, and issue 11's targets marked met or
 * missed with the measured value. Also records the machine: cores and /proc/loadavg before and after.
 */
import type { ApplyResult } from './apply-case.ts';
import type { PlanResult } from './plan-cases.ts';
import type { SkopeoResult } from './skopeo-case.ts';

/** Everything one run measured. */
export interface RunRecord {
  startedAt: Date;
  finishedAt: Date;
  /** False while the run is still going (results.md is rewritten after every case). */
  finished: boolean;
  /** Cases skipped and why. */
  notes: string[];
  loadBefore: string;
  loadAfter: string;
  cores: number;
  concurrency: number;
  command: string;
  plans: PlanResult[];
  apply?: ApplyResult;
  skopeo?: SkopeoResult;
  evaluatorRows: string[];
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const x = (ratio: number | undefined): string => (ratio === undefined ? '—' : `${ratio.toFixed(2)}×`);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));
const backendName = { registry: 'real registry', memory: 'in-memory registry', layout: '`oci:` layout' } as const;
const fixtureName = (p: Pick<PlanResult, 'backend' | 'repos' | 'tags'>): string =>
  `${backendName[p.backend]} ${p.repos > 1 ? `${p.repos} × ` : ''}${k(p.tags)}`;

/** Requests per tag over every repo of the case. */
export const requestsPerTag = (p: PlanResult): number | undefined => (p.requests === undefined ? undefined : p.requests / (p.tags * p.repos));

/** The cold bound of issue 11: one request per tag, one per distinct digest, plus listing pages. */
const coldBound = (p: PlanResult): number => p.tags * p.repos + p.distinctDigests + (p.pages ?? 0);

/**
 * Planning cost per tag in µs, start-up excluded: CPU time where the run measured it (a loaded machine stretches
 * wall times unevenly between a 1k and a 100k case; CPU time it hardly moves), else wall time.
 */
const perTagUs = (p: PlanResult): number =>
  ((p.cpuMs !== undefined && p.cpuMs > 0 ? p.cpuMs - p.startupCpuMs : p.ms - p.startupMs) * 1000) / (p.tags * p.repos);

function planTable(plans: PlanResult[]): string[] {
  return [
    '| fixture | cache | regplan wall | of which start-up | ceiling | ratio (wall) | ratio (less start-up) | ratio (CPU, less start-up) | requests | per tag | cold bound | peak RSS | plan |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...plans.map((p) =>
      [
        fixtureName(p),
        `${p.variant}${p.reps > 1 ? ` (median of ${p.reps})` : ''}`,
        p.timedOut ? `killed at ${s(p.ms)}` : s(p.ms),
        s(p.startupMs),
        p.ceilingMs === undefined ? '—' : s(p.ceilingMs),
        x(p.ratio),
        x(p.netRatio),
        x(p.cpuRatio),
        p.requests === undefined ? '—' : String(p.requests),
        requestsPerTag(p)?.toFixed(2) ?? '—',
        p.variant === 'cold' && p.requests !== undefined ? String(coldBound(p)) : '—',
        mb(p.rssBytes),
        p.timedOut ? '—' : `${p.deletes} deletes, ${p.kept} kept`,
      ].join(' | ').replace(/^/, '| ').concat(' |'),
    ),
  ];
}

/** Time per tag (start-up excluded) of the single-repo cases at each size, and the growth between sizes. */
function linearity(plans: PlanResult[]): { rows: string[]; target: Target } {
  const measure = plans.some((p) => p.cpuMs !== undefined && p.cpuMs > 0) ? 'CPU' : 'wall';
  const rows = [`| fixture | cache | ${measure} µs per tag at 1k | 10k | 100k | 10k / 1k | 100k / 10k |`, '|---|---|---:|---:|---:|---:|---:|'];
  let worst: { label: string; growth: number } | undefined;
  let complete = true;
  for (const backend of ['registry', 'layout', 'memory'] as const) {
    for (const variant of ['cold', 'warm'] as const) {
      const at = (tags: number) => plans.find((p) => p.backend === backend && p.repos === 1 && p.tags === tags && p.variant === variant);
      const sizes = [at(1000), at(10_000), at(100_000)];
      const counted = backend !== 'memory';
      if (counted && sizes.some((p) => p === undefined || p.timedOut)) complete = false;
      if (sizes.filter((p) => p !== undefined).length < 2) continue;
      const us = sizes.map((p) => (p === undefined || p.timedOut ? undefined : perTagUs(p)));
      const growth = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b / a);
      const growths = [growth(us[0], us[1]), growth(us[1], us[2])];
      const label = `${backendName[backend]} ${variant}`;
      if (counted) {
        for (const g of growths) if (g !== undefined && (worst === undefined || g > worst.growth)) worst = { label, growth: g };
        if (sizes.some((p) => p?.timedOut)) worst = { label: `${label}: a size was killed at the time limit`, growth: Infinity };
      }
      rows.push(`| ${backendName[backend]} | ${variant} | ${us.map((u, i) => (u === undefined ? (sizes[i]?.timedOut ? 'killed' : '—') : u.toFixed(0))).join(' | ')} | ${growths.map((g) => (g === undefined ? '—' : `${g.toFixed(2)}×`)).join(' | ')} |`);
    }
  }
  const title = 'time per tag linear 1k → 10k → 100k within 15% (registry and layout, cold and warm)';
  if (worst === undefined) return { rows, target: { target: title, measured: 'not run', met: undefined } };
  const byWall = measure === 'wall' ? '; by wall time, which a load changing between sizes distorts: this record has no CPU times' : '';
  const measured = `worst growth ${Number.isFinite(worst.growth) ? x(worst.growth) : 'unbounded'} per tag between sizes (${worst.label})${complete ? '' : '; not every size was measured (see the notes)'}${byWall}`;
  const met = byWall && Number.isFinite(worst.growth) ? undefined : worst.growth > 1.15 ? false : complete ? true : undefined;
  return { rows, target: { target: title, measured, met } };
}

interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function targets(run: RunRecord, linear: Target): Target[] {
  const worstOf = (plans: PlanResult[], value: (p: PlanResult) => number | undefined) => {
    let worst: { p: PlanResult; v: number } | undefined;
    for (const p of plans) {
      const v = value(p);
      if (v !== undefined && (worst === undefined || v > worst.v)) worst = { p, v };
    }
    return worst;
  };
  const list: Target[] = [];
  const ratioTarget = (backend: PlanResult['backend'], limit: number, title: string) => {
    const w = worstOf(run.plans.filter((p) => p.backend === backend), (p) => p.netRatio);
    const wall = worstOf(run.plans.filter((p) => p.backend === backend), (p) => p.ratio);
    list.push({
      target: title,
      measured: w === undefined ? 'not run' : `worst ${x(w.v)} less start-up (${fixtureName(w.p)} ${w.p.variant}); wall incl. start-up worst ${x(wall?.v)}`,
      met: w === undefined ? undefined : w.v <= limit,
    });
  };
  ratioTarget('registry', 1.5, 'plan warm and cold ≤ 1.5× the ceiling, real registry');
  ratioTarget('memory', 2, 'plan warm and cold ≤ 2× the ceiling, in-memory registry');
  list.push({
    target: 'apply ≤ 1.3× the DELETE ceiling',
    measured: run.apply ? x(run.apply.ratio) : 'not run',
    met: run.apply ? run.apply.ratio <= 1.3 : undefined,
  });
  list.push({
    target: '≥ 20× faster than the skopeo script on 1,000 tags cold',
    measured: run.skopeo ? `${x(run.skopeo.ratio)} (script ${s(run.skopeo.scriptMs)}, regplan cold ${s(run.skopeo.regplanCold.ms)})` : 'not run',
    met: run.skopeo ? run.skopeo.ratio >= 20 : undefined,
  });
  const warm = worstOf(run.plans.filter((p) => p.variant === 'warm'), requestsPerTag);
  list.push({ target: 'warm ≤ 1.1 requests per tag', measured: warm ? `worst ${warm.v.toFixed(2)} (${fixtureName(warm.p)})` : 'not run', met: warm ? warm.v <= 1.1 : undefined });
  const cold = worstOf(run.plans.filter((p) => p.variant === 'cold' && p.requests !== undefined), (p) => (p.requests as number) / coldBound(p));
  list.push({
    target: 'cold ≤ 1 request per tag + 1 per distinct digest + pages',
    measured: cold ? `worst ${cold.p.requests} requests against a bound of ${coldBound(cold.p)} (${fixtureName(cold.p)})` : 'not run',
    met: cold ? cold.v <= 1 : undefined,
  });
  const big = run.plans.filter((p) => p.tags * p.repos >= 100_000);
  const rss = worstOf(big, (p) => p.rssBytes);
  list.push({ target: '100,000 tags: plan < 300 MB RSS', measured: rss ? `worst ${mb(rss.v)} (${fixtureName(rss.p)} ${rss.p.variant})` : 'not run', met: rss ? rss.v < 300 * 2 ** 20 && !big.some((p) => p.timedOut) : undefined });

  list.push(linear);
  if (run.apply) {
    const perDelete = run.apply.requests / run.apply.deletes;
    list.push({ target: 'apply ≤ 1.1 requests per deleted tag + pages', measured: `${perDelete.toFixed(2)} (${JSON.stringify(run.apply.byMethod)} for ${run.apply.deletes} deletes)`, met: perDelete <= 1.1 });
  } else {
    list.push({ target: 'apply ≤ 1.1 requests per deleted tag + pages', measured: 'not run', met: undefined });
  }
  return list;
}

/** The markdown of a run. */
export function renderResults(run: RunRecord): string {
  const { rows: linearRows, target: linear } = linearity(run.plans);
  const lines = [
    '# regplan benchmarks',
    '',
    ...(run.finished ? [] : ['**Partial: the run was still going (or was stopped) when this was written.**', '']),
    `Run: \`${run.command}\` from ${run.startedAt.toISOString().slice(0, 16)}Z to ${run.finishedAt.toISOString().slice(11, 16)}Z, ${process.version}, ${run.cores} cores, concurrency ${run.concurrency}.`,
    `Load average (1/5/15 min) before: ${run.loadBefore}; after: ${run.loadAfter}. Absolute times on a shared machine are noisy; compare the ratios, measured side by side.`,
    '',
    'regplan runs in a child process that only plans (`node src/main.ts plan --json`, from the sources), timed from spawn to',
    'exit, with its peak RSS and CPU time. Start-up is the median of `regplan plan --help` in the same repetitions (node boot',
    'and loading the plan command); "less start-up" subtracts it. The ceiling (bench/ceiling-client.ts) replays exactly the',
    'requests regplan made in that run on keep-alive `node:http` connections at the same concurrency; the CPU ratio compares',
    'regplan\'s CPU time less start-up\'s with the ceiling\'s, measured in a process of its own. Fixtures: bench/synthetic-repo.ts',
    '(1 config per manifest, shared layers, every fifth tag sharing the previous digest); the real registry is Debian\'s',
    'docker-registry on storage written directly to disk, behind the counting proxy (the ceiling goes through the same proxy).',
    '',
    ...run.notes.map((n) => `- ${n}`),
    ...(run.notes.length ? [''] : []),
    '## Targets (issue 11)',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets(run, linear).map((t) => `| ${t.target} | ${t.measured} | ${t.met === undefined ? (t.measured === 'not run' ? '—' : 'incomplete') : t.met ? 'met' : '**missed**'} |`),
    '',
    '## Plans against the ceiling',
    '',
    ...planTable(run.plans),
    '',
  ];
  if (linearRows.length > 2) lines.push('## Linearity: planning cost per tag (start-up excluded)', '', ...linearRows, '');
  if (run.apply) {
    const a = run.apply;
    lines.push(
      '## Apply against the DELETE ceiling',
      '',
      '| tags | deletes | regplan apply | DELETE ceiling | ratio | requests | per deleted tag | peak RSS |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${a.tags} | ${a.deletes} | ${s(a.ms)} | ${s(a.ceilingMs)} | ${x(a.ratio)} | ${a.requests} ${JSON.stringify(a.byMethod).replaceAll('"', '')} | ${(a.requests / a.deletes).toFixed(2)} | ${mb(a.rssBytes)} |`,
      '',
      `The ceiling replayed the apply's requests on an identically seeded second registry; it got ${a.ceilingDeletesAccepted} of ${a.byMethod['DELETE'] ?? 0} DELETEs accepted (202).`,
      '',
    );
  }
  if (run.skopeo) {
    const k2 = run.skopeo;
    lines.push(
      '## The skopeo script',
      '',
      `\`skopeo list-tags\`, then \`skopeo inspect\` per tag in a sequential shell loop (bench/skopeo-case.ts), ${k2.tags} tags: ${s(k2.scriptMs)}, ${k2.scriptRequests} requests;`,
      `regplan cold plan of the same registry in the same run: ${s(k2.regplanCold.ms)} wall (${k2.regplanCold.requests ?? '—'} requests). regplan is ${x(k2.ratio)} faster.`,
      '',
    );
  }
  if (run.evaluatorRows.length) {
    lines.push('## Evaluation without a registry', '', '| case | wall time | registry requests | memory | result |', '|---|---:|---:|---:|---|', ...run.evaluatorRows, '');
  }
  return lines.join('\n');
}
