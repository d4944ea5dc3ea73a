/**
 * Starts a real CNCF distribution registry (Debian's `docker-registry` 2.8) on a free 127.0.0.1 port for
 * integration tests: storage in a temp dir, delete enabled, and no auth, htpasswd Basic auth or token auth
 * (with the token server from ./token-server.ts). Every registry started is also killed, and its temp dirs
 * removed, when the test process exits or is interrupted, so a failing test leaves nothing running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FULL_ACCESS_USER, READ_ONLY_USER, randomPassword, startTokenServer, type TokenServer } from './token-server.ts';

/** Which authentication the registry demands. */
export type RegistryAuthMode = 'none' | 'basic' | 'token';

/** Options for `startRegistry`. (distribution 2.8 has no `tags.maxtags`, so tag-page clamping is not offered.) */
export interface StartRegistryOptions {
  auth: RegistryAuthMode;
  /**
   * Serve this storage directory (distribution's filesystem `rootdirectory`) instead of a fresh one, so a
   * benchmark can write 100,000 tags straight onto disk first; the caller owns it and it is not removed on stop.
   */
  storageRoot?: string;
}

/** A username and password accepted by a test registry. */
export interface TestAccount {
  username: string;
  password: string;
}

/** A running test registry and everything a test needs to talk to it. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, plain http. */
  host: string;
  auth: RegistryAuthMode;
  /** The full-access account (basic and token modes). */
  username?: string;
  password?: string;
  /** A pull-only account (token mode; htpasswd has no per-user rights). */
  reader?: TestAccount;
  /** The token server (token mode), with its request log. */
  tokenServer?: TokenServer;
  /** A temp Docker config directory whose config.json holds `auths[host]` for the full-access account. */
  dockerConfigDir: string;
  /** Process id of the registry, for tests that check it is gone. */
  pid: number;
  /** skopeo flags for this registry: `--tls-verify=false` plus `--creds` when needed; `role` gives copy's --src-/--dest- forms. */
  skopeoArgs(role?: 'src' | 'dest'): string[];
  /** The last lines the registry logged, for debugging a failing test. */
  logs(): string;
  /** Kills the registry and removes its temp dirs; safe to call twice. */
  stop(): Promise<void>;
}

const liveCleanups = new Set<() => void>();
let exitHooksInstalled = false;

/** Kills leftover registries synchronously when the test process ends, however it ends. */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const cleanAll = (): void => {
    for (const cleanup of [...liveCleanups]) cleanup();
  };
  process.on('exit', cleanAll);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      cleanAll();
      process.exit(code);
    });
  }
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const STD_BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * One htpasswd line with a bcrypt hash (the only kind distribution accepts). bcrypt comes from the system's
 * crypt(3) (libxcrypt, always present on Debian) through perl, which is Essential on Debian: no extra package.
 */
export function htpasswdLine(username: string, password: string): string {
  const salt = [...randomBytes(16).toString('base64').slice(0, 22)].map((c) => BCRYPT_ALPHABET[STD_BASE64.indexOf(c)]).join('');
  const result = spawnSync('perl', ['-e', 'my $p = <STDIN>; chomp $p; print crypt($p, $ARGV[0]) // ""', `$2b$05$${salt}`], {
    input: `${password}\n`,
    encoding: 'utf8',
  });
  const hash = result.stdout ?? '';
  if (result.status !== 0 || !/^\$2b\$05\$[./A-Za-z0-9]{53}$/.test(hash)) {
    throw new Error(`cannot make a bcrypt htpasswd entry with perl crypt(): ${result.error?.message ?? (result.stderr || 'no bcrypt support in crypt(3)')}`);
  }
  return `${username}:${hash}\n`;
}

function registryConfig(storageRoot: string, auth: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageRoot)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    '  addr: 127.0.0.1:0',
    `  secret: ${randomBytes(16).toString('hex')}`,
    auth,
  ].join('\n');
}

/** The environment for the registry: REGISTRY_* variables would override the config, so none are passed. */
function registryEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

/** Waits for the "listening on 127.0.0.1:PORT" log line; rejects when the process exits or takes too long. */
function waitForListenAddress(child: ChildProcess, lineListeners: Set<(line: string) => void>, logs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('docker-registry did not start listening within 15s')), 15_000);
    const onLine = (line: string): void => {
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) done(match[1]);
    };
    const onExit = (code: number | null): void => fail(new Error(`docker-registry exited (code ${code}) before listening`));
    const done = (host: string): void => {
      clearTimeout(timer);
      lineListeners.delete(onLine);
      child.off('exit', onExit);
      resolve(host);
    };
    const fail = (error: Error): void => {
      clearTimeout(timer);
      lineListeners.delete(onLine);
      child.off('exit', onExit);
      reject(new Error(`${error.message}\n${logs.join('\n')}`));
    };
    lineListeners.add(onLine);
    child.once('exit', onExit);
  });
}

