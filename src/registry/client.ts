/**
 * The OCI distribution client: every standard Registry API call regplan makes (tags, manifests, blobs,
 * uploads, deletes, referrers) lives here once, for all drivers. It verifies what it reads against digests,
 * authenticates through auth.ts, retries and redirects through http.ts, reads every body through readBody
 * within its cap (BODY_LIMITS), and turns error answers into RegistryError/AuthError with the registry's own
 * words quoted; content that breaks the protocol (bad digest, not JSON) is a ProtocolError.
 */
import type { CredentialProvider } from '../credentials/types.ts';
import { ProtocolError, RegistryError } from '../errors.ts';
import { AuthSession } from './auth.ts';
import { pickChallenge, type AuthChallenge } from './challenge.ts';
import { matchesDigest, sha256Digest, digestLike, shortDigest } from './digest.ts';
import { errorFromResponse } from './error-response.ts';
import { BODY_LIMITS, HttpTransport, readBody, type BodyRead, type HttpResponse, type RetryOptions } from './http.ts';
import { MANIFEST_ACCEPT, MediaType, isIndex, type Descriptor, type ImageConfig, type Manifest } from './oci.ts';
import { SecretSet } from './redact.ts';
import { isValidDigest } from '../model/names.ts';
import { apiHost, isLoopbackHost } from './reference.ts';
import { repositoryScope } from './scope.ts';
import { TokenCache } from './token.ts';
import { mountBlob, uploadBlob, type BlobSource, type ExchangeRequest, type UploadTarget } from './upload.ts';
import { registryUrl, staysOnEndpoint, type RegistryRoute } from './url.ts';

export type { BlobSource } from './upload.ts';
export type { AuthChallenge } from './challenge.ts';

/** How to reach one registry. */
export interface RegistryClientOptions {
  /** host[:port] as in the repo address (docker.io is mapped to registry-1.docker.io); an `http://`/`https://` prefix forces the scheme. */
  host: string;
  /** Allow plain http for this non-loopback host (loopback hosts always use http); never for a token realm or redirect elsewhere. */
  insecure?: boolean;
  /** Called lazily, at most once, the first time the registry asks for credentials. */
  credentials?: CredentialProvider;
  userAgent?: string;
  /** One line per request: method, URL without query secrets, status. Never headers or tokens. */
  debug?: (line: string) => void;
  retry?: RetryOptions;
  /** Per-attempt timeout (settings.timeout; default 120 s, or what withTransportDefaults set). */
  timeoutMs?: number;
  /** Told about every retry wait of 2 s or more before it starts (default: what withTransportDefaults set). */
  onWait?: (message: string) => void;
  /** For Deno/tests only; default global fetch. */
  fetch?: typeof fetch;
  /** Clock for token expiry (tests advance it); default Date.now. */
  now?: () => number;
}

/** The Registry API of one registry host. */
export class RegistryClient {
  /** The host as the user wrote it (used in messages). */
  readonly host: string;
  /** `scheme://api-host/`, e.g. `https://registry-1.docker.io/`. */
  readonly baseUrl: URL;
  readonly #transport: HttpTransport;
  readonly #auth: AuthSession;
  readonly #secrets = new SecretSet();

