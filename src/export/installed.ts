/**
 * The server-side policy a repo has installed, as `regplan drift` reads it through the repo's driver. Drivers
 * that can read their registry's lifecycle policy implement `InstalledPolicyReader` (a capability interface, like
 * the ones in drivers/driver.ts, kept here so the export feature stays in one folder).
 */
import type { Driver } from '../drivers/driver.ts';
import type { PolicyFormat } from './types.ts';

/** The installed policy document in the registry's own language; `source` names the API call it came from. */
export interface InstalledPolicy {
  format: PolicyFormat;
  document: unknown;
  source: string;
}

/** A driver that can read the lifecycle policy installed on a repository. */
export interface InstalledPolicyReader {
  /** The installed policy of repository `name`, or undefined when none is installed (or it is disabled). */
  readInstalledPolicy(name: string): Promise<InstalledPolicy | undefined>;
}

/** Whether a driver can read the installed policy. */
export const readsInstalledPolicy = (driver: Driver): driver is Driver & InstalledPolicyReader =>
  typeof (driver as Partial<InstalledPolicyReader>).readInstalledPolicy === 'function';