/** Polls `GET /v2/` until the registry answers 200 (open) or 401 (auth required). */
async function waitForApi(host: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`http://${host}/v2/`);
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`registry at ${host} did not answer GET /v2/ within 10s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes a private Docker config directory whose config.json logs `account` into `host`. */
async function writeDockerConfig(dir: string, host: string, account: TestAccount | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const auths = account ? { [host]: { auth: Buffer.from(`${account.username}:${account.password}`).toString('base64') } } : {};
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify({ auths }, null, '\t')}\n`, { mode: 0o600 });
}

/** Starts a registry in the given auth mode on a free loopback port; resolves once `GET /v2/` answers. */
export async function startRegistry(options: StartRegistryOptions): Promise<TestRegistry> {
  installExitHooks();
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-registry-'));
  await chmod(dir, 0o700);
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  const cleanupSync = (): void => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  liveCleanups.add(cleanupSync);
  try {
    let account: TestAccount | undefined;
    let reader: TestAccount | undefined;
    let authSection = '';
    if (options.auth === 'basic') {
      account = { username: FULL_ACCESS_USER, password: randomPassword() };
      const htpasswd = path.join(dir, 'htpasswd');
      await writeFile(htpasswd, htpasswdLine(account.username, account.password), { mode: 0o600 });
      authSection = ['auth:', '  htpasswd:', '    realm: regplan-test', `    path: ${JSON.stringify(htpasswd)}`].join('\n');
    } else if (options.auth === 'token') {
      tokenServer = await startTokenServer({ workDir: dir });
      const full = tokenServer.users[FULL_ACCESS_USER];
      const readOnly = tokenServer.users[READ_ONLY_USER];
      if (full) account = { username: FULL_ACCESS_USER, password: full.password };
      if (readOnly) reader = { username: READ_ONLY_USER, password: readOnly.password };
      authSection = [
        'auth:',
        '  token:',
        `    realm: ${JSON.stringify(tokenServer.realm)}`,
        `    service: ${JSON.stringify(tokenServer.service)}`,
        `    issuer: ${JSON.stringify(tokenServer.issuer)}`,
        `    rootcertbundle: ${JSON.stringify(tokenServer.certFile)}`,
      ].join('\n');
    }
    const configFile = path.join(dir, 'config.yml');
    await writeFile(configFile, `${registryConfig(options.storageRoot ?? path.join(dir, 'data'), authSection)}\n`);

    const logs: string[] = [];
    const lineListeners = new Set<(line: string) => void>();
    const spawned = spawn('docker-registry', ['serve', configFile], { env: registryEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    const startError = new Promise<never>((_, reject) => spawned.once('error', (e) => reject(new Error(`cannot run docker-registry: ${e.message}`))));
    startError.catch(() => {});
    let partial = '';
    const onData = (data: Buffer): void => {
      const lines = (partial + data.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (logs.length > 300) logs.shift();
        for (const listener of lineListeners) listener(line);
      }
    };
    spawned.stdout?.on('data', onData);
    spawned.stderr?.on('data', onData);
    const host = await Promise.race([waitForListenAddress(spawned, lineListeners, logs), startError]);
    await waitForApi(host);

    const dockerConfigDir = path.join(dir, 'docker-config');
    await writeDockerConfig(dockerConfigDir, host, account);
    const stopTokenServer = tokenServer;
    let stopped = false;
    return {
      host,
      auth: options.auth,
      ...(account ? { username: account.username, password: account.password } : {}),
      ...(reader ? { reader } : {}),
      ...(tokenServer ? { tokenServer } : {}),
      dockerConfigDir,
      pid: spawned.pid ?? -1,
      skopeoArgs(role) {
        const prefix = role ? `${role}-` : '';
        return [`--${prefix}tls-verify=false`, ...(account ? [`--${prefix}creds`, `${account.username}:${account.password}`] : [])];
      },
      logs: () => logs.join('\n'),
      async stop() {
        if (stopped) return;
        stopped = true;
        await killAndWait(spawned);
        await stopTokenServer?.stop();
        await rm(dir, { recursive: true, force: true });
        liveCleanups.delete(cleanupSync);
      },
    };
  } catch (e) {
    cleanupSync();
    liveCleanups.delete(cleanupSync);
    await tokenServer?.stop();
    throw e;
  }
}

/** SIGTERM, then SIGKILL after 5s; resolves once the process has exited. */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
