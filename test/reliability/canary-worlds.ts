/**
 * The canary suite's worlds: for every driver that takes credentials, each way it takes them, an emulator behind
 * the echo proxy, seeded with the shared cleanup scenario, and a directory with the config, the Docker config and
 * the environment regplan runs with. Every secret is a fresh `CANARY~<driver>~<what>~<random>` (`~`, so no piece of
 * it reads like regplan's own text, e.g. a hint naming REGPLAN_REPO_GITHUB_TOKEN); the names and ids around them
 * (usernames, tenants, accounts) are not secrets and stay plain.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NULL_GUID, startAcrEmulator } from '../emulators/acr.ts';
import { startDockerHubEmulator } from '../emulators/dockerhub.ts';
import { startEcrEmulator } from '../emulators/ecr.ts';
import { startGithubEmulator } from '../emulators/github.ts';
import { startGitlabEmulator } from '../emulators/gitlab.ts';
import { startHarborEmulator } from '../emulators/harbor.ts';
import { startMemoryRegistry, type RegistryStore } from '../emulators/memory-registry.ts';
import { startQuayEmulator } from '../emulators/quay.ts';
import { startSelectelEmulator } from '../emulators/selectel.ts';
import { cleanupScenarioConfig, seedCleanupScenario } from '../support/cleanup-scenario.ts';
import { startEchoProxy, type EchoProxy } from './echo-proxy.ts';

/** What a world's emulator setup hands back; URLs are the emulator's own (the world points them at the proxy). */
interface Emulated {
  emulator: { host: string; store: RegistryStore; stop: () => Promise<void> };
  repo: string;
  type: string;
  api?: string;
  /** Extra YAML inside the registry's `{ … }` entry, e.g. `credentials: { … }`. */
  registryYaml?: string;
  /** `auths` entry of the Docker config for the registry host. */
  dockerAuth?: Record<string, string>;
  /** Environment for regplan; `via` turns an emulator URL into the proxy's. */
  env?: (via: (url: string) => string) => Record<string, string>;
  /** Files beside the config (e.g. a password file a `{ file }` reference names). */
  files?: Record<string, string>;
}

/** One way a driver takes credentials. */
export interface WorldSpec {
  driver: string;
  variant: string;
  /** How the credentials must reach the server (the proxy's `carriers`), so each path is known to be echoed. */
  carries: readonly string[];
  /** Starts the emulator; `canary` makes a secret (`sent: false` for one no request carries, e.g. an AWS secret key). */
  setup: (canary: (what: string, options?: { sent?: boolean }) => string) => Promise<Emulated>;
}

/** A world ready to run regplan in. */
export interface CanaryWorld {
  name: string;
  dir: string;
  env: Record<string, string>;
  proxy: EchoProxy;
  /** The secrets planted in this world. */
  canaries: string[];
  /** The planted secrets no request carries (they only sign). */
  unsent: Set<string>;
  /** Files the test wrote (inputs), relative to `dir`: not scanned for canaries. */
  inputs: Set<string>;
  stop(): Promise<void>;
}

const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64');

