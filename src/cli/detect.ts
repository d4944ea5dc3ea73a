/**
 * `regplan detect <repo>`: which registry type a repo gets and why, what that registry can do, which native
 * credentials its cleanup needs (set or not, never the value), and where Docker credentials would come from.
 */
import { readConfig } from '../config/load.ts';
import { REGISTRY_TYPES, type Config, type RegistryCredentialsConfig } from '../config/types.ts';
import { describeCredentialSource } from '../credentials/lookup.ts';
import { resolveDockerConfigDir } from '../credentials/docker-config.ts';
import { isRegplanError, UsageError } from '../errors.ts';
import { detectRegistry, registryConfigFor, type Detection } from '../drivers/detect.ts';
import type { Capabilities, NativeCredentialSpec } from '../drivers/driver.ts';
import { capabilitiesFor, driverFactory, needsNativeCredentials } from '../drivers/index.ts';
import { homeDir, type Io, path, pathExists } from '../runtime.ts';
import type { Command, GlobalOptions } from './command.ts';
import { renderDetectReport } from './detect-view.ts';
import { parseCommandArgs } from './args.ts';

/** A native credential as `detect` reports it: whether it is set and through what, never its value. */
export interface NativeCredentialStatus extends NativeCredentialSpec {
  set: boolean;
  /** Where it was found, e.g. `$REGPLAN_REPO_GITHUB_TOKEN` or `config: $GH_TOKEN`; absent when not set. */
  via?: string;
}

/** Everything `regplan detect` shows, as data (`--json` prints it as is). */
export interface DetectReport {
  repo: string;
  kind: 'registry' | 'oci-layout';
  host?: string;
  name?: string;
  dir?: string;
  type: Detection['type'];
  title: string;
  reason: string;
  rule?: string;
  captures?: Readonly<Record<string, string>>;
  /** How to name the type when detection only guessed it (no rule matched the host). */
  override?: string;
  capabilities: Omit<Capabilities, 'nativeCredentials'>;
  /** `ok`, or `*ok` when deletion needs native credentials. */
  cleanup: 'ok' | '*ok';
  nativeCredentials: NativeCredentialStatus[];
  /** Registry API credentials from the Docker config; absent for a local layout. */
  dockerCredentials?: { configDir: string; configDirReason: string; source: string };
  warnings: string[];
}

interface DetectArgs {
  repo: string;
  registry?: string;
  json: boolean;
}

const HELP = `Usage: regplan detect <repo> [--repo-container-registry NAME] [--json]

Shows which registry type regplan uses for a repo and why, what that registry supports (push, bundles,
cleanup path, untag, listing untagged manifests), which native credentials its cleanup needs and whether
they are set (never their values), and where Docker credentials would come from.

Detection order: --repo-container-registry > $REGPLAN_REPO_CONTAINER_REGISTRY > registries.<host>.type in
the config (read only when the file exists) > the host rules (see "regplan registries") > default.
NAME is one of: auto default ecr acr dockerhub gcr github gitlab harbor artifactory nexus quay yandex selectel.

Flags:
      --repo-container-registry NAME   force a registry type (auto = detect)
      --json                           print the report as JSON

Examples:
  regplan detect ghcr.io/acme/api
  regplan detect registry.example.com/team/api --repo-container-registry harbor
  regplan detect oci:./build/layout --json`;

function parseDetectArgs(args: string[]): DetectArgs {
  const parsed = parseCommandArgs('detect', {
    args,
    allowPositionals: true,
    strict: true,
    options: { 'repo-container-registry': { type: 'string' }, json: { type: 'boolean', default: false } },
  }, 'usage: regplan detect <repo> [--repo-container-registry NAME] [--json]');
  const [repo, ...extra] = parsed.positionals;
  if (repo === undefined) throw new UsageError('regplan detect needs a repo address', { hint: 'e.g. regplan detect ghcr.io/acme/api' });
  if (extra.length > 0) throw new UsageError(`regplan detect takes one repo, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`);
  const registry = parsed.values['repo-container-registry'];
  return { repo, json: parsed.values.json === true, ...(registry === undefined ? {} : { registry }) };
}

/** Reads the config for `registries.<host>.type` when the file exists; problems become warnings, not failures. */
async function optionalConfig(file: string, warnings: string[]): Promise<Config | undefined> {
  if (!(await pathExists(file))) return undefined;
  const result = await readConfig(file);
  if (result.errors.length > 0) {
    warnings.push(`${file} has ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} (run "regplan validate"); its registries section is ignored`);
    return undefined;
  }
  return result.config;
}