  /** Builds a client; throws before any network traffic when plain http is asked for a host that is neither loopback nor insecure. */
  constructor(options: RegistryClientOptions) {
    const schemed = /^(https?):\/\/(.+?)\/*$/i.exec(options.host);
    this.host = (schemed?.[2] ?? options.host).toLowerCase();
    const insecure = options.insecure === true;
    const scheme = schemed?.[1]?.toLowerCase() ?? (insecure || isLoopbackHost(this.host) ? 'http' : 'https');
    this.baseUrl = new URL(`${scheme}://${apiHost(this.host)}/`);
    this.#transport = new HttpTransport({
      allowHttp: isLoopbackHost,
      ...(insecure ? { insecureHost: this.baseUrl.host } : {}),
      secrets: this.#secrets,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      ...(options.debug === undefined ? {} : { debug: options.debug }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.onWait === undefined ? {} : { onWait: options.onWait }),
    });
    this.#transport.assertSchemeAllowed(this.baseUrl);
    const tokens = new TokenCache({ transport: this.#transport, secrets: this.#secrets, now: options.now ?? Date.now, registry: this.host });
    this.#auth = new AuthSession({ origin: this.baseUrl.origin, transport: this.#transport, tokens, secrets: this.#secrets, credentials: options.credentials });
  }

  /** `GET /v2/`: whether the registry speaks the API (200) or wants auth (401 + challenge); remembers the challenge. */
  async ping(): Promise<{ status: number; challenge?: AuthChallenge }> {
    const { response } = await this.#transport.send({ method: 'GET', url: this.#url({ endpoint: 'ping' }) });
    await response.body?.cancel().catch(() => undefined);
    const challenge = response.status === 401 ? pickChallenge(response.headers.get('www-authenticate')) : undefined;
    this.#auth.observe(challenge);
    return { status: response.status, ...(challenge === undefined ? {} : { challenge }) };
  }

  /**
   * Checks the client's credentials as `docker login` does: `GET /v2/` answered with Basic auth, or with a token
   * the token server grants for no scope. Resolves when the registry accepts them (a registry without auth accepts
   * anyone); an AuthError when the registry or its token server refuses them.
   */
  async checkLogin(): Promise<void> {
    const answer = await this.#exchange({ method: 'GET', url: this.#url({ endpoint: 'ping' }), scopes: [], subject: '/v2/', expect: [200], read: false });
    await answer.response.body?.cancel().catch(() => undefined);
  }

  /**
   * Every tag of a repository, following `Link` pages (relative or absolute, on the same endpoint); a repository
   * that does not exist has none. The names are returned as the registry sent them: callers check them
   * (isValidTag) before use, and every URL built from one checks it again.
   */
  async listTags(name: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const first = this.#url({ endpoint: 'tags', name });
    if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
    const tags: string[] = [];
    for await (const page of this.#pages(first, { name, subject: name, accept: 'application/json', what: 'tag list page' })) {
      if (page === undefined) return tags;
      const list = (page as { tags?: unknown }).tags;
      if (Array.isArray(list)) for (const tag of list) if (typeof tag === 'string') tags.push(tag); // no push(...list): a 700k-tag page overflows the stack
    }
    return tags;
  }

  /**
   * The tags/list pages as the registry sent them, vendor fields included (Google's `manifest` map with digests,
   * tags and upload times), following Link pages like `listTags`; undefined when the repository is unknown (404).
   */
  async tagListPages(name: string): Promise<unknown[] | undefined> {
    const pages: unknown[] = [];
    for await (const page of this.#pages(this.#url({ endpoint: 'tags', name }), { name, subject: name, accept: 'application/json', what: 'tag list page' })) {
      if (page === undefined) return pages.length === 0 ? undefined : pages;
      pages.push(page);
    }
    return pages;
  }

  /**
   * Repository names from the catalog (`GET /v2/_catalog`, token scope `registry:catalog:*`), following Link pages;
   * optional in the spec and often limited to what the caller may see, so it proves nothing about repos it does
   * not list. The names are returned as the registry sent them (callers check them with isValidRepoName before
   * use, and every URL built from one checks it again). A registry without a catalog (404) is a RegistryError,
   * never an empty list; a refusal (401/403) is an AuthError.
   */
  async listRepositories(options: { pageSize?: number } = {}): Promise<string[]> {
    const first = this.#url({ endpoint: 'catalog' });
    if (options.pageSize !== undefined) first.searchParams.set('n', String(options.pageSize));
    const names: string[] = [];
    for await (const page of this.#pages(first, { name: '', subject: '_catalog', accept: 'application/json', scopes: ['registry:catalog:*'], what: 'catalog page' })) {
      if (page === undefined) {
        throw new RegistryError(`registry ${this.host} has no catalog: GET /v2/_catalog answered HTTP 404`, {
          status: 404,
          registry: this.host,
          hint: 'the catalog is optional in the OCI distribution spec; list the repos explicitly in repos[]',
        });
      }
      const list = (page as { repositories?: unknown }).repositories;
      if (Array.isArray(list)) for (const repo of list) if (typeof repo === 'string') names.push(repo); // no push(...list): large pages overflow the stack
    }
    return names;
  }

  /** The descriptor a tag or digest resolves to (HEAD with the full Accept list); undefined when it does not exist. */
  async headManifest(name: string, ref: string): Promise<Descriptor | undefined> {
    const answer = await this.#exchange({ method: 'HEAD', url: this.#manifestUrl(name, ref), headers: { accept: MANIFEST_ACCEPT.join(', ') }, ...this.#read(name, ref), expect: [200, 404] });
    await answer.response.body?.cancel().catch(() => undefined);
    if (answer.response.status === 404) return undefined;
    const headers = answer.response.headers;
    const digest = headers.get('docker-content-digest');
    const size = Number(headers.get('content-length') ?? Number.NaN);
    const mediaType = headers.get('content-type')?.split(';')[0]?.trim();
    if (digest === null || !Number.isFinite(size) || !mediaType || (isValidDigest(ref) && digest !== ref)) {
      return (await this.getManifest(name, ref)).descriptor; // registries may omit headers on HEAD; GET verifies the body
    }
    return { mediaType, digest, size };
  }

  /** A manifest's bytes, parsed form and descriptor; the body is checked against the digest asked for and the one the registry states. */
  async getManifest(name: string, ref: string): Promise<{ descriptor: Descriptor; bytes: Uint8Array; manifest: Manifest }> {
    const read = { limit: BODY_LIMITS.manifest, what: 'manifest' };
    const answer = await this.#exchange({ method: 'GET', url: this.#manifestUrl(name, ref), headers: { accept: MANIFEST_ACCEPT.join(', ') }, ...this.#read(name, ref), read, expect: [200] });
    const bytes = await this.#body(answer, read);
    const stated = answer.response.headers.get('docker-content-digest');
    const subject = refSubject(name, ref);
    if (isValidDigest(ref)) this.#verify(bytes, ref, subject, 'manifest');
    if (stated !== null) this.#verify(bytes, stated, subject, 'manifest');
    let manifest: Manifest;
    try {
      manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
      if (typeof manifest !== 'object' || manifest === null) throw new Error('not an object');
    } catch (error) {
      throw new ProtocolError(`registry ${this.host} returned manifest "${subject}" that is not JSON`, { code: 'INVALID_JSON', registry: this.host, repo: name, ref, cause: error, hint: 'the reference may point at a schema1 or non-OCI manifest; inspect it with skopeo inspect --raw' });
    }
    const contentType = answer.response.headers.get('content-type')?.split(';')[0]?.trim();
    const mediaType = manifest.mediaType ?? (contentType && contentType !== 'application/json' ? contentType : isIndex(manifest) ? MediaType.ociIndex : MediaType.ociManifest);
    const digest = isValidDigest(ref) ? ref : (stated ?? sha256Digest(bytes));
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength, ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }) };
    return { descriptor, bytes, manifest };
  }

  /**
   * A blob's bytes (redirects to storage followed without credentials), verified against its digest. Read whole
   * into memory, so at most `limit` bytes (default BODY_LIMITS.blob, 64 MiB): for configs and small artifacts.
   */
  async getBlob(name: string, digest: string, options: { limit?: number; what?: string } = {}): Promise<Uint8Array> {
    const read = { limit: options.limit ?? BODY_LIMITS.blob, what: options.what ?? 'blob' };
    const answer = await this.#exchange({ method: 'GET', url: this.#url({ endpoint: 'blob', name, digest }), ...this.#read(name, digest), read, expect: [200] });
    const bytes = await this.#body(answer, read);
    this.#verify(bytes, digest, refSubject(name, digest), 'blob');
    return bytes;
  }

  /** An image config's exact bytes (the blob a manifest's `config` descriptor names, at most BODY_LIMITS.config), verified. */
  getConfigBytes(name: string, descriptor: Descriptor): Promise<Uint8Array> {
    return this.getBlob(name, descriptor.digest, { limit: BODY_LIMITS.config, what: 'image config' });
  }

  /** An image config (the blob a manifest's `config` descriptor names, at most BODY_LIMITS.config), parsed. */
  async getConfig(name: string, descriptor: Descriptor): Promise<ImageConfig> {
    const bytes = await this.getConfigBytes(name, descriptor);
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as ImageConfig;
    } catch (error) {
      throw new ProtocolError(`config blob "${name}@${shortDigest(descriptor.digest)}" at ${this.host} is not JSON`, { code: 'INVALID_JSON', registry: this.host, repo: name, ref: descriptor.digest, cause: error, hint: `its media type is ${descriptor.mediaType}; only JSON configs can be read` });
    }
  }

  /** True when the repository already has the blob (HEAD); lets a push skip an upload. */
  async hasBlob(name: string, digest: string): Promise<boolean> {
    const answer = await this.#exchange({ method: 'HEAD', url: this.#url({ endpoint: 'blob', name, digest }), ...this.#read(name, digest), expect: [200, 404] });
    await answer.response.body?.cancel().catch(() => undefined);
    return answer.response.status === 200;
  }

  /** Uploads a blob: one PUT up to `chunkSize` (default 8 MiB), else PATCH chunks with Content-Range and a closing PUT. */
  async uploadBlob(name: string, blob: BlobSource, options: { chunkSize?: number } = {}): Promise<{ digest: string; size: number }> {
    return uploadBlob(this.#uploadTarget(name, [repositoryScope(name, 'push')]), blob, options);
  }

  /** Mounts a blob from repository `from`: true when mounted (201); false when declined (202; the session is cancelled and the caller uploads). */
  async mountBlob(name: string, digest: string, from: string): Promise<boolean> {
    return mountBlob(this.#uploadTarget(name, [repositoryScope(name, 'push'), repositoryScope(from, 'pull')]), digest, from);
  }

  /** Stores a manifest under a tag or digest and returns its digest, checked against what the registry says it stored. */
  async putManifest(name: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = isValidDigest(ref) ? (digestLike(ref, bytes) ?? ref) : sha256Digest(bytes);
    if (isValidDigest(ref) && digest !== ref) {
      throw new ProtocolError(`cannot push a manifest to "${name}@${ref}": its bytes hash to ${digest}`, { code: 'DIGEST_INVALID', registry: this.host, repo: name, ref, hint: 'push it by tag, or by the digest of its exact bytes' });
    }
    const answer = await this.#exchange({ method: 'PUT', url: this.#manifestUrl(name, ref), headers: { 'content-type': mediaType }, body: bytes, scopes: [repositoryScope(name, 'push')], subject: refSubject(name, ref), ref, expect: [201, 200, 202, 204] });
    await answer.response.body?.cancel().catch(() => undefined);
    const stated = answer.response.headers.get('docker-content-digest');
    if (stated !== null && stated.startsWith(digest.slice(0, digest.indexOf(':') + 1)) && stated !== digest) {
      throw new ProtocolError(`registry ${this.host} stored manifest "${refSubject(name, ref)}" as ${stated}, but its bytes hash to ${digest}`, { code: 'DIGEST_INVALID', registry: this.host, repo: name, ref, hint: 'the registry rewrote the manifest; regplan cannot track content it does not control' });
    }
    return digest;
  }

  /** Deletes a manifest by digest (202); 404 is a RegistryError for which isNotFound() is true. */
  async deleteManifest(name: string, digest: string): Promise<void> {
    await this.#delete(name, digest);
  }

  /** Deletes a tag (`DELETE manifests/<tag>`); registries that cannot untag answer 400/405 UNSUPPORTED, raised as RegistryError with that code. */
  async deleteTag(name: string, tag: string): Promise<void> {
    await this.#delete(name, tag);
  }

  /**
   * Manifests whose `subject` is `digest` (Referrers API, all pages); undefined when the registry lacks the API
   * (404). Descriptors whose digest fails the grammar are left out.
   */
  async listReferrers(name: string, digest: string, options: { artifactType?: string } = {}): Promise<Descriptor[] | undefined> {
    const first = this.#url({ endpoint: 'referrers', name, digest });
    if (options.artifactType !== undefined) first.searchParams.set('artifactType', options.artifactType);
    const found: Descriptor[] = [];
    let pageCount = 0;
    for await (const page of this.#pages(first, { name, subject: `${name}@${digest}`, accept: MediaType.ociIndex, what: 'referrers page' })) {
      if (page === undefined) return pageCount === 0 ? undefined : found;
      pageCount++;
      const manifests = (page as { manifests?: unknown }).manifests;
      if (Array.isArray(manifests)) for (const manifest of manifests as Descriptor[]) if (typeof manifest?.digest === 'string' && isValidDigest(manifest.digest)) found.push(manifest);
    }
    return found;
  }

  async #delete(name: string, ref: string): Promise<void> {
    const answer = await this.#exchange({ method: 'DELETE', url: this.#manifestUrl(name, ref), scopes: [repositoryScope(name, 'delete')], subject: refSubject(name, ref), ref, expect: [202, 200, 204] });
    await answer.response.body?.cancel().catch(() => undefined);
  }

  /**
   * JSON pages from `first` on, following `Link: <...>; rel="next"`; yields undefined (and stops) on a 404. A next
   * link to another origin or another endpoint (another repository, say) is refused (UNSAFE_NEXT_PAGE, before any
   * request is sent there), and so is a link back to a page already read (PAGING_LOOP): the listing would be
   * incomplete, and a plan made from half a listing could delete what the other half keeps.
   */
  async *#pages(first: URL, options: { name: string; subject: string; accept: string; what: string; scopes?: string[] }): AsyncIterable<unknown> {
    const read = { limit: BODY_LIMITS.json, what: options.what };
    const seen = new Set<string>();
    let url: URL | undefined = first;
    while (url !== undefined) {
      if (seen.has(url.href)) {
        throw new ProtocolError(`registry ${this.host} kept paging "${options.subject}": page ${seen.size + 1} is ${JSON.stringify(url.pathname + url.search)} again`, {
          code: 'PAGING_LOOP',
          registry: this.host,
          ...(options.name === '' ? {} : { repo: options.name }),
          hint: 'the listing would be incomplete, so regplan stops instead of planning from part of it; report this to the registry operator',
        });
      }
      seen.add(url.href);
      const answer: HttpResponse = await this.#exchange({ method: 'GET', url, headers: { accept: options.accept }, scopes: options.scopes ?? [repositoryScope(options.name, 'pull')], subject: options.subject, read, expect: [200, 404] });
      if (answer.response.status === 404) {
        await answer.response.body?.cancel().catch(() => undefined);
        yield undefined;
        return;
      }
      const text = new TextDecoder().decode(await this.#body(answer, read));
      let page: unknown;
      try {
        page = JSON.parse(text) as unknown;
      } catch (error) {
        throw new ProtocolError(`registry ${this.host} answered GET of "${options.subject}" with a body that is not JSON`, { code: 'INVALID_JSON', registry: this.host, repo: options.name, cause: error, hint: 'run with --debug to see the requests' });
      }
      yield page;
      url = nextLink(answer.response.headers.get('link'), answer.url);
      if (url !== undefined && !staysOnEndpoint(url, first)) {
        throw new ProtocolError(`registry ${this.host} sent a next-page link for "${options.subject}" that leaves ${first.pathname} (${JSON.stringify(url.origin + url.pathname)}); refusing to follow it`, {
          code: 'UNSAFE_NEXT_PAGE',
          registry: this.host,
          ...(options.name === '' ? {} : { repo: options.name }),
          hint: 'a Link rel="next" must point at the same endpoint on the same host; report it to the registry operator',
        });
      }
    }
  }

  /** Sends with auth; returns when the status is expected, else throws the registry's error (with the credential source on 401/403). */
  async #exchange(request: ExchangeRequest): Promise<HttpResponse> {
    const answer = await this.#auth.send(request, request.scopes);
    const status = answer.response.status;
    if (request.expect.includes(status)) return answer;
    const credentialSource = status === 401 || status === 403 ? await this.#auth.credentialSource() : undefined;
    const repo = /^\/v2\/(.+?)\/(?:tags|manifests|blobs|referrers)\//.exec(new URL(request.url).pathname)?.[1];
    throw await errorFromResponse(answer.response, {
      registry: this.host,
      method: request.method,
      subject: request.subject,
      credentialSource,
      ...(repo === undefined ? {} : { repo }),
      ...(request.ref === undefined ? {} : { ref: request.ref }),
    }, this.#secrets);
  }

  #uploadTarget(name: string, scopes: string[]): UploadTarget {
    return { exchange: (request) => this.#exchange(request), uploadsUrl: () => this.#url({ endpoint: 'uploads', name }), registry: this.host, name, scopes };
  }

  #read(name: string, ref: string): { scopes: string[]; subject: string; ref: string } {
    return { scopes: [repositoryScope(name, 'pull')], subject: refSubject(name, ref), ref };
  }

  #verify(bytes: Uint8Array, expected: string, subject: string, what: string): void {
    if (matchesDigest(bytes, expected)) return;
    const actual = digestLike(expected, bytes) ?? 'another digest';
    throw new ProtocolError(`registry ${this.host} returned ${what} "${subject}" whose content hashes to ${actual}, not ${expected}`, {
      code: 'DIGEST_INVALID',
      registry: this.host,
      ref: expected,
      hint: 'the registry or a proxy altered the content; retry, and report it to the registry operator if it persists',
    });
  }

  /** The body of an answer the transport already read within `read.limit` (see HttpRequest.read). */
  async #body(answer: HttpResponse, read: BodyRead): Promise<Uint8Array> {
    return readBody(answer.response, { ...read, url: answer.url });
  }

  /** Every Registry API URL comes from here: names are checked and each path segment encoded (url.ts). */
  #url(route: RegistryRoute): URL {
    return registryUrl(this.baseUrl, route, { where: `a request to registry ${this.host}` });
  }

  #manifestUrl(name: string, reference: string): URL {
    return this.#url({ endpoint: 'manifest', name, reference });
  }
}

/** `name@digest` or `name:tag`, as messages show a reference. */
const refSubject = (name: string, ref: string): string => (isValidDigest(ref) ? `${name}@${ref}` : `${name}:${ref}`);

/** The `rel="next"` target of a Link header, resolved against the URL the page came from. */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (header === null) return undefined;
  for (const match of header.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const params = match[2] ?? '';
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(params)) {
      try {
        return new URL(match[1] ?? '', base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
