/**
 * GitHub Packages: `ghcr.io` and the legacy `docker.pkg.github.com`. The Registry API answers DELETE with 405,
 * so listing and cleanup use the GitHub REST package-versions API with a token; reads and pushes stay on the
 * Registry API. A package version is one manifest digest carrying `metadata.container.tags`, so listing gives
 * every tag with its digest and time in one paged pass (untagged versions included), and a delete removes the
 * version with every tag on it: GitHub cannot untag, and the plan skips tags that share a kept manifest.
 *
 * Owner: `<host>/<owner>/<package path>`; the package name is the path after the owner, URL-encoded (`a/b` ->
 * `a%2Fb`). The owner is tried as an organization (`/orgs/<owner>/...`) and, on 404, as a user
 * (`/users/<owner>/...`); the answer is remembered per owner. `/user/...` (the token's own packages) is never
 * used: a token of another account would address a different package of the same name.
 * Times: a tag's push time is its version's `updated_at` (later than `created_at` when a tag was added to an
 * existing digest, so never older than the truth); an untagged version's is `created_at`.
 * API base: `registries.<host>.api` when set; else `https://api.github.com` for ghcr.io and docker.pkg.github.com,
 * `https://<host>/api/v3` for GitHub Enterprise registries at `containers.<host>` / `docker.<host>`.
 */
import { AuthError, RegistryError, RegplanError } from '../errors.ts';
import type { RetryOptions } from '../registry/http.ts';
import { nextLink } from '../registry/client.ts';
import { oneLine, SecretSet } from '../registry/redact.ts';
import { createRegistryApiDriver } from './default.ts';
import type {
  Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, NativeCredentialSpec, TagRecord, UntaggedLister,
} from './driver.ts';
import { NativeApi, type NativeResponse, vendorMessage } from './native-api.ts';

/** The REST API version regplan speaks (sent as `X-GitHub-Api-Version`). */
export const GITHUB_API_VERSION = '2022-11-28';
/** The env var (and flag `--repo-github-token`) holding the GitHub token. */
export const GITHUB_TOKEN_ENV = 'REGPLAN_REPO_GITHUB_TOKEN';
const LEGACY_HOST = /^docker\.pkg\.github\.com(?::\d+)?$/;
const TOKEN_HINT =
  'create a classic personal access token with read:packages and delete:packages and pass it as --repo-github-token or ' +
  `${GITHUB_TOKEN_ENV}; the Actions GITHUB_TOKEN works only when the repository has Admin access to the package`;
/** How long a listing is reused by listUntagged right after listTagRecords (inventory asks for both in a row). */
const LISTING_REUSE_MS = 60_000;

const token = (scopes: string): NativeCredentialSpec => ({
  description: `GitHub token with ${scopes}`,
  flag: '--repo-github-token',
  env: GITHUB_TOKEN_ENV,
  configKey: 'token',
});

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'GitHub REST: list package versions (digest, tags, times), DELETE .../packages/container/<pkg>/versions/<id> (a version is a digest: every tag on it goes)',
  untag: false,
  listUntagged: true,
  nativeCredentials: [token('read:packages + delete:packages')],
  notes:
    'Registry API DELETE answers 405 UNSUPPORTED; the last tagged version cannot be deleted (delete the package instead); ' +
    'public versions with more than 5000 downloads cannot be deleted; the Actions GITHUB_TOKEN works only with admin access to the package',
};

const legacyCapabilities: Capabilities = {
  ...capabilities,
  bundles: false,
  bundlesRefusal: 'docker.pkg.github.com (the legacy GitHub Docker registry) does not store OCI artifacts; publish bundles to ghcr.io',
  customArtifactType: false,
  cleanupPath: 'GitHub REST: list package versions (package type docker), DELETE .../versions/<id> (a version is a digest: every tag on it goes)',
  nativeCredentials: [token('read:packages, write:packages, delete:packages and repo')],
  notes: `${capabilities.notes}; packages of public repositories cannot be deleted`,
};

