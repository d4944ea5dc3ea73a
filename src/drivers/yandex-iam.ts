/**
 * Where the Yandex driver gets its IAM token (reference §3.11), in this order: REGPLAN_REPO_YANDEX_IAM_TOKEN; an
 * OAuth token (REGPLAN_REPO_YANDEX_OAUTH_TOKEN) exchanged at `POST <iam>/tokens {yandexPassportOauthToken}`; a
 * service account's authorized key (REGPLAN_REPO_YANDEX_PRIVATE_KEY, the key file's JSON) exchanged as a
 * PS256-signed JWT at `POST <iam>/tokens {jwt}`; else the Docker login to the registry, as Yandex's own logins name
 * it: `iam` + IAM token, `oauth` + OAuth token, `json_key` + the authorized key JSON. Every secret met is handed back
 * so the API clients can mask it.
 */
import { createPrivateKey, sign, constants } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { CredentialsError, RegplanError } from '../errors.ts';
import type { RetryOptions } from '../registry/http.ts';
import type { DriverContext } from './driver.ts';
import { NativeApi } from './native-api.ts';

/** The env vars (and `--repo-…` flags) of the Yandex credentials. */
export const YANDEX_ENV = {
  iamToken: 'REGPLAN_REPO_YANDEX_IAM_TOKEN',
  oauthToken: 'REGPLAN_REPO_YANDEX_OAUTH_TOKEN',
  serviceAccountKey: 'REGPLAN_REPO_YANDEX_PRIVATE_KEY',
  operationUrl: 'REGPLAN_REPO_YANDEX_OPERATION_URL',
  iamUrl: 'REGPLAN_REPO_YANDEX_IAM_URL',
} as const;

/** Yandex's IAM API, where tokens are issued (and the audience of a service account's JWT). */
export const YANDEX_IAM_URL = 'https://iam.api.cloud.yandex.net/iam/v1';

/** An IAM token and the secrets it came from. */
export interface IamToken {
  token: string;
  secrets: string[];
}

/** The fields of an authorized key file regplan uses. */
interface AuthorizedKey {
  id: string;
  service_account_id: string;
  private_key: string;
}

/**
 * The JWT Yandex exchanges for a service account's IAM token: PS256 over `{typ, alg, kid}` and `{iss, aud, iat, exp}`
 * (an hour at most). The key file's `private_key` may start with a "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA
 * Key ID …" line before the PEM block; it is not part of the key.
 */
export function serviceAccountJwt(key: AuthorizedKey, options: { audience: string; nowSeconds: number }): string {
  const pem = key.private_key.slice(Math.max(0, key.private_key.indexOf('-----BEGIN')));
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ typ: 'JWT', alg: 'PS256', kid: key.id })}.${part({ iss: key.service_account_id, aud: options.audience, iat: options.nowSeconds, exp: options.nowSeconds + 3600 })}`;
  const signature = sign('sha256', Buffer.from(unsigned), { key: createPrivateKey(pem), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return `${unsigned}.${signature.toString('base64url')}`;
}

/** Reads an authorized key's JSON; a malformed one is a CredentialsError naming where it came from, never its content. */
function parseAuthorizedKey(text: string, source: string, host: string): AuthorizedKey {
  let data: Partial<Record<keyof AuthorizedKey, unknown>> | undefined;
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    data = undefined;
  }
  if (typeof data?.id !== 'string' || typeof data.service_account_id !== 'string' || typeof data.private_key !== 'string') {
    throw new CredentialsError(`the Yandex service account key from ${source} is not an authorized key file's JSON (id, service_account_id, private_key)`, {
      hint: 'create one with "yc iam key create --service-account-name <name> -o key.json" and pass the file\'s content',
      context: { registry: host },
    });
  }
  return { id: data.id, service_account_id: data.service_account_id, private_key: data.private_key };
}

/** The IAM token from the first source set (see the module comment); undefined when none is. */
export async function yandexIamToken(context: DriverContext, options: { insecure: boolean; retry?: RetryOptions; debug?: (line: string) => void }): Promise<IamToken | undefined> {
  const read = async (env: string) => (await context.nativeSecret(env))?.trim() || undefined;
  const iam = await read(YANDEX_ENV.iamToken);
  if (iam !== undefined) return { token: iam, secrets: [iam] };
  let oauth = await read(YANDEX_ENV.oauthToken);
  let keyText = oauth === undefined ? await read(YANDEX_ENV.serviceAccountKey) : undefined;
  let keySource = `$${YANDEX_ENV.serviceAccountKey}`;
  if (oauth === undefined && keyText === undefined) {
    const login = await context.credentials();
    if (login?.username === 'iam' && login.password) return { token: login.password, secrets: [login.password] };
    if (login?.username === 'oauth' && login.password) oauth = login.password;
    if (login?.username === 'json_key' && login.password) {
      keyText = login.password;
      keySource = `the Docker login to ${context.host} (json_key)`;
    }
  }
  if (oauth === undefined && keyText === undefined) return undefined;
  const iamUrl = (await read(YANDEX_ENV.iamUrl)) ?? YANDEX_IAM_URL;
  const what = oauth !== undefined ? `the OAuth token (${YANDEX_ENV.oauthToken} or the "oauth" Docker login)` : `the service account key from ${keySource}`;
  const exchange = new NativeApi({
    base: iamUrl,
    title: 'Yandex IAM API',
    insecure: options.insecure,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.debug === undefined ? {} : { debug: options.debug }),
    authHint: `Yandex refused to exchange ${what} for an IAM token: check it is current (OAuth tokens live a year; a deleted key stops working)`,
  });
  let body: Record<string, string>;
  if (oauth !== undefined) {
    exchange.addSecret(oauth);
    body = { yandexPassportOauthToken: oauth };
  } else {
    const key = parseAuthorizedKey(keyText ?? '', keySource, context.host);
    exchange.addSecret(keyText);
    exchange.addSecret(key.private_key);
    const jwt = serviceAccountJwt(key, { audience: `${YANDEX_IAM_URL}/tokens`, nowSeconds: Math.floor(Date.now() / 1000) });
    exchange.addSecret(jwt);
    body = { jwt };
  }
  const answer = await exchange.request<{ iamToken?: string }>('POST', 'tokens', { body, expect: [200] });
  const token = answer.data?.iamToken;
  if (typeof token !== 'string' || token === '') {
    throw new RegplanError(`the Yandex IAM API answered the exchange of ${what} without an iamToken`, { hint: `check ${YANDEX_ENV.iamUrl}: it must be the IAM API (…/iam/v1)`, context: { registry: context.host } });
  }
  return { token, secrets: [token, ...(oauth === undefined ? [body['jwt'] ?? ''] : [oauth])] };
}
