/**
 * GitHub Packages: `ghcr.io` and the legacy `docker.pkg.github.com`. The Registry API answers DELETE with 405,
 * so listing and cleanup use the GitHub REST package-versions API with a token; reads and pushes stay on the
 * Registry API. A package version is one manifest digest carrying `metadata.container.tags`, so listing gives
 * every tag with its digest and time in one paged pass (untagged versions included), and a delete removes the
 * version with every tag on it: GitHub cannot untag, and the plan skips tags that share a kept manifest.
 *
 * Discovery (`listRepositories`): the container packages of the prefix's owner (`GET /orgs|users/<owner>/packages?
 * package_type=container`, same org-then-user rule and paging), as `<owner>/<package name>`; a prefix without an
 * owner is an error (GitHub lists packages per owner only, and GHCR has no usable catalog, reference §1.11).
 * Owner: `<host>/<owner>/<package path>`; the package name is the path after the owner, URL-encoded (`a/b` ->
 * `a%2Fb`). The owner is tried as an organization (`/orgs/<owner>/...`) and, on 404, as a user
 * (`/users/<owner>/...`); the answer is remembered per owner. `/user/...` (the token's own packages) is never
 * used: a token of another account would address a different package of the same name.
 * Times: a tag's push time is its version's `updated_at` (later than `created_at` when a tag was added to an
 * existing digest, so never older than the truth); an untagged version's is `created_at`.
 * API base: `registries.<host>.api` when set; else `https://api.github.com` for ghcr.io and docker.pkg.github.com,
 * `https://<host>/api/v3` for GitHub Enterprise registries at `containers.<host>` / `docker.<host>`.
 * Quirks (reference §3.4, §5; https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api):
 * - GitHub answers 404, not 403, where a token may not see or administer a package: a 404 on a version DELETE is
 *   "already gone" only when a fresh GET of that version agrees, and a package 404 as an org's and as a user's is an
 *   error naming both URLs, never an empty package;
 * - rate limits are 403 with `retry-after` (secondary) or `x-ratelimit-remaining: 0` until `x-ratelimit-reset`
 *   (primary): waited out through the native layer's `retryWhen` when the wait is short enough, else an error;
 * - pages are `page` + `per_page` (≤ 100) with absolute `Link` URLs, followed by `NativeApi.listAll` on the API's
 *   own origin only. Pages shift while versions are deleted, so a digest missing from one listing counts as gone
 *   only when two complete listings in a row agree.
 */
import { isNotFound, isRegistryError, ProtocolError, RegistryError, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import type { RetryOptions } from '../registry/http.ts';
import { createRegistryApiDriver } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, NativeCredentialSpec, RepositoryLister, UntaggedLister } from './driver.ts';
import { confirmGone, linkNext, NativeApi, SingleFlight } from './native-api.ts';
import { namespaceNotFound, namespaceRequired, namesWithPrefix, prefixOwner } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';

/** The REST API version regplan speaks (sent as `X-GitHub-Api-Version`). */
export const GITHUB_API_VERSION = '2022-11-28';
/** The env var (and flag `--repo-github-token`) holding the GitHub token. */
export const GITHUB_TOKEN_ENV = 'REGPLAN_REPO_GITHUB_TOKEN';
const LEGACY_HOST = /^docker\.pkg\.github\.com(?::\d+)?$/;
const TOKEN_HINT =
  'create a classic personal access token with read:packages and delete:packages and pass it as --repo-github-token or ' +
  `${GITHUB_TOKEN_ENV}; the Actions GITHUB_TOKEN works only when the repository has Admin access to the package`;
/** Why a version DELETE answered 404 while the version is still there (reference §5). */
const NO_ADMIN_HINT =
  'GitHub answers 404 instead of 403 when the token lacks admin access to the package: give the token\'s account the Admin ' +
  'role in the package settings (Manage access), or for the Actions GITHUB_TOKEN give the repository Admin access to the ' +
  'package; the token needs read:packages and delete:packages';
