/**
 * The table of every registry type's driver factory, and the questions asked of it: which factory serves a
 * type, which capabilities apply to a host, and the support matrix `regplan registries` prints.
 */
import type { RegistryConfig, RegistryType } from '../config/types.ts';
import { acrDriver } from './acr.ts';
import { artifactoryDriver } from './artifactory.ts';
import { defaultDriver } from './default.ts';
import { HOST_RULES, hostWithoutPort } from './detect.ts';
import { dockerHubDriver } from './dockerhub.ts';
import type { Capabilities, DriverContext, DriverFactory, NativeCredentialSpec } from './driver.ts';
import { ecrDriver } from './ecr.ts';
import { gcrDriver } from './gcr.ts';
import { githubDriver } from './github.ts';
import { gitlabDriver } from './gitlab.ts';
import { harborDriver } from './harbor.ts';
import { nexusDriver } from './nexus.ts';
import { ociLayoutDriver } from './oci-layout.ts';
import { quayDriver } from './quay.ts';
import { selectelDriver } from './selectel.ts';
import { yandexDriver } from './yandex.ts';

/** Every registry type's factory, in design §2 order (the order `regplan registries` lists them). */
export const DRIVER_FACTORIES: Readonly<Record<RegistryType, DriverFactory>> = {
  ecr: ecrDriver,
  acr: acrDriver,
  default: defaultDriver,
  dockerhub: dockerHubDriver,
  gcr: gcrDriver,
  github: githubDriver,
  gitlab: gitlabDriver,
  harbor: harborDriver,
  artifactory: artifactoryDriver,
  nexus: nexusDriver,
  quay: quayDriver,
  yandex: yandexDriver,
  selectel: selectelDriver,
  oci: ociLayoutDriver,
};

/** The factory of one registry type. */
export const driverFactory = (type: RegistryType): DriverFactory => DRIVER_FACTORIES[type];

/** A host each type is built for when no host is given (a support-matrix row): any host its rules detect. */
const SAMPLE_HOSTS: Readonly<Record<RegistryType, string>> = {
  acr: 'example.azurecr.io',
  artifactory: 'example.jfrog.io',
  default: 'registry.example.com',
  dockerhub: 'docker.io',
  ecr: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
  gcr: 'gcr.io',
  github: 'ghcr.io',
  gitlab: 'registry.gitlab.com',
  harbor: 'harbor.example.com',
  nexus: 'nexus.example.com',
  oci: 'oci:',
  quay: 'quay.io',
  selectel: 'cr.selcloud.ru',
  yandex: 'cr.yandex',
};

/**
 * What a type really does on one host, read from the driver regplan would build there (no request is sent: drivers
 * connect lazily). `regplan registries`, `regplan detect` and planning all read this, so what is shown is what runs.
 * `registry` is the host's config entry where one applies (Nexus's `api` turns its components API on).
 */
export function capabilitiesFor(factory: DriverFactory, host: string | undefined, registry?: RegistryConfig): Capabilities {
  const target = host ?? SAMPLE_HOSTS[factory.type];
  const inert: DriverContext = { host: target, type: factory.type, ...(registry === undefined ? {} : { registry }), credentials: async () => undefined, nativeSecret: async () => undefined };
  return factory.create(inert).capabilities;
}

/** The capabilities a type declares for one host (GitHub's legacy host differs from ghcr.io); host may carry a port. */
export function declaredCapabilities(factory: DriverFactory, host: string | undefined): Capabilities {
  if (host === undefined) return factory.capabilities;
  const bare = hostWithoutPort(host);
  return factory.hostCapabilities?.find((entry) => entry.host.test(bare))?.capabilities ?? factory.capabilities;
}

/** True when deletion needs credentials beyond the Docker login (the seed table's `*ok`). */
export const needsNativeCredentials = (capabilities: Capabilities): boolean => capabilities.nativeCredentials.some((c) => !c.optional);

/** One row of the support matrix. */
export interface SupportRow {
  type: RegistryType;
  title: string;
  /** What this build does today (see DriverFactory.status). */
  status: DriverFactory['status'];
  /** Which hosts the row covers (a variant row covers only its hosts). */
  detect: string;
  push: boolean;
  bundles: boolean;
  bundlesRefusal?: string;
  /** `ok`, or `*ok` when deletion needs native credentials. */
  cleanup: 'ok' | '*ok';
  cleanupPath: string;
  untag: boolean;
  /** Where `untag` is false, a tag can still be removed through a placeholder manifest (distribution). */
  untagByPlaceholder: boolean;
  listUntagged: boolean;
  /** How repo discovery lists repositories natively (absent: no native listing). */
  repositoryListing?: string;
  /** The listing gives pull times (the `pulledWithin` rule judges them; elsewhere it keeps every tag). */
  pullTimes: boolean;
  nativeCredentials: NativeCredentialSpec[];
  notes?: string;
}

/** The hosts a type is detected from, in words. */
function detectText(type: RegistryType): string {
  if (type === 'default') return 'anything else';
  if (type === 'oci') return 'oci:<dir>';
  const hosts = HOST_RULES.filter((rule) => rule.type === type).map((rule) => rule.hosts);
  return hosts.length > 0 ? hosts.join(', ') : 'set explicitly';
}

function row(factory: DriverFactory, detect: string, capabilities: Capabilities): SupportRow {
  return {
    type: factory.type,
    title: factory.title,
    status: factory.status,
    detect,
    push: capabilities.push,
    bundles: capabilities.bundles,
    ...(capabilities.bundlesRefusal === undefined ? {} : { bundlesRefusal: capabilities.bundlesRefusal }),
    cleanup: needsNativeCredentials(capabilities) ? '*ok' : 'ok',
    cleanupPath: capabilities.cleanupPath,
    untag: capabilities.untag,
    untagByPlaceholder: capabilities.untagByPlaceholder === true,
    listUntagged: capabilities.listUntagged,
    ...(capabilities.repositoryListing === undefined ? {} : { repositoryListing: capabilities.repositoryListing }),
    pullTimes: capabilities.pullTimes === true,
    nativeCredentials: capabilities.nativeCredentials,
    ...(capabilities.notes === undefined ? {} : { notes: capabilities.notes }),
  };
}

/** Every registry type's row (plus one per host variant), for `regplan registries`. */
export function supportMatrix(): SupportRow[] {
  const rows: SupportRow[] = [];
  for (const factory of Object.values(DRIVER_FACTORIES)) {
    const variants = factory.hostCapabilities ?? [];
    const variantHosts = new Set(variants.map((v) => v.label));
    const mainHosts = detectText(factory.type).split(', ').filter((h) => !variantHosts.has(h)).join(', ');
    rows.push(row(factory, mainHosts, capabilitiesFor(factory, undefined)));
    for (const variant of variants) rows.push(row(factory, variant.label, capabilitiesFor(factory, variant.label)));
  }
  return rows;
}
