/**
 * The images a Kubernetes cluster uses, for the `inUse` rule: Pods (containers, init and ephemeral containers, and
 * the digests their status says they run) and the pod templates of Deployments, ReplicaSets (a rollback's target),
 * StatefulSets, DaemonSets, Jobs and CronJobs, in every namespace or one. Read through the maintained client
 * (@kubernetes/client-node), loaded only when a plan has such a rule; credentials are the kubeconfig's, exec
 * plugins (EKS, GKE) included. Lists are paged (`limit`/`continue`); a continue token seen twice is an error.
 */
import * as path from 'node:path';
import type { InUseSource } from '../../config/types.ts';
import { RegplanError } from '../../errors.ts';
import type { InUseImage } from '../types.ts';

type KubernetesSource = Extract<InUseSource, { kind: 'kubernetes' }>;
/** Items per list request. */
export const KUBERNETES_PAGE_SIZE = 250;

interface PodSpecLike {
  containers?: { image?: string }[];
  initContainers?: { image?: string }[];
  ephemeralContainers?: { image?: string }[];
}
interface StatusLike {
  containerStatuses?: { image?: string; imageID?: string }[];
  initContainerStatuses?: { image?: string; imageID?: string }[];
  ephemeralContainerStatuses?: { image?: string; imageID?: string }[];
}
interface ObjectLike {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
  status?: unknown;
}
type Page = { items: ObjectLike[]; metadata?: { _continue?: string } };
type Lister = (page: { limit: number; _continue?: string }) => Promise<Page>;

/** Reads every image reference the cluster's workloads use. */
export async function readKubernetesImages(source: KubernetesSource, options: { env: Readonly<Record<string, string | undefined>> }): Promise<InUseImage[]> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  for (const [i, file] of kubeconfigFiles(source, options.env).entries()) {
    if (i === 0) config.loadFromFile(file);
    else {
      const more = new k8s.KubeConfig();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
  }
  if (source.context !== undefined) {
    const names = config.getContexts().map((c) => c.name);
    if (!names.includes(source.context)) {
      throw new RegplanError(`the kubeconfig has no context "${source.context}"`, { hint: `its contexts: ${names.join(', ') || '(none)'}` });
    }
    config.setCurrentContext(source.context);
  } else if (config.getCurrentContext() === '' || config.getCurrentContext() === undefined) {
    throw new RegplanError('the kubeconfig sets no current-context', { hint: 'name one: inUse: { kubernetes: { context: <name> } }' });
  }
  const core = config.makeApiClient(k8s.CoreV1Api);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const ns = source.namespace;
  const scoped = <P extends object>(all: (p: P) => Promise<unknown>, one: (p: P & { namespace: string }) => Promise<unknown>): Lister =>
    (page) => (ns === undefined ? all(page as P) : one({ ...(page as P), namespace: ns })) as Promise<Page>;
  const kinds: [string, Lister, (o: ObjectLike) => PodSpecLike[]][] = [
    ['Pod', scoped((p) => core.listPodForAllNamespaces(p), (p) => core.listNamespacedPod(p)), (o) => [o.spec as PodSpecLike]],
    ['Deployment', scoped((p) => apps.listDeploymentForAllNamespaces(p), (p) => apps.listNamespacedDeployment(p)), template],
    ['ReplicaSet', scoped((p) => apps.listReplicaSetForAllNamespaces(p), (p) => apps.listNamespacedReplicaSet(p)), template],
    ['StatefulSet', scoped((p) => apps.listStatefulSetForAllNamespaces(p), (p) => apps.listNamespacedStatefulSet(p)), template],
    ['DaemonSet', scoped((p) => apps.listDaemonSetForAllNamespaces(p), (p) => apps.listNamespacedDaemonSet(p)), template],
    ['Job', scoped((p) => batch.listJobForAllNamespaces(p), (p) => batch.listNamespacedJob(p)), template],
    ['CronJob', scoped((p) => batch.listCronJobForAllNamespaces(p), (p) => batch.listNamespacedCronJob(p)), (o) => [(o.spec as { jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } } } | undefined)?.jobTemplate?.spec?.template?.spec ?? {}]],
  ];
  const images: InUseImage[] = [];
  for (const [kind, list, specsOf] of kinds) {
    for (const item of await listAll(kind, list)) {
      const by = `${kind} ${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
      for (const spec of specsOf(item)) for (const image of specImages(spec)) images.push({ image, by });
      if (kind === 'Pod') for (const image of runningDigests(item.status as StatusLike | undefined)) images.push({ image, by });
    }
  }
  return images;
}

/** The kubeconfig files to read: the rule's, else $KUBECONFIG's (path-list, merged as kubectl does), else ~/.kube/config. */
function kubeconfigFiles(source: KubernetesSource, env: Readonly<Record<string, string | undefined>>): string[] {
  if (source.kubeconfig !== undefined) return [source.kubeconfig];
  const fromEnv = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter((f) => f !== '');
  if (fromEnv.length > 0) return fromEnv;
  const home = env['HOME'];
  if (home === undefined || home === '') throw new RegplanError('no kubeconfig: KUBECONFIG and HOME are unset', { hint: 'set inUse.kubernetes.kubeconfig' });
  return [path.join(home, '.kube', 'config')];
}

async function listAll(kind: string, list: Lister): Promise<ObjectLike[]> {
  const items: ObjectLike[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    let page: Page;
    try {
      page = await list({ limit: KUBERNETES_PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }) });
    } catch (error) {
      throw kubernetesError(kind, error);
    }
    items.push(...(page.items ?? []));
    token = page.metadata?._continue || undefined;
    if (token !== undefined) {
      if (seen.has(token)) throw new RegplanError(`listing ${kind}s repeated a continue token: the cluster's answer is inconsistent`, { hint: 'retry the plan' });
      seen.add(token);
    }
  } while (token !== undefined);
  return items;
}

function kubernetesError(kind: string, error: unknown): RegplanError {
  const code = (error as { code?: unknown }).code;
  if (code === 401 || code === 403) {
    return new RegplanError(`listing ${kind}s was refused (HTTP ${code})`, {
      hint: 'the kubeconfig user needs get/list on pods, deployments, replicasets, statefulsets, daemonsets, jobs and cronjobs (a ClusterRole, or a Role with inUse.kubernetes.namespace)',
      cause: error,
    });
  }
  const what = typeof code === 'number' ? `HTTP ${code}` : (error as Error).message;
  return new RegplanError(`listing ${kind}s failed: ${what}`, { hint: 'check that the cluster is reachable with this kubeconfig (kubectl get pods -A)', cause: error });
}

function template(o: ObjectLike): PodSpecLike[] {
  return [(o.spec as { template?: { spec?: PodSpecLike } } | undefined)?.template?.spec ?? {}];
}

function specImages(spec: PodSpecLike | undefined): string[] {
  if (spec === undefined) return [];
  return [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]
    .map((c) => c.image)
    .filter((image): image is string => typeof image === 'string' && image !== '');
}

/** What pods really run: `imageID` as `repo@sha256:…` (a `docker-pullable://` prefix dropped; bare config IDs skipped). */
function runningDigests(status: StatusLike | undefined): string[] {
  if (status === undefined) return [];
  return [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])]
    .map((c) => (c.imageID ?? '').replace(/^docker-pullable:\/\//, ''))
    .filter((id) => id.includes('@sha256:'));
}