/** The REST API base for a registry host: the configured `api`, else GitHub's (documented in the file header). */
export function githubApiBase(host: string, configured?: string): string {
  if (configured !== undefined) return configured;
  const bare = host.replace(/:\d+$/, '');
  if (bare === 'ghcr.io' || bare === 'docker.pkg.github.com') return 'https://api.github.com';
  const enterprise = /^(?:containers|docker)\.(.+)$/.exec(bare);
  if (enterprise) return `https://${enterprise[1] ?? ''}/api/v3`;
  throw new RegplanError(`cannot tell the GitHub API of registry "${host}"`, {
    hint: `set "registries.${host}.api" in the config, e.g. https://github.example.com/api/v3`,
    context: { registry: host },
  });
}

/** A repo path split as GitHub addresses it: the owner and the URL-encoded package name. */
export function githubPackage(host: string, name: string): { owner: string; packageName: string } {
  const slash = name.indexOf('/');
  if (slash <= 0 || slash === name.length - 1) {
    throw new RegplanError(`"${host}/${name}" names no GitHub package: GitHub repos are ${host}/<owner>/<package>`, {
      hint: 'write the repo as <host>/<owner>/<package>, e.g. ghcr.io/acme/api',
      context: { registry: host, repo: name },
    });
  }
  return { owner: name.slice(0, slash), packageName: encodeURIComponent(name.slice(slash + 1)) };
}

/** One package version as the REST API lists it. */
interface PackageVersion {
  id: number;
  name: string;
  created_at?: string;
  updated_at?: string;
  metadata?: { container?: { tags?: string[] } };
}

/** Knobs tests turn down (the factory uses the defaults). */
export interface GithubDriverOptions {
  retry?: RetryOptions;
  /** Longest wait for a rate limit to lift before giving up (default 60 s). */
  maxRateLimitWaitMs?: number;
  /** Attempts per request while GitHub answers "rate limited" (default 5). */
  rateLimitAttempts?: number;
}

