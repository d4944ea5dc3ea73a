/**
 * `npm run bench -- --quick`: a small run for CI that guards ratios, never absolute times. Three repetitions
 * (medians) of: the real registry at 300 tags and the in-memory registry at 1,000 tags, cold and warm, each
 * against its ceiling; and an `oci:` layout of 500 tags relative to regplan's own start-up in the same
 * repetitions (a machine-speed yardstick; a quadratic layout shows up as a growing ratio). The ratios are of CPU
 * time (regplan's less its start-up, against the ceiling client's in its own process): on a shared machine wall
 * times of a 1-second ceiling and a 50-second plan swing 4× apart (measured at load 30 on 2 cores), CPU times
 * hardly move. Each ratio is compared with bench/quick-baseline.json: more than 2× the baseline is a regression.
 * Requests per tag are deterministic, so they may not grow more than 10% (this also catches a plan that makes
 * more round trips, which CPU alone would not). `--update-baseline` writes the baseline from this run instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type BenchSettings, type PlanResult, benchLayout, benchMemoryRegistry, benchRealRegistry } from './plan-cases.ts';
import { requestsPerTag } from './report.ts';

/** The committed baseline: ratios and requests per tag by case name. */
export interface QuickBaseline {
  note: string;
  measuredAt: string;
  load: string;
  ratios: Record<string, number>;
  requestsPerTag: Record<string, number>;
}

/** What a quick run measured. */
export type QuickMeasurement = Pick<QuickBaseline, 'ratios' | 'requestsPerTag'>;

/** The allowed growth of a ratio over its baseline before CI fails. */
export const RATIO_REGRESSION = 2;
/** The allowed growth of requests per tag (deterministic, so tight). */
export const REQUESTS_REGRESSION = 1.1;

export const BASELINE_FILE = path.join(import.meta.dirname, 'quick-baseline.json');

/** Runs the quick cases. */
export async function measureQuick(settings: BenchSettings): Promise<QuickMeasurement> {
  const reps = 3;
  const ratios: Record<string, number> = {};
  const perTag: Record<string, number> = {};
  const record = (name: string, plans: PlanResult[]) => {
    for (const p of plans) {
      if (p.timedOut) throw new Error(`quick bench: ${name} ${p.variant} was killed at the time limit`);
      if (p.cpuRatio !== undefined) ratios[`${name} ${p.variant}, CPU / ceiling CPU`] = p.cpuRatio;
      const rpt = requestsPerTag(p);
      if (rpt !== undefined) perTag[`${name} ${p.variant}`] = rpt;
    }
  };
  record('real registry 300 tags', await benchRealRegistry({ repos: 1, tags: 300, reps }, settings));
  record('in-memory registry 1000 tags', await benchMemoryRegistry({ tags: 1000, reps }, settings));
  for (const p of await benchLayout({ tags: 500, reps }, settings)) {
    if (p.timedOut) throw new Error(`quick bench: layout ${p.variant} was killed at the time limit`);
    ratios[`oci: layout 500 tags ${p.variant}, CPU / start-up CPU`] = (p.cpuMs ?? 0) / p.startupCpuMs;
  }
  return { ratios, requestsPerTag: perTag };
}

/** The regressions of `measured` against `baseline`, one line each (empty when none). */
export function regressions(measured: QuickMeasurement, baseline: QuickMeasurement): string[] {
  const found: string[] = [];
  for (const [name, base] of Object.entries(baseline.ratios)) {
    const now = measured.ratios[name];
    if (now === undefined) found.push(`${name}: not measured (the baseline has ${base.toFixed(2)})`);
    else if (now > base * RATIO_REGRESSION) found.push(`${name}: ${now.toFixed(2)}, more than ${RATIO_REGRESSION}× the baseline ${base.toFixed(2)}`);
  }
  for (const [name, base] of Object.entries(baseline.requestsPerTag)) {
    const now = measured.requestsPerTag[name];
    if (now === undefined) found.push(`${name} requests per tag: not measured (the baseline has ${base.toFixed(2)})`);
    else if (now > base * REQUESTS_REGRESSION) found.push(`${name}: ${now.toFixed(2)} requests per tag, more than ${REQUESTS_REGRESSION}× the baseline ${base.toFixed(2)}`);
  }
  return found;
}

/** A table of the measurement next to the baseline. */
export function quickTable(measured: QuickMeasurement, baseline: QuickMeasurement | undefined): string {
  const rows = ['| quick case | this run | baseline | limit |', '|---|---:|---:|---:|'];
  for (const [name, now] of Object.entries(measured.ratios)) {
    const base = baseline?.ratios[name];
    rows.push(`| ${name} | ${now.toFixed(2)}× | ${base === undefined ? '—' : `${base.toFixed(2)}×`} | ${base === undefined ? '—' : `${(base * RATIO_REGRESSION).toFixed(2)}×`} |`);
  }
  for (const [name, now] of Object.entries(measured.requestsPerTag)) {
    const base = baseline?.requestsPerTag[name];
    rows.push(`| ${name}, requests per tag | ${now.toFixed(2)} | ${base === undefined ? '—' : base.toFixed(2)} | ${base === undefined ? '—' : (base * REQUESTS_REGRESSION).toFixed(2)} |`);
  }
  return rows.join('\n');
}

/** The committed baseline, or undefined when there is none yet. */
export async function readBaseline(): Promise<QuickBaseline | undefined> {
  try {
    return JSON.parse(await readFile(BASELINE_FILE, 'utf8')) as QuickBaseline;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${BASELINE_FILE}: ${(error as Error).message}`);
  }
}

/** Writes the baseline from a measurement. */
export async function writeBaseline(measured: QuickMeasurement, load: string): Promise<void> {
  const baseline: QuickBaseline = {
    note: 'Written by `npm run bench -- --quick --update-baseline`. CI fails when a ratio exceeds 2x its value here or requests per tag exceed 1.1x.',
    measuredAt: new Date().toISOString(),
    load,
    ...measured,
  };
  await writeFile(BASELINE_FILE, `${JSON.stringify(baseline, null, 2)}\n`);
}
