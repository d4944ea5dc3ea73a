/**
 * What `plan` and `apply` share before they act: the validated config, its digest (a saved plan is refused once
 * the config changes), the repo opener, the manifest cache, the transport settings every registry request of the
 * run shares (settings.timeout, retry-wait notices on stderr, settings.concurrency connections per host) and a
 * progress line on stderr when it is a terminal.
 */
import { createHash } from 'node:crypto';
import { requireConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import type { ConfigProblem } from '../errors.ts';
import { repoOpener, type OpenedRepo } from '../drivers/open.ts';
import { ManifestCache, manifestCacheDir } from '../plan/manifest-cache.ts';
import { withTransportDefaults } from '../registry/http.ts';
import type { InventoryProgress } from '../plan/inventory.ts';
import { homeDir, type Io, readTextFile } from '../runtime.ts';
import type { GlobalOptions } from './command.ts';

/** The loaded, checked inputs of planning and applying. */
export interface PlanningContext {
  config: Config;
  configDigest: string;
  warnings: ConfigProblem[];
  open: (address: string) => OpenedRepo;
  cache: ManifestCache;
  /** Runs `body` so every registry client and native API it builds uses settings.timeout and prints long retry waits. */
  withRegistries: <T>(body: () => Promise<T>) => Promise<T>;
}

/** sha256 of the config file's bytes: any edit, even a comment, makes a saved plan stale (the safe reading). */
export const configDigestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** Loads the config (throwing ConfigError with every problem) and builds the opener and cache. */
export async function loadPlanningContext(io: Io, globals: GlobalOptions, options: { registryFlag?: string } = {}): Promise<PlanningContext> {
  const { config, warnings } = await requireConfig(globals.configPath);
  const configDigest = configDigestOf(await readTextFile(globals.configPath));
  const debug = globals.debug ? { debug: (line: string) => io.stderr(`debug: ${line}\n`) } : {};
  const open = repoOpener({
    config,
    io,
    ...(options.registryFlag === undefined ? {} : { registryFlag: options.registryFlag }),
    ...(globals.dockerConfig === undefined ? {} : { dockerConfig: globals.dockerConfig }),
    ...debug,
  });
  const cache = new ManifestCache(io.env['REGPLAN_NO_CACHE'] ? undefined : manifestCacheDir(io.env, io.env['HOME'] || homeDir()), debug);
  const transport = { ...(config.settings.timeoutMs === undefined ? {} : { timeoutMs: config.settings.timeoutMs }), onWait: waitNotices(io), connectionsPerHost: config.settings.concurrency };
  return { config, configDigest, warnings, open, cache, withRegistries: (body) => withTransportDefaults(transport, body) };
}

/** Prints what a retry is waiting for (a rate limit can hold a run for minutes), clearing a progress line first. */
export function waitNotices(io: Io): (message: string) => void {
  return (message) => io.stderr(`${io.stderrIsTTY ? '\r\u001b[2K' : ''}Note: ${message}\n`);
}

/** A one-line progress counter on stderr, only when stderr is a terminal and output is not JSON. */
export function progressLine(io: Io, enabled: boolean): { progress?: InventoryProgress; done: () => void } {
  if (!enabled || !io.stderrIsTTY) return { done: () => {} };
  let shown = false;
  return {
    progress: ({ repo, done, total }) => {
      shown = true;
      io.stderr(`\r\u001b[2Kreading ${repo}: ${done}/${total} tags`);
    },
    done: () => {
      if (shown) io.stderr('\r\u001b[2K');
    },
  };
}

/**
 * apply's counterpart of progressLine: `applying: 3/8 actions, 1 failed` on stderr while actions run, only on a
 * terminal. `clear` erases it before anything else is printed; the next `count` draws it again.
 */
export function applyProgressLine(io: Io, options: { enabled: boolean; total: number }): { count: (failed: boolean) => void; clear: () => void } {
  if (!options.enabled || !io.stderrIsTTY || options.total === 0) return { count: () => {}, clear: () => {} };
  let done = 0;
  let failed = 0;
  let shown = false;
  return {
    count: (isFailure) => {
      done++;
      if (isFailure) failed++;
      shown = true;
      io.stderr(`\r\u001b[2Kapplying: ${done}/${options.total} action${options.total === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`);
    },
    clear: () => {
      if (shown) io.stderr('\r\u001b[2K');
      shown = false;
    },
  };
}
