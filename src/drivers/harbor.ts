/**
 * Harbor (`harbor.*`, `demo.goharbor.io`, or set explicitly). Reads and pushes go through the Registry API;
 * listing and deleting go through the Harbor API v2.0, which gives every tag with its digest and push time in
 * one paged listing, lists untagged artifacts, removes a single tag (the artifact stays for its other tags), and
 * deletes an artifact with all its tags. On `/v2` Harbor answers DELETE by tag with 400 UNSUPPORTED, which is
 * why the native API is used.
 *
 * The API base is `registries.<host>.api` (a bare origin such as `https://harbor.example.com` gets `/api/v2.0`
 * appended), else `https://<host>/api/v2.0` (http for loopback or `insecure`). Credentials: HTTP Basic with
 * REGPLAN_REPO_HARBOR_USERNAME/PASSWORD (or `registries.<host>.credentials.username/password`); when neither is
 * set, the Docker login for the host, since Harbor accepts the same user and robot accounts on both APIs.
 * With no usable credentials, planning a cleanup fails (the listing asks first) instead of apply failing later.
 * Discovery (`listRepositories`): the repositories of the prefix's project (`GET /projects/<p>/repositories`, whose
 * `name` is already `<p>/<repo>`); a prefix without a project lists the projects the account sees (`GET /projects`)
 * and then each one's repositories, skipping a project deleted in between (reference §3.6).
 * Installed tag retention policy (`readInstalledPolicy`, for `regplan drift`): GET /projects/<p> metadata.retention_id,
 * then GET /retentions/<id>.
 */
import pLimit from 'p-limit';
import { RegistryError, RegplanError } from '../errors.ts';
import { parseTime } from '../model/time.ts';
import { oneLine } from '../registry/redact.ts';
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, ContentPusher, DetailedLister, Driver, DriverContext, DriverFactory, ManifestReader, RepositoryLister, Untagger, UntaggedLister } from './driver.ts';
import { basicAuthorization, confirmGone, linkNext, NativeApi, nativeApiBase, type NativeResponse, digestSegment, tagSegment } from './native-api.ts';
import { namespaceNotFound, namesWithPrefix, prefixOwner } from './repository-prefix.ts';
import type { TagRecord } from '../model/inventory.ts';
import type { InstalledPolicy, InstalledPolicyReader } from '../export/installed.ts';

const USERNAME_ENV = 'REGPLAN_REPO_HARBOR_USERNAME';
const PASSWORD_ENV = 'REGPLAN_REPO_HARBOR_PASSWORD';
/** Harbor's largest page (reference §3.6). */
const PAGE_SIZE = 100;
/** Projects whose repositories are listed at once when discovery lists every project. */
const PROJECT_CONCURRENCY = 4;

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath:
    'Harbor API /api/v2.0/projects/<p>/repositories/<r>/artifacts: lists tags with push times, DELETE .../artifacts/<digest>/tags/<tag> ' +
    `untags, DELETE .../artifacts/<digest> removes the artifact and its tags (the same as ${REGISTRY_API_DELETE})`,
  untag: true,
  listUntagged: true,
  repositoryListing: 'Harbor API: GET /projects/<project>/repositories (of every visible project when no project is given)',
  pullTimes: true,
  nativeCredentials: [
    { description: 'Harbor API user or robot account (defaults to the Docker login for the host)', flag: '--repo-harbor-username', env: USERNAME_ENV, configKey: 'username', optional: true },
    { description: 'Harbor API password or robot secret (defaults to the Docker login for the host)', flag: '--repo-harbor-password', env: PASSWORD_ENV, configKey: 'password', optional: true },
  ],
  notes:
    'Registry API DELETE by tag answers 400 UNSUPPORTED, so tags are removed through the Harbor API; an artifact referenced by an index ' +
    'answers 412; immutable tag rules answer 412 (reported as failed, left in place); untagged index children are not listed; ' +
    'reads may fail with PROJECTPOLICYVIOLATION while a scan blocks pulls',
};

/** A tag inside a Harbor artifact. */
interface HarborTag {
  name: string;
  push_time?: string;
  pull_time?: string;
}

/** The fields of a Harbor artifact regplan reads. */
interface HarborArtifact {
  digest: string;
  manifest_media_type?: string;
  push_time?: string;
  pull_time?: string;
  tags?: HarborTag[] | null;
}