/** How long a listing is reused by listUntagged right after listTagRecords (inventory asks for both in a row). */
const LISTING_REUSE_MS = 60_000;
/** Versions per page (GitHub's maximum). */
const PER_PAGE = 100;
/** Listings tried while looking for a digest before giving up on pages that keep shifting. */
const FIND_ATTEMPTS = 3;

/** GitHub's refusals of a version DELETE and what to do about each, matched on GitHub's message (quirks as data). */
const DELETE_REFUSALS: readonly { message: RegExp; hint: (packagePath: string) => string }[] = [
  {
    message: /last tagged version|last version/i,
    hint: (packagePath) =>
      `GitHub keeps the last tagged version of a package: keep at least one tag of it, or delete the whole package in the GitHub UI or with "gh api -X DELETE ${packagePath}"`,
  },
  { message: /5000 downloads/, hint: () => 'GitHub refuses to delete public versions with more than 5000 downloads; keep this tag or ask GitHub support' },
];

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
  repositoryListing: 'GitHub REST: GET /orgs|users/<owner>/packages?package_type=container (an owner is required)',
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

type OwnerScope = 'orgs' | 'users';

/** Knobs tests turn down (the factory uses the defaults). */
export interface GithubDriverOptions {
  retry?: RetryOptions;
  /** Longest rate-limit wait regplan sits out before failing with the reset time (default 60 s). */
  maxRateLimitWaitMs?: number;
}

/**
 * How long GitHub asks to wait before retrying a 403 rate-limit answer, in ms; undefined for any other answer.
 * Secondary limits send `retry-after` (seconds); an exhausted primary limit sends `x-ratelimit-remaining: 0` and
 * `x-ratelimit-reset` (epoch seconds) (reference §3.4; GitHub REST "Troubleshooting": rate limit errors).
 */
export function githubRateLimitWait(response: Response, now: number): number | undefined {
  if (response.status !== 403) return undefined;
  const retryAfter = response.headers.get('retry-after')?.trim();
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
  if (response.headers.get('x-ratelimit-remaining')?.trim() !== '0') return undefined;
  const reset = resetSeconds(response);
  return reset === undefined ? 60_000 : Math.max(0, reset * 1000 - now); // GitHub: "otherwise wait at least one minute"
}

/** `x-ratelimit-reset` (UTC epoch seconds), or undefined. */
const resetSeconds = (response: Response): number | undefined => {
  const reset = response.headers.get('x-ratelimit-reset')?.trim();
  return reset === undefined || !/^\d+$/.test(reset) ? undefined : Number(reset);
};

/** `x-ratelimit-reset` as ISO 8601, for messages. */
const resetTime = (response: Response): string | undefined => {
  const reset = resetSeconds(response);
  return reset === undefined ? undefined : parseTime({ epochSeconds: reset });
};

/** The hint of a 401/403: the rate limit with its reset time, else the token advice with the scopes GitHub asks for. */
function refusalHint(response: Response): string {
  if (response.headers.has('retry-after') || response.headers.get('x-ratelimit-remaining')?.trim() === '0') {
    const reset = resetTime(response);
    return `GitHub is rate limiting this token${reset === undefined ? '' : ` until ${reset}`}; retry later or lower settings.concurrency`;
  }
  const accepted = response.headers.get('x-accepted-oauth-scopes');
  return `${TOKEN_HINT}${accepted ? `; this call needs the scopes ${accepted}` : ''}`;
}

