/**
 * The honest answer of a driver whose native API is not built yet: an error saying so and what to do instead,
 * rather than a Registry-API driver that would delete with the wrong semantics (or not at all).
 */
import type { RegistryType } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, CleanupRefuser, ContentPusher, Driver, DriverContext, ManifestReader } from './driver.ts';

/** Builds the error a factory's create() throws when its native driver does not exist yet. */
export function nativeDriverUnavailable(
  registry: { type: RegistryType; title: string },
  context: Pick<DriverContext, 'host'>,
  options: { why: string; workaround: string },
): RegplanError {
  return new RegplanError(
    `cannot use "${context.host}" as type ${registry.type}: the ${registry.title} driver is not built yet (${options.why})`,
    { hint: options.workaround, context: { registry: context.host } },
  );
}

/**
 * The driver of a type whose native cleanup API is not built yet: reads and pushes through the Registry API
 * (which every such registry serves), and refuses cleanup with `nativeDriverUnavailable`'s error — at plan
 * time through `cleanupRefusal`, and again in deleteManifest should a plan reach apply anyway.
 */
export function cleanupPendingDriver(
  registry: { type: RegistryType; title: string; capabilities: Capabilities },
  context: DriverContext,
  options: { why: string; workaround: string },
): Driver & ManifestReader & ContentPusher & CleanupRefuser {
  const refusal = () => nativeDriverUnavailable(registry, context, options);
  const driver = createRegistryApiDriver(context, { type: registry.type, capabilities: registry.capabilities });
  return {
    ...driver,
    async deleteManifest() {
      throw refusal();
    },
    cleanupRefusal: refusal,
  };
}