/** The Harbor API base for a host: `registries.<host>.api` (a bare origin gets `/api/v2.0`), else derived from the host. */
export function harborApiBase(context: Pick<DriverContext, 'host' | 'registry'>): string {
  return nativeApiBase({ host: context.host, configured: context.registry?.api, insecure: context.registry?.insecure, path: '/api/v2.0' });
}

/** Harbor's path of a repository: `projects/<p>/repositories/<r>`, the repository URL-encoded twice (`a/b` → `a%252Fb`). */
export function harborRepositoryPath(host: string, name: string): string {
  const slash = name.indexOf('/');
  if (slash <= 0 || slash === name.length - 1) {
    throw new RegplanError(`"${host}/${name}" is not a Harbor repository: Harbor names repositories <project>/<repository>`, {
      hint: `write the repo as ${host}/<project>/<repository>, e.g. ${host}/library/${name || 'app'}`,
      context: { registry: host, repo: name },
    });
  }
  const project = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  return `projects/${encodeURIComponent(project)}/repositories/${encodeURIComponent(encodeURIComponent(repository))}`;
}

/** The first error code of a Harbor error body, if it is one. */
function harborCode(data: unknown): string | undefined {
  const errors = (data as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined) : undefined;
  return typeof first?.code === 'string' ? first.code : undefined;
}

function harborMessage(data: unknown): string {
  const errors = (data as { errors?: { message?: unknown }[] } | undefined)?.errors;
  const message = Array.isArray(errors) ? errors[0]?.message : undefined;
  return typeof message === 'string' ? oneLine(message, 300) : '';
}

