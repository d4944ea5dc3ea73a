/**
 * A fake Kubernetes API server for the `inUse` rule, from the API reference (kubernetes.io/docs/reference/
 * kubernetes-api/ and "API Concepts: Retrieving large results sets in chunks"): list endpoints for Pods
 * (`/api/v1/pods`, `/api/v1/namespaces/{ns}/pods`), Deployments, ReplicaSets, StatefulSets, DaemonSets
 * (`/apis/apps/v1/…`), Jobs and CronJobs (`/apis/batch/v1/…`). Lists honour `limit` and answer `metadata.continue`
 * with an opaque token until the last chunk; a bearer token is required (else a 401 `Status`), and a kind listed in
 * `forbidden` answers 403 `Status` as RBAC does. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A kind's resource path: core (`/api/v1`) or a group (`/apis/apps/v1`). */
const RESOURCES: Record<string, { base: string; plural: string; list: string }> = {
  Pod: { base: '/api/v1', plural: 'pods', list: 'PodList' },
  Deployment: { base: '/apis/apps/v1', plural: 'deployments', list: 'DeploymentList' },
  ReplicaSet: { base: '/apis/apps/v1', plural: 'replicasets', list: 'ReplicaSetList' },
  StatefulSet: { base: '/apis/apps/v1', plural: 'statefulsets', list: 'StatefulSetList' },
  DaemonSet: { base: '/apis/apps/v1', plural: 'daemonsets', list: 'DaemonSetList' },
  Job: { base: '/apis/batch/v1', plural: 'jobs', list: 'JobList' },
  CronJob: { base: '/apis/batch/v1', plural: 'cronjobs', list: 'CronJobList' },
};

/** One object: its kind, namespace, name and spec/status as the API returns them. */
export interface FakeObject {
  kind: keyof typeof RESOURCES;
  namespace: string;
  name: string;
  spec?: unknown;
  status?: unknown;
}

export interface FakeKubernetes {
  url: string;
  token: string;
  /** Every request as `GET <path>?<query>`, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/** A pod spec with these container images. */
export const podSpec = (images: string[], init: string[] = []) => ({ containers: images.map((image, i) => ({ name: `c${i}`, image })), initContainers: init.map((image, i) => ({ name: `i${i}`, image })) });

export async function startFakeKubernetes(objects: FakeObject[], options: { forbidden?: string[] } = {}): Promise<FakeKubernetes> {
  const token = 'fake-kube-token-' + Math.random().toString(36).slice(2);
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) => send(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
    if (req.headers.authorization !== `Bearer ${token}`) return status(401, 'Unauthorized', 'Unauthorized');
    const match = Object.entries(RESOURCES).find(([, r]) => new RegExp(`^${r.base}(/namespaces/([^/]+))?/${r.plural}$`).test(url.pathname));
    if (req.method !== 'GET' || match === undefined) return status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const [kind, resource] = match;
    const namespace = new RegExp(`^${resource.base}/namespaces/([^/]+)/`).exec(url.pathname)?.[1];
    if (options.forbidden?.includes(kind)) {
      return status(403, 'Forbidden', `${resource.plural} is forbidden: User "ci" cannot list resource "${resource.plural}" at the cluster scope`);
    }
    const all = objects.filter((o) => o.kind === kind && (namespace === undefined || o.namespace === namespace));
    const limit = Number(url.searchParams.get('limit') ?? 0) || all.length;
    const start = url.searchParams.has('continue') ? Number(Buffer.from(url.searchParams.get('continue') as string, 'base64url').toString()) : 0;
    const items = all.slice(start, start + limit).map((o) => ({ metadata: { name: o.name, namespace: o.namespace, uid: `${kind}-${o.namespace}-${o.name}` }, spec: o.spec ?? {}, status: o.status ?? {} }));
    const next = start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
    send(200, { kind: resource.list, apiVersion: resource.base === '/api/v1' ? 'v1' : resource.base.slice(6), metadata: { resourceVersion: '1', ...(next === undefined ? {} : { continue: next }) }, items });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A kubeconfig (YAML) for the fake server, one context per entry of `contexts` (plain http needs insecure-skip-tls-verify in the client). */
export function fakeKubeconfig(fake: FakeKubernetes, contexts: string[] = ['fake']): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${contexts[0]}`,
    'clusters:',
    '  - name: fake',
    `    cluster: { server: "${fake.url}", insecure-skip-tls-verify: true }`,
    'users:',
    '  - name: ci',
    `    user: { token: "${fake.token}" }`,
    'contexts:',
    ...contexts.map((name) => `  - name: ${name}\n    context: { cluster: fake, user: ci }`),
    '',
  ].join('\n');
}