/** Whether one native credential is available: its env var, a vendor chain's env vars, or the config's reference. */
async function credentialStatus(
  spec: NativeCredentialSpec,
  options: { env: Io['env']; configured?: RegistryCredentialsConfig; configDir?: string },
): Promise<NativeCredentialStatus> {
  const present = (name: string) => (options.env[name] ?? '') !== '';
  const found = (via: string): NativeCredentialStatus => ({ ...spec, set: true, via });
  if (spec.source === 'chain') {
    const hit = (spec.chainEnv ?? [spec.env]).find(present);
    return hit === undefined ? { ...spec, set: false } : found(`$${hit}`);
  }
  if (spec.source === 'ci') return [...(spec.chainEnv ?? []), spec.env].every(present) ? found(`$${spec.env}`) : { ...spec, set: false };
  if (present(spec.env)) return found(`$${spec.env}`);
  const ref = spec.configKey === undefined ? undefined : options.configured?.[spec.configKey];
  if (ref !== undefined && 'env' in ref && present(ref.env)) return found(`config: $${ref.env}`);
  if (ref !== undefined && 'file' in ref) {
    const file = path.resolve(options.configDir ?? '.', ref.file);
    if (await pathExists(file)) return found(`config: file ${ref.file}`);
  }
  return { ...spec, set: false };
}

/** What to write when a host no rule knows is really Harbor, GitLab, Artifactory, …: the flag, or the config key. */
const overrideHint = (host: string): string =>
  `if ${host} is not a plain Distribution registry, pass --repo-container-registry TYPE or set registries["${host}"].type: TYPE in the config ` +
  `(TYPE: ${REGISTRY_TYPES.filter((t) => t !== 'default' && t !== 'oci').join(', ')}; see "regplan registries")`;

/** Builds the report for one repo address. */
export async function detectReport(args: DetectArgs, io: Io, globals: GlobalOptions): Promise<DetectReport> {
  const warnings: string[] = [];
  const config = await optionalConfig(globals.configPath, warnings);
  const detection = detectRegistry(args.repo, {
    env: io.env,
    ...(config === undefined ? {} : { config }),
    ...(args.registry === undefined ? {} : { flag: args.registry }),
  });
  const factory = driverFactory(detection.type);
  const { ref } = detection;
  const registryConfig = ref.kind === 'registry' && config ? registryConfigFor(config, ref.host)?.config : undefined;
  const capabilities = capabilitiesFor(factory, ref.kind === 'registry' ? ref.host : undefined, registryConfig);
  const configured = registryConfig?.credentials;
  const nativeCredentials = await Promise.all(
    capabilities.nativeCredentials.map((spec) =>
      credentialStatus(spec, { env: io.env, ...(configured === undefined ? {} : { configured }), ...(config === undefined ? {} : { configDir: config.dir }) }),
    ),
  );
  const { nativeCredentials: _specs, ...shown } = capabilities;
  const report: DetectReport = {
    repo: ref.address,
    kind: ref.kind,
    ...(ref.kind === 'registry' ? { host: ref.host, name: ref.name } : { dir: ref.dir }),
    type: detection.type,
    title: factory.title,
    reason: detection.reason,
    ...(detection.rule === undefined ? {} : { rule: detection.rule }),
    ...(detection.captures === undefined ? {} : { captures: detection.captures }),
    ...(detection.fallback && ref.kind === 'registry' ? { override: overrideHint(ref.host) } : {}),
    capabilities: shown,
    cleanup: needsNativeCredentials(capabilities) ? '*ok' : 'ok',
    nativeCredentials,
    warnings,
  };
  if (ref.kind === 'registry') {
    const { dir, reason } = resolveDockerConfigDir({
      env: io.env,
      home: io.env['HOME'] || homeDir(),
      cwd: io.cwd,
      ...(globals.dockerConfig === undefined ? {} : { flag: globals.dockerConfig }),
    });
    let source: string;
    try {
      source = await describeCredentialSource({ host: ref.host, name: ref.name }, { configDir: dir, env: io.env });
    } catch (error) {
      if (!isRegplanError(error)) throw error;
      source = `unreadable Docker config: ${error.message}`;
    }
    report.dockerCredentials = { configDir: dir, configDirReason: reason, source };
  }
  return report;
}

/** The `detect` command. */
export const command: Command = {
  name: 'detect',
  summary: 'show the registry type of a repo, why, its capabilities and the credentials it needs',
  help: HELP,
  checkArgs: (args) => void parseDetectArgs(args),
  async run(args, io, globals) {
    const parsed = parseDetectArgs(args);
    const report = await detectReport(parsed, io, globals);
    for (const warning of report.warnings) io.stderr(`Warning: ${warning}\n`);
    io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderDetectReport(report));
    return 0;
  },
};