/** Every credential path of every driver with credentials. */
export const WORLD_SPECS: readonly WorldSpec[] = [
  {
    driver: 'default',
    variant: 'Docker config basic auth, Basic registry',
    carries: ['authorization', 'basic'],
    setup: async (canary) => {
      const password = canary('basic');
      const emulator = await startMemoryRegistry({ auth: { kind: 'basic', users: { ci: password } } });
      return { emulator, repo: 'acme/app', type: 'default', dockerAuth: { auth: basic('ci', password) } };
    },
  },
  {
    driver: 'default',
    variant: 'Docker config basic auth, bearer token server',
    carries: ['authorization', 'basic'],
    setup: async (canary) => {
      const password = canary('bearer-login');
      const emulator = await startMemoryRegistry({ auth: { kind: 'bearer', users: { ci: password } } });
      return { emulator, repo: 'acme/app', type: 'default', dockerAuth: { auth: basic('ci', password) } };
    },
  },
  {
    driver: 'default',
    variant: 'Docker config identitytoken (OAuth2 refresh)',
    carries: ['authorization', 'body'],
    setup: async (canary) => {
      const emulator = await startMemoryRegistry({ auth: { kind: 'bearer', users: { ci: `unused-${randomBytes(6).toString('hex')}` } } });
      return { emulator, repo: 'acme/app', type: 'default', dockerAuth: { identitytoken: emulator.auth.issueRefreshToken('ci', canary('identitytoken')) } };
    },
  },
  {
    driver: 'default',
    variant: 'Docker config registrytoken (bearer)',
    carries: ['authorization'],
    setup: async (canary) => {
      const emulator = await startMemoryRegistry({ auth: { kind: 'bearer', users: {} } });
      const token = canary('registrytoken');
      emulator.auth.tokens.set(token, { user: 'ci', scopes: ['repository:acme/app:*'] });
      return { emulator, repo: 'acme/app', type: 'default', dockerAuth: { registrytoken: token } };
    },
  },
  {
    driver: 'dockerhub',
    variant: 'Hub token',
    carries: ['authorization'],
    setup: async (canary) => {
      const emulator = await startDockerHubEmulator({ accounts: { acme: { password: `unused-${randomBytes(6).toString('hex')}` } } });
      const token = emulator.issueToken('acme', 'password', canary('token'));
      return { emulator, repo: 'acme/app', type: 'dockerhub', api: emulator.api, env: () => ({ REGPLAN_REPO_DOCKER_HUB_TOKEN: token }) };
    },
  },
  {
    driver: 'dockerhub',
    variant: 'username + password login',
    carries: ['authorization', 'body'],
    setup: async (canary) => {
      const password = canary('password');
      const emulator = await startDockerHubEmulator({ accounts: { acme: { password } } });
      return { emulator, repo: 'acme/app', type: 'dockerhub', api: emulator.api, env: () => ({ REGPLAN_REPO_DOCKER_HUB_USERNAME: 'acme', REGPLAN_REPO_DOCKER_HUB_PASSWORD: password }) };
    },
  },
  {
    driver: 'github',
    variant: 'token',
    carries: ['authorization'],
    setup: async (canary) => {
      const token = canary('token');
      const emulator = await startGithubEmulator({ tokens: { [token]: { login: 'octo', scopes: ['read:packages', 'delete:packages'] } } });
      return { emulator, repo: 'acme/app', type: 'github', api: emulator.apiUrl, env: () => ({ REGPLAN_REPO_GITHUB_TOKEN: token }) };
    },
  },
  {
    driver: 'gitlab',
    variant: 'private token',
    carries: ['private-token'],
    setup: async (canary) => {
      const token = canary('private-token');
      const emulator = await startGitlabEmulator({ projects: [{ id: 42, path: 'acme/platform' }], tokens: { [token]: 'api' } });
      return { emulator, repo: 'acme/platform/app', type: 'gitlab', api: emulator.url, env: () => ({ REGPLAN_REPO_GITLAB_TOKEN: token }) };
    },
  },
  {
    driver: 'gitlab',
    variant: 'CI_JOB_TOKEN in GitLab CI',
    carries: ['job-token'],
    setup: async (canary) => {
      const token = canary('job-token');
      const emulator = await startGitlabEmulator({ projects: [{ id: 42, path: 'acme/platform' }], jobTokens: { [token]: 42 } });
      return { emulator, repo: 'acme/platform/app', type: 'gitlab', api: emulator.url, env: () => ({ GITLAB_CI: 'true', CI_JOB_TOKEN: token }) };
    },
  },
  {
    driver: 'harbor',
    variant: 'username from env, password from a { file } reference, and the Docker login',
    carries: ['authorization', 'basic'],
    setup: async (canary) => {
      const password = canary('password');
      const emulator = await startHarborEmulator({ users: { harboruser: password } });
      return {
        emulator,
        repo: 'acme/team/app',
        type: 'harbor',
        api: emulator.apiBase,
        registryYaml: 'credentials: { username: { env: HARBOR_USER }, password: { file: ./harbor-password } }',
        files: { 'harbor-password': `${password}\n` },
        dockerAuth: { auth: basic('harboruser', password) },
        env: () => ({ HARBOR_USER: 'harboruser' }),
      };
    },
  },
  {
    driver: 'quay',
    variant: 'OAuth token',
    carries: ['authorization'],
    setup: async (canary) => {
      const token = canary('token');
      const emulator = await startQuayEmulator({ token });
      return { emulator, repo: 'acme/charts/web', type: 'quay', api: emulator.api, env: () => ({ REGPLAN_REPO_QUAY_TOKEN: token }) };
    },
  },
  {
    driver: 'acr',
    variant: 'service principal client secret',
    carries: ['authorization', 'body'],
    setup: async (canary) => {
      const clientSecret = canary('client-secret');
      const emulator = await startAcrEmulator({ identities: { principals: [{ tenant: 'canary-tenant', clientId: 'regplan-cleanup', clientSecret }] }, pageSize: 3 });
      return {
        emulator,
        repo: 'team/services/app',
        type: 'acr',
        api: emulator.url,
        env: (via) => ({ AZURE_CLIENT_ID: 'regplan-cleanup', AZURE_TENANT_ID: 'canary-tenant', AZURE_CLIENT_SECRET: clientSecret, AZURE_AUTHORITY_HOST: via(emulator.authorityHost) }),
      };
    },
  },
  {
    driver: 'acr',
    variant: 'Docker login refresh token (az acr login)',
    carries: ['authorization', 'body'],
    setup: async (canary) => {
      const emulator = await startAcrEmulator({ identities: { principals: [{ tenant: 'canary-tenant', clientId: 'regplan-cleanup' }] }, pageSize: 3 });
      const refresh = emulator.auth.issueRefreshToken('regplan-cleanup', canary('refresh-token'));
      return { emulator, repo: 'team/services/app', type: 'acr', api: emulator.url, dockerAuth: { auth: basic(NULL_GUID, refresh) } };
    },
  },
  {
    driver: 'selectel',
    variant: 'account, username and password for an X-Auth-Token',
    carries: ['x-auth-token', 'body'],
    setup: async (canary) => {
      const user = { account: '204060', username: 'ci-cleaner', password: canary('password'), project: { name: 'web', id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' } };
      const emulator = await startSelectelEmulator({ user, requireProjectScope: true });
      return {
        emulator,
        repo: 'acme/app',
        type: 'selectel',
        api: emulator.api,
        env: (via) => ({
          REGPLAN_REPO_SELECTEL_ACCOUNT: user.account,
          REGPLAN_REPO_SELECTEL_USERNAME: user.username,
          REGPLAN_REPO_SELECTEL_PASSWORD: user.password,
          REGPLAN_REPO_SELECTEL_PROJECT: user.project.name,
          REGPLAN_REPO_SELECTEL_IDENTITY_URL: via(emulator.identity),
        }),
      };
    },
  },
  {
    driver: 'ecr',
    variant: 'AWS access key, secret key and session token (the real @aws-sdk/client-ecr)',
    carries: ['authorization', 'x-amz-security-token'],
    setup: async (canary) => {
      const key = { accessKeyId: canary('key-id'), secretAccessKey: canary('secret-key', { sent: false }) };
      const sessionToken = canary('session-token');
      const emulator = await startEcrEmulator({ keys: [key] });
      return {
        emulator,
        repo: 'acme/app',
        type: 'ecr',
        api: emulator.api,
        env: () => ({ AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_REGION: emulator.region }),
      };
    },
  },
];

/** Starts a world: emulator, echo proxy in front of it, seeded scenario, config and Docker config naming the proxy. */
export async function openWorld(spec: WorldSpec): Promise<CanaryWorld> {
  const canaries: string[] = [];
  const unsent = new Set<string>();
  const canary = (what: string, options: { sent?: boolean } = {}): string => {
    const value = `CANARY~${spec.driver}~${what.replaceAll('-', '~')}~${randomBytes(8).toString('hex')}`;
    canaries.push(value);
    if (options.sent === false) unsent.add(value);
    return value;
  };
  const emulated = await spec.setup(canary);
  const proxy = await startEchoProxy(emulated.emulator.host);
  seedCleanupScenario(emulated.emulator.store, emulated.repo);
  const dir = await mkdtemp(path.join(tmpdir(), `regplan-canary-${spec.driver}-`));
  const host = proxy.host;
  const entry = [`type: ${emulated.type}`, ...(emulated.api === undefined ? [] : [`api: "${proxy.via(emulated.api)}"`]), ...(emulated.registryYaml === undefined ? [] : [emulated.registryYaml])];
  const config = cleanupScenarioConfig({ host, type: emulated.type, api: 'API', repo: emulated.repo }).replace(
    `  "${host}": { type: ${emulated.type}, api: "API" }`,
    `  "${host}": { ${entry.join(', ')} }`,
  );
  if (!config.includes(entry.join(', '))) throw new Error('the scenario config changed shape; update openWorld');
  const inputs = new Set(['registry.config.yaml', path.join('docker', 'config.json')]);
  await writeFile(path.join(dir, 'registry.config.yaml'), config);
  await mkdir(path.join(dir, 'docker'));
  await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: emulated.dockerAuth === undefined ? {} : { [host]: emulated.dockerAuth } }));
  for (const [name, text] of Object.entries(emulated.files ?? {})) {
    await writeFile(path.join(dir, name), text);
    inputs.add(name);
  }
  const env = {
    HOME: dir,
    DOCKER_CONFIG: path.join(dir, 'docker'),
    REGPLAN_CACHE_DIR: path.join(dir, 'cache'),
    PATH: '/nonexistent',
    NO_COLOR: '1',
    ...emulated.env?.(proxy.via),
  };
  return {
    name: `${spec.driver} (${spec.variant})`,
    dir,
    env,
    proxy,
    canaries,
    unsent,
    inputs,
    stop: async () => {
      await proxy.stop();
      await emulated.emulator.stop();
    },
  };
}
