/**
 * The plan as a saved artifact (terraform's planfile): written with --out, read by `apply plan.json`.
 * Reading checks the format version and the schema before anything acts on it; apply checks the config digest.
 */
import type { ValidateFunction } from 'ajv';
import { StalePlanError, RegplanError } from '../errors.ts';
import { scrubSecrets } from '../registry/redact.ts';
import { sha256Digest } from '../registry/digest.ts';
import { readTextFile, writeFileAtomic } from '../runtime.ts';
import { validate as generatedValidate } from './plan-validator.generated.ts';
import type { Plan } from './types.ts';

/** The plan format this regplan writes and reads. */
export const PLAN_FORMAT_VERSION = 1;

/** schema/plan.schema.json, compiled at build time (scripts/schema-validators.ts). */
const validatePlanShape = generatedValidate as ValidateFunction;

/** Checks a parsed plan against schema/plan.schema.json; returns the problems as text (empty when valid). */
export function planSchemaProblems(plan: unknown): string[] {
  if (validatePlanShape(plan)) return [];
  return (validatePlanShape.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

/** A plan as its file holds it. */
const serializePlan = (plan: Plan): string => JSON.stringify(plan, null, 2) + '\n';

/**
 * The plan's content digest (sha256 of its file form): a journal belongs to exactly one plan, so a re-plan to the
 * same --out never resumes from the previous plan's outcomes.
 */
export const planDigest = (plan: Plan): string => sha256Digest(new TextEncoder().encode(serializePlan(plan)));

/** Writes a plan file atomically, scrubbed of every registered secret (server text can reach skip reasons). */
export async function writePlanFile(file: string, plan: Plan): Promise<void> {
  await writeFileAtomic(file, scrubSecrets(serializePlan(plan)));
}

/** Reads and checks a plan file: JSON, format version, schema. */
export async function readPlanFile(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    throw new RegplanError(`cannot read plan file "${file}": ${(error as Error).message}`, {
      hint: 'make one with "regplan plan --out plan.json", or run "regplan apply" without a file to plan and apply at once',
      cause: error,
      context: { file },
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new RegplanError(`plan file "${file}" is not JSON: ${(error as Error).message}`, { hint: 'make a fresh plan with "regplan plan --out plan.json"', context: { file } });
  }
  const version = (data as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== PLAN_FORMAT_VERSION) {
    throw new StalePlanError(`plan file "${file}" has format version ${JSON.stringify(version)}; this regplan reads format version ${PLAN_FORMAT_VERSION}`, {
      hint: 'make a fresh plan with this regplan version: "regplan plan --out plan.json"',
      context: { file },
    });
  }
  const problems = planSchemaProblems(data);
  if (problems.length) {
    throw new RegplanError(`plan file "${file}" does not match the plan schema: ${problems.slice(0, 5).join('; ')}`, {
      hint: 'the file was edited or damaged; make a fresh plan with "regplan plan --out plan.json"',
      context: { file },
    });
  }
  return data as Plan;
}