/** Builds the Harbor driver for one host. */
export function createHarborDriver(
  context: DriverContext,
): Driver & Untagger & DetailedLister & UntaggedLister & ManifestReader & ContentPusher & RepositoryLister & InstalledPolicyReader {
  const { host } = context;
  const base = harborApiBase(context);
  const api = new NativeApi({
    base,
    title: 'Harbor API',
    authorization: () => harborAuthorization(context),
    authHint:
      `use a Harbor user or robot account (robot$<project>+<name>) allowed to list and delete artifacts in the project: set ${USERNAME_ENV} and ` +
      `${PASSWORD_ENV}, registries."${host}".credentials, or "docker login ${host}" with it`,
    insecure: context.registry?.insecure ?? false,
    ...(context.debug === undefined ? {} : { debug: context.debug }),
  });
  const registryApi = createRegistryApiDriver(context, { type: 'harbor', capabilities });

  const apiHint = `check registries."${host}".api: it must be the Harbor API base, e.g. https://${host}/api/v2.0`;

  /**
   * True for Harbor's own 404 (`NOT_FOUND`); any other 404 means the API base is wrong, an error that is never
   * read as "not found" (apply would call that "already gone").
   */
  const isHarborNotFound = (response: NativeResponse<unknown>, subject: string): boolean => {
    if (response.status !== 404) return false;
    if (harborCode(response.data) === 'NOT_FOUND') return true;
    throw new RegplanError(`the Harbor API at ${base} answered 404 for "${subject}" without a Harbor error body`, { hint: apiHint, context: { registry: host, repo: subject } });
  };

  /** A 404 on DELETE is "done" only when a fresh GET of that tag or artifact says NOT_FOUND too (native-api confirmGone). */
  const confirmDeleted = (path: string, subject: string, what: string) =>
    confirmGone({
      stillThere: async () => {
        const found = await api.request('GET', path, { query: { with_tag: 'false' }, expect: [200, 404], subject });
        return !(found.status === 404 && harborCode(found.data) === 'NOT_FOUND');
      },
      refused: () =>
        new RegplanError(`Harbor answered 404 NOT_FOUND to ${what} "${subject}", yet it is still there`, {
          hint: 'Harbor did not remove it; check the account may delete in the project, then apply again',
          context: { registry: host, repo: subject },
        }),
    });

  const refused = (response: NativeResponse<unknown>, what: string, subject: string, tag?: string): RegistryError => {
    const code = harborCode(response.data) ?? 'UNKNOWN';
    const message = harborMessage(response.data);
    const [project = ''] = subject.slice(host.length + 1).split('/');
    const hint =
      code === 'VIOLATE_FOREIGN_KEY_CONSTRAINT'
        ? 'an image index references this artifact; it goes when the index is deleted, so keep or delete the index instead'
        : `an immutable tag rule of project "${project}" protects ${tag === undefined ? 'a tag of this artifact' : `tag "${tag}"`}, so it was left in place; ` +
          'keep it with a keep rule so plans stop proposing it, or change the project\'s tag immutability rules';
    return new RegistryError(`Harbor refused to ${what} "${subject}": HTTP ${response.status} ${code}${message ? ` ${JSON.stringify(message)}` : ''}`, {
      status: response.status,
      errors: [{ code, message }],
      registry: host,
      repo: subject,
      hint,
    });
  };

  /**
   * Every artifact of a repo (`q` filters, e.g. `tags=nil`), following Harbor's `Link` pages on the API's origin.
   * A repo Harbor cannot list (404) is an error naming the URL: the config names it, so it is never "empty".
   */
  async function listArtifacts(name: string, q?: string): Promise<HarborArtifact[]> {
    const artifacts = await api.listAll<unknown, HarborArtifact>(`${harborRepositoryPath(host, name)}/artifacts`, {
      items: (data) => (Array.isArray(data) ? (data as HarborArtifact[]) : undefined),
      next: linkNext,
      subject: `${host}/${name}`,
      query: { with_tag: 'true', page: 1, page_size: PAGE_SIZE, q },
      notFoundHint: `check the repository name (<project>/<repository>) exists in Harbor; ${apiHint}`,
    });
    return artifacts.filter((a) => typeof a?.digest === 'string');
  }

  /** Every item of a Harbor list (projects, repositories), following its `Link` pages on the API's origin. */
  const listPaged = <T>(path: string, subject: string): Promise<T[]> =>
    api.listAll<unknown, T>(path, {
      items: (data) => (Array.isArray(data) ? (data as T[]) : undefined),
      next: linkNext,
      subject,
      query: { page: 1, page_size: PAGE_SIZE },
      notFoundHint: apiHint,
    });

  /** The repository names of one project; a project Harbor does not know is `undefined`. */
  const projectRepositories = async (project: string): Promise<string[] | undefined> => {
    try {
      const repositories = await listPaged<{ name?: unknown }>(`projects/${encodeURIComponent(project)}/repositories`, `${host}/${project}/`);
      return repositories.map((r) => r.name).filter((name): name is string => typeof name === 'string');
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404) return undefined;
      throw error;
    }
  };

  /** The repositories under a prefix: its project's, or every visible project's for a prefix without one (file header). */
  async function listRepositories(prefix: string): Promise<string[]> {
    const project = prefixOwner(prefix);
    if (project !== '') {
      const names = await projectRepositories(project);
      if (names === undefined) {
        throw namespaceNotFound({
          host, namespace: project, what: 'Harbor project', tried: [api.url(`projects/${encodeURIComponent(project)}/repositories`).href], apiHost: api.base.host,
          hint: `check the project name in the pattern, and that the account is a member of it; ${apiHint}`,
        });
      }
      return namesWithPrefix(names, prefix);
    }
    const projects = (await listPaged<{ name?: unknown }>('projects', `${host}/*`)).map((p) => p.name).filter((n): n is string => typeof n === 'string');
    const limit = pLimit(PROJECT_CONCURRENCY);
    const perProject = await Promise.all(projects.map((name) => limit(async () => (await projectRepositories(name)) ?? []))); // [] : gone since the project listing
    return namesWithPrefix(perProject.flat(), prefix);
  }

  return {
    ...registryApi,
    type: 'harbor',
    listRepositories,
    capabilities,
    /**
     * The project's tag retention policy, for `regplan drift`: `GET /projects/<p>` -> metadata.retention_id, then
     * `GET /retentions/<id>`; undefined when the project has none.
     */
    async readInstalledPolicy(name: string): Promise<InstalledPolicy | undefined> {
      const project = name.split('/')[0] ?? name;
      const info = (await api.get<{ metadata?: { retention_id?: unknown } }>(`projects/${encodeURIComponent(project)}`)).data;
      const id = info.metadata?.retention_id;
      if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '' || String(id) === '0') return undefined;
      const document = (await api.get<unknown>(`retentions/${encodeURIComponent(String(id))}`)).data;
      return { format: 'harbor-retention-policy', document, source: `GET /projects/${project} (retention_id ${String(id)}) + GET /retentions/${String(id)}` };
    },
    async listTagRecords(name) {
      const records = (await listArtifacts(name)).flatMap((artifact) =>
        (artifact.tags ?? []).map((tag): TagRecord => {
          const pushedAt = parseTime(tag.push_time) ?? parseTime(artifact.push_time);
          // the later of the tag's and the artifact's pull_time (a pull by digest moves only the artifact's);
          // Go's zero time (0001-01-01) means never pulled, judged in inventory
          const pulled = [parseTime(tag.pull_time), parseTime(artifact.pull_time)].filter((t) => t !== undefined).sort().at(-1);
          return {
            tag: tag.name,
            digest: artifact.digest,
            ...(artifact.manifest_media_type ? { mediaType: artifact.manifest_media_type } : {}),
            ...(pushedAt === undefined ? {} : { pushedAt }),
            ...(pulled === undefined ? {} : { pulled }),
          };
        }),
      );
      return records.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    },
    async listUntagged(name) {
      return (await listArtifacts(name, 'tags=nil'))
        .filter((artifact) => (artifact.tags ?? []).length === 0)
        .map((artifact) => {
          const pushedAt = parseTime(artifact.push_time);
          return { digest: artifact.digest, ...(pushedAt === undefined ? {} : { pushedAt }) };
        });
    },
    async untag(name, tag) {
      const subject = `${host}/${name}:${tag}`;
      const artifacts = `${harborRepositoryPath(host, name)}/artifacts`;
      const byTag = `${artifacts}/${tagSegment(tag, `untag of "${subject}"`)}`;
      const found = await api.request<HarborArtifact>('GET', byTag, { query: { with_tag: 'false' }, expect: [200, 404], subject });
      if (isHarborNotFound(found, subject)) return; // this lookup of the one tag finds nothing: gone already, done
      const digest = found.data.digest;
      const response = await api.request('DELETE', `${artifacts}/${digestSegment(digest, subject)}/tags/${tagSegment(tag, subject)}`, { expect: [200, 404, 412], subject });
      if (response.status === 412) throw refused(response, 'remove tag', subject, tag);
      if (isHarborNotFound(response, subject)) await confirmDeleted(byTag, subject, 'removing tag');
    },
    async deleteManifest(name, digest) {
      const subject = `${host}/${name}@${digest}`;
      const artifact = `${harborRepositoryPath(host, name)}/artifacts/${digestSegment(digest, subject)}`;
      const response = await api.request('DELETE', artifact, { expect: [200, 404, 412], subject });
      if (response.status === 412) throw refused(response, 'delete artifact', subject);
      if (isHarborNotFound(response, subject)) await confirmDeleted(artifact, subject, 'deleting artifact'); // already gone counts as done (design §6)
    },
  };
}