/** Builds the GitHub driver for one host: Registry API reads and pushes, REST listing and deletes. */
export function createGithubDriver(
  context: DriverContext,
  options: GithubDriverOptions = {},
): Driver & DetailedLister & UntaggedLister & ManifestReader & ContentPusher {
  const legacy = LEGACY_HOST.test(context.host);
  const hostCapabilities = legacy ? legacyCapabilities : capabilities;
  const packageType = legacy ? 'docker' : 'container';
  const base = createRegistryApiDriver(context, { type: 'github', capabilities: hostCapabilities });
  const secrets = new SecretSet();
  let tokenValue: Promise<string | undefined> | undefined;
  const readToken = () => (tokenValue ??= context.nativeSecret(GITHUB_TOKEN_ENV).then((t) => (secrets.add(t), t)));
  let api: NativeApi | undefined;
  const client = (): NativeApi =>
    (api ??= new NativeApi({
      base: githubApiBase(context.host, context.registry?.api),
      title: 'GitHub API',
      authorization: async () => {
        const value = await readToken();
        return value === undefined ? undefined : `Bearer ${value}`;
      },
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION },
      authHint: TOKEN_HINT,
      insecure: context.registry?.insecure ?? false,
      ...(context.debug === undefined ? {} : { debug: context.debug }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    }));
  const ownerScopes = new Map<string, 'orgs' | 'users'>();
  const versionIds = new Map<string, Map<string, number>>();
  const listings = new Map<string, { at: number; versions: Promise<PackageVersion[]> }>();

  /** Fails (before any request) when no token is configured: nothing may be planned that apply cannot do. */
  const requireToken = async (name: string): Promise<void> => {
    if ((await readToken()) !== undefined) return;
    throw new RegplanError(`cannot clean up "${context.host}/${name}": GitHub Packages deletes only through the GitHub API, and no GitHub token is set`, {
      hint: `${TOKEN_HINT} (or reference it in the config as registries.${context.host}.credentials.token: { env: NAME })`,
      context: { registry: context.host, repo: name, flag: '--repo-github-token' },
    });
  };

  /** Sends one request, waiting out GitHub's 403 rate limits (the transport already waits out 429); other 403s become AuthError with the scope hint. */
  const send = async <T>(method: 'GET' | 'DELETE', target: string | URL, subject: string): Promise<NativeResponse<T>> => {
    const attempts = Math.max(1, options.rateLimitAttempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      const answer = await client().request<T>(method, target, { expect: [200, 204, 400, 403, 404, 422], subject });
      if (answer.status !== 403) return answer;
      const message = secrets.scrub(oneLine(vendorMessage(typeof answer.data === 'string' ? answer.data : JSON.stringify(answer.data ?? '')), 300));
      const wait = rateLimitWait(answer.headers);
      const what = `GitHub API refused ${method} "${subject}": HTTP ${answer.status}${message ? ` ${JSON.stringify(message)}` : ''}`;
      const context_ = { status: answer.status, registry: client().base.host, repo: subject };
      if (wait === undefined) {
        const accepted = answer.headers.get('x-accepted-oauth-scopes');
        const needs = accepted ? `; this call needs the scopes ${accepted}` : '';
        throw new AuthError(what, { ...context_, hint: `${TOKEN_HINT}${needs}` });
      }
      const cap = options.maxRateLimitWaitMs ?? 60_000;
      if (attempt >= attempts || wait > cap) {
        const reset = answer.headers.get('x-ratelimit-reset');
        const until = reset !== null && /^\d+$/.test(reset) ? ` until ${new Date(Number(reset) * 1000).toISOString()}` : '';
        throw new RegistryError(what, { ...context_, hint: `GitHub is rate limiting this token${until}; retry later or lower settings.concurrency` });
      }
      context.debug?.(`GitHub API rate limited ${method} "${subject}"; waiting ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };

  /** Every version of a package, following `Link: rel="next"`; empty when the package does not exist. */
  const fetchVersions = async (name: string): Promise<PackageVersion[]> => {
    await requireToken(name);
    const { owner, packageName } = githubPackage(context.host, name);
    const known = ownerScopes.get(owner);
    for (const scope of known === undefined ? (['orgs', 'users'] as const) : [known]) {
      const versions = await pagedVersions(`${scope}/${encodeURIComponent(owner)}/packages/${packageType}/${packageName}/versions`, `${context.host}/${name}`);
      if (versions === undefined) continue; // 404: not an organization's package (or no such package)
      ownerScopes.set(owner, scope);
      versionIds.set(name, new Map(versions.map((v) => [v.name, v.id])));
      return versions;
    }
    versionIds.set(name, new Map());
    return [];
  };

  /** The pages of one versions listing; undefined when its first page is a 404. */
  const pagedVersions = async (path: string, subject: string): Promise<PackageVersion[] | undefined> => {
    const versions: PackageVersion[] = [];
    let url: URL | undefined = client().url(path, { per_page: 100, page: 1 });
    for (let page = 1; url !== undefined; page++) {
      const answer: NativeResponse<PackageVersion[]> = await send<PackageVersion[]>('GET', url, subject);
      if (answer.status === 404 && page === 1) return undefined;
      if (answer.status !== 200 || !Array.isArray(answer.data)) throw unexpected('GET', subject, answer);
      versions.push(...answer.data);
      url = answer.data.length === 0 ? undefined : nextLink(answer.headers.get('link'), answer.url);
    }
    return versions;
  };

  const listVersions = (name: string, reuse: boolean): Promise<PackageVersion[]> => {
    const recent = listings.get(name);
    if (reuse && recent !== undefined && Date.now() - recent.at < LISTING_REUSE_MS) return recent.versions;
    const versions = fetchVersions(name);
    listings.set(name, { at: Date.now(), versions });
    versions.catch(() => listings.delete(name));
    return versions;
  };

  /** Deletes the version carrying `digest` (with every tag on it); a version already gone counts as done. */
  const deleteVersion = async (name: string, digest: string): Promise<void> => {
    await requireToken(name);
    let id = versionIds.get(name)?.get(digest);
    if (id === undefined) {
      await listVersions(name, false);
      id = versionIds.get(name)?.get(digest);
    }
    if (id === undefined) return; // no version carries this digest any more: already gone (design §6)
    const { owner, packageName } = githubPackage(context.host, name);
    const scope = ownerScopes.get(owner) ?? 'orgs';
    const subject = `${context.host}/${name}@${digest}`;
    const answer = await send('DELETE', `${scope}/${encodeURIComponent(owner)}/packages/${packageType}/${packageName}/versions/${id}`, subject);
    if (answer.status === 204 || answer.status === 200 || answer.status === 404) {
      versionIds.get(name)?.delete(digest);
      return;
    }
    const message = oneLine(vendorMessage(JSON.stringify(answer.data ?? '')), 300);
    const packagePath = `/${scope}/${owner}/packages/${packageType}/${packageName}`;
    const hint = /last tagged version|last version/i.test(message)
      ? `GitHub keeps the last tagged version of a package: keep at least one tag of it, or delete the whole package in the GitHub UI or with "gh api -X DELETE ${packagePath}"`
      : /5000 downloads/.test(message)
        ? 'GitHub refuses to delete public versions with more than 5000 downloads; keep this tag or ask GitHub support'
        : "see GitHub's message above";
    throw new RegistryError(`GitHub API refused DELETE "${subject}" (version ${id}): HTTP ${answer.status}${message ? ` ${JSON.stringify(secrets.scrub(message))}` : ''}`, {
      status: answer.status,
      registry: client().base.host,
      repo: `${context.host}/${name}`,
      ref: digest,
      hint,
    });
  };
  const deleting = new Map<string, Promise<void>>();

  return {
    ...base,
    capabilities: { ...hostCapabilities },
    async listTagRecords(name) {
      const versions = await listVersions(name, false);
      return versions.flatMap((v) =>
        (v.metadata?.container?.tags ?? []).map((tag): TagRecord => {
          const when = isoTime(v.updated_at) ?? isoTime(v.created_at);
          return { tag, digest: v.name, ...(when === undefined ? {} : { pushedAt: when }) };
        }),
      );
    },
    async listUntagged(name) {
      const versions = await listVersions(name, true);
      return versions
        .filter((v) => (v.metadata?.container?.tags ?? []).length === 0)
        .map((v) => {
          const when = isoTime(v.created_at);
          return { digest: v.name, ...(when === undefined ? {} : { pushedAt: when }) };
        });
    },
    deleteManifest(name, digest) {
      // Tags of one version are deleted concurrently by apply: they share one DELETE.
      const key = `${name}@${digest}`;
      let pending = deleting.get(key);
      if (pending === undefined) {
        pending = deleteVersion(name, digest).finally(() => deleting.delete(key));
        deleting.set(key, pending);
      }
      return pending;
    },
  };
}

/** How long to wait before retrying a rate-limited answer (Retry-After, or the reset of an exhausted limit); undefined when it is not a rate limit. */
function rateLimitWait(headers: Headers): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    if (/^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim()) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : 60_000;
  }
  return undefined;
}

function unexpected(method: string, subject: string, answer: NativeResponse<unknown>): RegistryError {
  const message = oneLine(vendorMessage(JSON.stringify(answer.data ?? '')), 300);
  return new RegistryError(`GitHub API answered ${method} "${subject}" with HTTP ${answer.status}${message ? ` ${JSON.stringify(message)}` : ''}`, {
    status: answer.status,
    repo: subject,
    hint: answer.status === 404 ? 'check the owner and package name' : "see GitHub's message above",
  });
}

const isoTime = (text: string | undefined): string | undefined =>
  text === undefined || Number.isNaN(Date.parse(text)) ? undefined : new Date(text).toISOString();

/** The GitHub Packages registry type. */
export const githubDriver = {
  type: 'github',
  title: 'GitHub Packages',
  status: 'ready',
  capabilities,
  hostCapabilities: [{ host: /^docker\.pkg\.github\.com$/, label: 'docker.pkg.github.com', capabilities: legacyCapabilities }],
  create: (context) => createGithubDriver(context),
} satisfies DriverFactory;
