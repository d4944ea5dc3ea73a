/**
 * Turns a registry's error response into an error a user can act on: the OCI error body
 * (`{"errors":[{code,message,detail}]}`) is parsed, the registry's own text is quoted, and a hint says what to
 * do (log in, enable deletes, slow down). Non-JSON bodies become code UNKNOWN with the body's first line quoted.
 */
import { AuthError, RegistryError, type OciErrorEntry } from '../errors.ts';
import { BODY_LIMITS, readBody } from './body.ts';
import { oneLine, type SecretSet } from './redact.ts';

/** What was being attempted, for the message: `registry <host> refused <method> of "<subject>"`. */
export interface FailedOperation {
  /** host[:port] as the user wrote it. */
  registry: string;
  method: string;
  /** `name:tag`, `name@digest`, or just `name`. */
  subject: string;
  repo?: string;
  ref?: string;
  /** Where the credentials came from (for 401 hints); undefined when none were found. */
  credentialSource?: string | undefined;
  /** Replaces the generic hint, when the caller knows better. */
  hint?: string;
}

/** Parses an OCI error body; unknown or missing codes become UNKNOWN, anything not in the OCI shape yields []. */
export function parseErrorBody(text: string): OciErrorEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const errors = (json as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
    .map((e) => ({
      code: typeof e['code'] === 'string' && /^[A-Z0-9_]+$/.test(e['code']) ? e['code'] : 'UNKNOWN',
      message: typeof e['message'] === 'string' ? e['message'] : '',
      ...(e['detail'] === undefined ? {} : { detail: e['detail'] }),
    }));
}

/**
 * Reads the first 64 KiB of the response body (a broken body still yields the status) and builds the
 * RegistryError (AuthError for 401/403) describing it.
 */
export async function errorFromResponse(response: Response, operation: FailedOperation, secrets: SecretSet): Promise<RegistryError> {
  const text = await readBody(response, { limit: BODY_LIMITS.error, url: response.url || 'about:blank', what: 'error body', truncate: true, as: 'text' });
  return buildError(response.status, text, operation, secrets, response.headers);
}

/** Builds the error from an already-read body (exported for the token client, which reads bodies itself). */
export function buildError(status: number, body: string, operation: FailedOperation, secrets: SecretSet, headers?: Headers): RegistryError {
  const errors = parseErrorBody(body);
  const first = errors[0];
  let said: string;
  if (first) {
    const more = errors.length > 1 ? ` (+${errors.length - 1} more: ${errors.slice(1).map((e) => e.code).join(', ')})` : '';
    said = `${first.code}${first.message ? ` "${oneLine(first.message)}"` : ''}${more}`;
  } else {
    const flat = oneLine(body, 200);
    said = `HTTP ${status}${flat ? ` "${flat}"` : ''}`;
  }
  const warning = headers?.get('warning');
  const message = secrets.scrub(
    `registry ${operation.registry} refused ${operation.method} of "${operation.subject}": ${said}${warning ? ` (warning: ${oneLine(warning, 200)})` : ''}`,
  );
  const code = first?.code ?? 'UNKNOWN';
  const options = {
    status,
    errors,
    registry: operation.registry,
    hint: operation.hint ?? hintFor(status, code, operation, headers),
    ...(operation.repo === undefined ? {} : { repo: operation.repo }),
    ...(operation.ref === undefined ? {} : { ref: operation.ref }),
  };
  return status === 401 || status === 403 || code === 'UNAUTHORIZED' || code === 'DENIED' ? new AuthError(message, options) : new RegistryError(message, options);
}

/** What to do about a failure, by status and OCI code. */
function hintFor(status: number, code: string, operation: FailedOperation, headers: Headers | undefined): string {
  const login = `log in with "docker login ${operation.registry}"`;
  if (status === 401 || code === 'UNAUTHORIZED') {
    return operation.credentialSource === undefined
      ? `no credentials were found for ${operation.registry}; ${login} (or regplan login)`
      : `${login} or check the credentials in ${operation.credentialSource}`;
  }
  if (status === 403 || code === 'DENIED') {
    return `the credentials${operation.credentialSource === undefined ? '' : ` from ${operation.credentialSource}`} lack permission to ${operation.method} "${operation.subject}"; ask for ${operation.method === 'DELETE' ? 'delete' : operation.method === 'GET' || operation.method === 'HEAD' ? 'pull' : 'push'} access`;
  }
  const deletingTag = operation.method === 'DELETE' && operation.ref !== undefined && !operation.ref.includes(':');
  // distribution 2.8 answers DELETE of a tag with 400 DIGEST_INVALID: it only deletes by digest.
  if (deletingTag && (code === 'UNSUPPORTED' || code === 'DIGEST_INVALID' || status === 405 || status === 400)) {
    return 'this registry cannot delete a tag through the Registry API; delete the manifest by digest, or use the registry type whose native API can untag';
  }
  if (code === 'UNSUPPORTED' || status === 405) {
    if (operation.method === 'DELETE') {
      return operation.ref !== undefined && !operation.ref.includes(':')
        ? 'this registry cannot delete a tag through the Registry API; delete the manifest by digest, or use the registry type whose native API can untag'
        : 'the registry has deletes disabled (distribution: storage.delete.enabled), or it is a pull-through cache';
    }
    return 'the registry does not support this operation';
  }
  if (code === 'GOOGLE_MANIFEST_DANGLING_TAG') return 'remove the tags that point at this manifest first, then delete it by digest';
  if (status === 404 || code.endsWith('_UNKNOWN')) return `check the repository name and reference; "${operation.subject}" does not exist at ${operation.registry}`;
  if (status === 429 || code === 'TOOMANYREQUESTS') {
    const after = headers?.get('retry-after');
    return `the registry is rate limiting${after ? ` (Retry-After: ${oneLine(after, 40)})` : ''}; retry later or lower settings.concurrency`;
  }
  if (status === 413) return 'the registry refused the size of the request body; manifests above 4 MB are not portable';
  if (status === 416) return 'the upload session got out of step; retry the push';
  if (code === 'DIGEST_INVALID' || code === 'SIZE_INVALID') return 'the content changed while it was uploaded or the registry mangled it; retry the push';
  if (code === 'MANIFEST_BLOB_UNKNOWN') return 'push every blob and child manifest the manifest references before the manifest itself';
  if (status >= 500) return `the registry failed (HTTP ${status}); retry later, and check the registry's logs if it persists`;
  return `the registry answered HTTP ${status}; run with --debug to see the requests`;
}
