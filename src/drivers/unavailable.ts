/**
 * The honest answer of a driver whose native API is not built yet: an error saying so and what to do instead,
 * rather than a Registry-API driver that would delete with the wrong semantics (or not at all).
 */
import type { RegistryType } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';

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