/**
 * The Basic `Authorization` for the Harbor API: the Harbor username/password when set, else the Docker login for
 * the host (Harbor takes the same accounts); a RegplanError naming what to set when there is neither.
 */
async function harborAuthorization(context: DriverContext): Promise<string> {
  const { host } = context;
  const [username, password] = await Promise.all([context.nativeSecret(USERNAME_ENV), context.nativeSecret(PASSWORD_ENV)]);
  if (username && password) return basicAuthorization(username, password);
  if (username || password) {
    const [given, missing] = username ? [USERNAME_ENV, PASSWORD_ENV] : [PASSWORD_ENV, USERNAME_ENV];
    throw new RegplanError(`cannot use the Harbor API of "${host}": ${given} is set but ${missing} is not`, {
      hint: `set both ${USERNAME_ENV} and ${PASSWORD_ENV} (or both registries."${host}".credentials.username and .password)`,
      context: { registry: host },
    });
  }
  const docker = await context.credentials();
  if (docker?.username && docker.password) return basicAuthorization(docker.username, docker.password);
  const why = docker === undefined ? 'no Harbor credentials and no Docker login for the host' : `the Docker login for the host (${docker.source}) is a token, which the Harbor API does not accept`;
  throw new RegplanError(`cannot clean up "${host}" through the Harbor API: ${why}`, {
    hint:
      `set ${USERNAME_ENV} and ${PASSWORD_ENV} (or registries."${host}".credentials.username/password as { env: NAME }) to a Harbor user or ` +
      `robot account allowed to delete artifacts, or run "docker login ${host}" with one`,
    context: { registry: host },
  });
}

/** The Harbor registry type. */
export const harborDriver = {
  type: 'harbor',
  title: 'Harbor',
  status: 'ready',
  capabilities,
  create: createHarborDriver,
} satisfies DriverFactory;
