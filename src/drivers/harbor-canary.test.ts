/**
 * The Harbor driver against a Harbor that echoes credentials in its error bodies (the decoded Basic pair, the raw
 * Authorization header, the password): with credentials resolved the way regplan resolves them (the native-secret
 * reader over env/config references, the Docker credential lookup), no error text may carry them. Each scenario
 * uses its own canary, since the secret registry is process-wide.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startHarborEmulator, type HarborEmulator } from '../../test/emulators/harbor.ts';
import { credentialProvider } from '../credentials/lookup.ts';
import type { RegistryCredentialsConfig } from '../config/types.ts';
import { RegplanError } from '../errors.ts';
import type { DriverContext } from './driver.ts';
import { createHarborDriver } from './harbor.ts';
import { nativeSecretReader } from './open.ts';

const USER = 'harboruser';
const REPO = 'acme/app';
const dirs: string[] = [];
test.after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every form the canary may leak in. */
const leakForms = (canary: string): string[] => [canary, `${USER}:${canary}`, Buffer.from(`${USER}:${canary}`).toString('base64').replace(/=+$/, ''), Buffer.from(canary).toString('base64').replace(/=+$/, '')];

/** A Harbor answering every API request that carries credentials with `status`, echoing them back. */
function echoing(status: number, code: string): (req: IncomingMessage) => { status: number; code: string; message: string } | undefined {
  return (req) => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    return { status, code, message: `denied for ${decoded} (header "${header}", password ${password})` };
  };
}

async function world(canary: string, status: number, code: string, how: 'native' | 'docker'): Promise<{ harbor: HarborEmulator; context: DriverContext }> {
  const harbor = await startHarborEmulator({ users: { [USER]: canary }, fault: echoing(status, code) });
  harbor.store.seedImage(REPO, ['pr-1']);
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-harbor-canary-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'harbor-password'), `${canary}\n`);
  const docker = path.join(dir, 'docker');
  await (await import('node:fs/promises')).mkdir(docker);
  await writeFile(path.join(docker, 'config.json'), JSON.stringify({ auths: how === 'docker' ? { [harbor.host]: { auth: Buffer.from(`${USER}:${canary}`).toString('base64') } } : {} }));
  // native: the username from the environment, the password from a { file } reference in the config
  const configured: RegistryCredentialsConfig = { username: { env: 'HARBOR_USER' }, password: { file: './harbor-password' } };
  const context: DriverContext = {
    host: harbor.host,
    type: 'harbor',
    registry: { host: harbor.host, type: 'harbor', insecure: false, api: harbor.apiBase, ...(how === 'native' ? { credentials: configured } : {}) },
    credentials: credentialProvider({ host: harbor.host, name: REPO }, { configDir: docker, env: {} }),
    nativeSecret: nativeSecretReader({ env: { HARBOR_USER: USER }, configDir: dir, ...(how === 'native' ? { configured } : {}) }),
  };
  return { harbor, context };
}

async function assertCleanFailure(canary: string, what: string, run: () => Promise<unknown>): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, RegplanError, `${what}: expected a RegplanError`);
  const e = caught as RegplanError;
  const text = [e.message, e.hint ?? '', JSON.stringify(e.context), String(e), e.stack ?? ''].join('\n');
  assert.match(e.message, /denied for/, `${what}: the echo reached the message (so the test can fail): ${e.message}`);
  for (const form of leakForms(canary)) assert.not.ok(text.includes(form), `${what} leaks ${form}: ${text}`);
}

for (const how of ['native', 'docker'] as const) {
  test(`${how} credentials: listing, untag and delete errors never carry the echoed credentials`, async () => {
    for (const [status, code] of [[500, 'UNKNOWN'], [401, 'UNAUTHORIZED'], [412, 'PRECONDITION']] as const) {
      const canary = `CANARY-${how}-${status}-${Math.random().toString(36).slice(2)}`;
      const { harbor, context } = await world(canary, status, code, how);
      try {
        const driver = createHarborDriver(context);
        if (status !== 412) await assertCleanFailure(canary, `${how} ${status} listTagRecords`, () => driver.listTagRecords(REPO));
        await assertCleanFailure(canary, `${how} ${status} untag`, () => driver.untag(REPO, 'pr-1'));
        await assertCleanFailure(canary, `${how} ${status} deleteManifest`, () => driver.deleteManifest(REPO, `sha256:${'0'.repeat(64)}`));
      } finally {
        await harbor.stop();
      }
    }
  });
}

test.run();
