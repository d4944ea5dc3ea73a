/**
 * The `format`s the config schema uses that ajv does not define itself, as ajv format definitions. The build-time
 * generator (scripts/schema-validators.ts) registers them, and the generated validator imports this module to
 * call them, so the two always agree.
 */

/** Format definitions by name, as ajv's `addFormat` takes them. */
export const configFormats = {
  /** `api:` base URLs of native APIs: http or https only (a file: or javascript: URL is no API). */
  uri: { type: 'string' as const, validate: isHttpUrl },
};

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