/** Builds the GitHub driver for one host: Registry API reads and pushes, REST listing and deletes. */
export function createGithubDriver(
  context: DriverContext,
  options: GithubDriverOptions = {},
): Driver & DetailedLister & UntaggedLister & ManifestReader & ContentPusher & RepositoryLister {
  const legacy = LEGACY_HOST.test(context.host);
  const hostCapabilities = legacy ? legacyCapabilities : capabilities;
  const packageType = legacy ? 'docker' : 'container';
  const base = createRegistryApiDriver(context, { type: 'github', capabilities: hostCapabilities });
  let tokenValue: Promise<string | undefined> | undefined;
  const readToken = () => (tokenValue ??= context.nativeSecret(GITHUB_TOKEN_ENV));
  const maxWait = options.maxRateLimitWaitMs ?? 60_000;
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
      authHint: refusalHint,
      retryWhen: (response) => {
        const wait = githubRateLimitWait(response, Date.now());
        if (wait !== undefined) context.debug?.(`GitHub API rate limit: ${wait <= maxWait ? `waiting ${wait} ms` : `the wait of ${wait} ms is too long`}`);
        return wait !== undefined && wait <= maxWait ? wait : undefined;
      },
      insecure: context.registry?.insecure ?? false,
      ...(context.debug === undefined ? {} : { debug: context.debug }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    }));
  const ownerScopes = new Map<string, OwnerScope>();
  const versionIds = new Map<string, Map<string, number>>();
  const listings = new Map<string, { at: number; versions: Promise<PackageVersion[]> }>();
  const deletes = new SingleFlight<void>();

  /** Fails (before any request) when no token is configured: nothing may be planned that apply cannot do. */
  const requireToken = async (name: string): Promise<void> => {
    if ((await readToken()) !== undefined) return;
    throw new RegplanError(`cannot clean up "${context.host}/${name}": GitHub Packages deletes only through the GitHub API, and no GitHub token is set`, {
      hint: `${TOKEN_HINT} (or reference it in the config as registries.${context.host}.credentials.token: { env: NAME })`,
      context: { registry: context.host, repo: name, flag: '--repo-github-token' },
    });
  };

  /** The REST path of a package (`orgs/acme/packages/container/api`) under the owner's scope. */
  const packagePath = (name: string, scope: OwnerScope): string => {
    const { owner, packageName } = githubPackage(context.host, name);
    return `${scope}/${encodeURIComponent(owner)}/packages/${packageType}/${packageName}`;
  };
  const scopesOf = (name: string): readonly OwnerScope[] => {
    const known = ownerScopes.get(githubPackage(context.host, name).owner);
    return known === undefined ? ['orgs', 'users'] : [known];
  };

  /**
   * Every item of a paged GitHub listing (package versions, an owner's packages), from all pages; a listing that stops
   * before GitHub's last page (a later page 404 or empty after a `rel="next"`) is an error, never a shorter list.
   */
  const listEveryPage = async <T>(path: string, subject: string, query: Record<string, string | number> = {}): Promise<T[]> => {
    let pages = 0;
    let lastPage = false;
    const items = await client().listAll<T[], T>(path, {
      subject,
      query: { ...query, per_page: PER_PAGE, page: 1 },
      items: (data) => (Array.isArray(data) ? (pages++, data) : undefined),
      next: (page, asked) => {
        const next = linkNext(page, asked);
        lastPage = next === undefined;
        return next;
      },
    });
    if (!lastPage && !(pages === 1 && items.length === 0)) {
      throw new ProtocolError(`GitHub API ended the listing of "${subject}" early (page ${pages + 1} was missing or empty after a Link rel="next")`, {
        code: 'PAGING_LOOP',
        registry: client().base.host,
        repo: subject,
        hint: 'the listing changed while regplan read it; run the command again',
      });
    }
    return items;
  };

  /** Every version of a package under one owner scope. */
  const listAt = (name: string, scope: OwnerScope): Promise<PackageVersion[]> =>
    listEveryPage<PackageVersion>(`${packagePath(name, scope)}/versions`, `${context.host}/${name}`);

  /** Every version of a package: as an organization's, else (on 404) as a user's; 404 on both is an error naming both. */
  const fetchVersions = async (name: string): Promise<PackageVersion[]> => {
    await requireToken(name);
    const { owner } = githubPackage(context.host, name);
    const tried: string[] = [];
    const attempt = async ([scope, ...rest]: readonly OwnerScope[]): Promise<PackageVersion[]> => {
      if (scope === undefined) throw packageNotFound(name, tried);
      try {
        const versions = await listAt(name, scope);
        ownerScopes.set(owner, scope);
        return versions;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        tried.push(client().url(`${packagePath(name, scope)}/versions`).href);
        return attempt(rest);
      }
    };
    const versions = await attempt(scopesOf(name));
    versionIds.set(name, new Map(versions.map((v) => [v.name, v.id])));
    return versions;
  };

  /**
   * The repos of the owner a prefix names (`acme/` -> every container package of acme, as `acme/<package>`): the
   * owner's packages as an organization's, else (on 404) as a user's; 404 on both is an error naming the owner.
   */
  const listOwnerRepositories = async (prefix: string): Promise<string[]> => {
    const owner = prefixOwner(prefix);
    if (owner === '') throw namespaceRequired(context.host, 'owner (organization or user)', `${context.host}/acme/*`);
    await requireToken(`${owner}/*`);
    const tried: string[] = [];
    const attempt = async ([scope, ...rest]: readonly OwnerScope[]): Promise<{ name: string }[]> => {
      if (scope === undefined) {
        throw namespaceNotFound({
          host: context.host, namespace: owner, what: 'GitHub owner', tried, apiHost: client().base.host,
          hint: `check the owner in the pattern; GitHub also answers 404 for an owner whose packages the token cannot see, so ${TOKEN_HINT}`,
        });
      }
      const path = `${scope}/${encodeURIComponent(owner)}/packages`;
      try {
        const packages = await listEveryPage<{ name: string }>(path, `${context.host}/${owner}/*`, { package_type: packageType });
        ownerScopes.set(owner, scope);
        return packages;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        tried.push(client().url(path, { package_type: packageType }).href);
        return attempt(rest);
      }
    };
    const known = ownerScopes.get(owner);
    const packages = await attempt(known === undefined ? ['orgs', 'users'] : [known]);
    return namesWithPrefix(packages.filter((p) => typeof p.name === 'string').map((p) => `${owner}/${p.name}`), prefix);
  };

  const packageNotFound = (name: string, tried: readonly string[]): RegistryError =>
    new RegistryError(`GitHub has no package "${context.host}/${name}": ${tried.map((url) => `GET ${url}`).join(' and ')} answered HTTP 404`, {
      status: 404,
      registry: client().base.host,
      repo: `${context.host}/${name}`,
      hint: `check the owner and package name in the repo address; GitHub also answers 404 for a package the token cannot see, so ${TOKEN_HINT}`,
    });

  const listVersions = (name: string, reuse: boolean): Promise<PackageVersion[]> => {
    const recent = listings.get(name);
    if (reuse && recent !== undefined && Date.now() - recent.at < LISTING_REUSE_MS) return recent.versions;
    const versions = fetchVersions(name);
    listings.set(name, { at: Date.now(), versions });
    versions.catch(() => listings.delete(name));
    return versions;
  };

  /**
   * The version id carrying `digest`, from fresh listings; undefined only when two complete listings in a row agree
   * that no version carries it (pages shift while versions are deleted, so one listing can miss a version).
   */
  const findVersion = async (name: string, digest: string, previous?: string, attempts = FIND_ATTEMPTS): Promise<number | undefined> => {
    let versions: PackageVersion[];
    try {
      versions = await listVersions(name, false);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new RegplanError(`cannot confirm that "${context.host}/${name}@${digest}" is gone: the package answers 404`, {
        hint: `GitHub answers 404 both for a deleted package and for one the token cannot see; ${TOKEN_HINT}`,
        context: { registry: context.host, repo: `${context.host}/${name}`, ref: digest, status: 404 },
      });
    }
    const id = versions.find((v) => v.name === digest)?.id;
    if (id !== undefined) return id;
    const seen = versions.map((v) => v.id).join(',');
    if (seen === previous) return undefined;
    if (attempts <= 1) {
      throw new RegplanError(`cannot confirm that "${context.host}/${name}@${digest}" is gone: the versions of the package kept changing while regplan listed them`, {
        hint: 'run apply again once other cleanups of this package have finished',
        context: { registry: context.host, repo: `${context.host}/${name}`, ref: digest },
      });
    }
    return findVersion(name, digest, seen, attempts - 1);
  };

  /** Deletes the version carrying `digest` (with every tag on it); resolves only when it is confirmed gone. */
  const deleteVersion = async (name: string, digest: string): Promise<void> => {
    await requireToken(name);
    const id = versionIds.get(name)?.get(digest) ?? (await findVersion(name, digest));
    if (id === undefined) return; // two fresh, complete listings agree: no version carries this digest any more
    const [scope = 'orgs'] = scopesOf(name);
    const versionPath = `${packagePath(name, scope)}/versions/${id}`;
    const subject = `${context.host}/${name}@${digest}`;
    try {
      await client().request('DELETE', versionPath, { subject });
    } catch (error) {
      if (!isNotFound(error)) throw withDeleteHint(error, `/${packagePath(name, scope)}`);
      await confirmGone({
        stillThere: async () => (await client().get(versionPath), true),
        refused: () =>
          new RegplanError(`GitHub API refused DELETE "${subject}" (version ${id}): HTTP 404 "Package not found.", yet the version is still there`, {
            hint: NO_ADMIN_HINT,
            context: { registry: client().base.host, repo: `${context.host}/${name}`, ref: digest, status: 404 },
          }),
      });
    }
    versionIds.get(name)?.delete(digest);
  };

  return {
    ...base,
    capabilities: { ...hostCapabilities },
    async listTagRecords(name) {
      const versions = await listVersions(name, false);
      return versions.flatMap((v) =>
        (v.metadata?.container?.tags ?? []).map((tag): TagRecord => {
          const when = parseTime(v.updated_at) ?? parseTime(v.created_at);
          return { tag, digest: v.name, ...(when === undefined ? {} : { pushedAt: when }) };
        }),
      );
    },
    async listUntagged(name) {
      const versions = await listVersions(name, true);
      return versions
        .filter((v) => (v.metadata?.container?.tags ?? []).length === 0)
        .map((v) => {
          const when = parseTime(v.created_at);
          return { digest: v.name, ...(when === undefined ? {} : { pushedAt: when }) };
        });
    },
    listRepositories: listOwnerRepositories,
    // Tags of one version are deleted concurrently by apply: they share one DELETE.
    deleteManifest: (name, digest) => deletes.run(`${name}@${digest}`, () => deleteVersion(name, digest)),
  };
}

/** A refused DELETE with GitHub's own reason turned into advice (last tagged version, popular public version). */
function withDeleteHint(error: unknown, packagePath: string): unknown {
  if (!isRegistryError(error) || error.status === 401 || error.status === 403) return error;
  const known = DELETE_REFUSALS.find((r) => r.message.test(error.message));
  if (known === undefined) return error;
  return new RegistryError(error.message, {
    status: error.status,
    ...(error.context.registry === undefined ? {} : { registry: error.context.registry }),
    ...(error.context.repo === undefined ? {} : { repo: error.context.repo }),
    hint: known.hint(packagePath),
    cause: error,
  });
}

/** The GitHub Packages registry type. */
export const githubDriver = {
  type: 'github',
  title: 'GitHub Packages',
  status: 'ready',
  capabilities,
  hostCapabilities: [{ host: /^docker\.pkg\.github\.com$/, label: 'docker.pkg.github.com', capabilities: legacyCapabilities }],
  create: (context) => createGithubDriver(context),
} satisfies DriverFactory;
