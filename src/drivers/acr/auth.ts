/**
 * ACR's token exchange without the `az` CLI (Azure/acr docs/AAD-OAuth.md, reference §3.2). One identity per
 * registry, chosen once: a service principal from the standard Azure env (AZURE_CLIENT_ID + AZURE_TENANT_ID +
 * AZURE_CLIENT_SECRET, or AZURE_FEDERATED_TOKEN_FILE for workload identity), whose Entra ID token
 * (client-credentials flow at AZURE_AUTHORITY_HOST, default https://login.microsoftonline.com) is exchanged at
 * `POST /oauth2/exchange` for an ACR refresh token; else the Docker config's login for the registry (the null-GUID
 * user or an identity token = a refresh token; a registry token as is; any other user = admin user or token
 * password, sent as Basic to `GET /oauth2/token`). Refresh tokens and Basic logins become per-repository access
 * tokens for `repository:<name>:metadata_read,delete`.
 */
import type { Credential } from '../../credentials/types.ts';
import { CredentialsError, RegplanError } from '../../errors.ts';
import { readTextFile } from '../../runtime.ts';
import { basicAuthorization, NativeApi } from '../native-api.ts';

/** The user name ACR logins carry when the password is a refresh token (`az acr login`, Docker's identity token). */
export const NULL_GUID = '00000000-0000-0000-0000-000000000000';
/** The Entra ID scope of ACR's data plane (public cloud). */
export const ACR_AAD_SCOPE = 'https://containerregistry.azure.net/.default';
/** Where Entra ID lives unless AZURE_AUTHORITY_HOST says otherwise (sovereign clouds, tests). */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/** The env names of the service principal, in the order their absence is reported. */
export const AZURE_ENV = { clientId: 'AZURE_CLIENT_ID', tenantId: 'AZURE_TENANT_ID', clientSecret: 'AZURE_CLIENT_SECRET', federatedTokenFile: 'AZURE_FEDERATED_TOKEN_FILE', authorityHost: 'AZURE_AUTHORITY_HOST' } as const;

/** What to tell a user whose ACR identity was refused or lacks rights. */
export const ACR_AUTH_HINT =
  'give the identity the AcrDelete role (or Contributor) on the registry, and check AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET ' +
  '(a service principal) or the Docker login of the registry ("az acr login", "docker login" with an admin user or token)';

/** How the identity is reached. */
export interface AcrAuthOptions {
  /** Login server, e.g. `myreg.azurecr.io` (the `service` of token requests). */
  host: string;
  /** Base of the registry's own endpoints (`/oauth2/*`). */
  base: string;
  insecure: boolean;
  /** Docker config credentials for the host. */
  credentials: () => Promise<Credential | undefined>;
  /** Reads an env var (or the config reference) by name. */
  nativeSecret: (env: string) => Promise<string | undefined>;
  debug?: (line: string) => void;
}

/** The identity in use: a refresh token, a Basic login, or a ready access token. */
type Identity =
  | { kind: 'refresh'; refreshToken: string; source: string }
  | { kind: 'basic'; username: string; password: string; source: string }
  | { kind: 'bearer'; token: string; source: string };

/** The token scope regplan asks for a repository: read its metadata and delete in it. */
const repositoryScope = (name: string): string => `repository:${name}:metadata_read,delete`;

/** Access tokens for one registry, per scope (a repository's, or the catalog's), from the identity chosen once. */
export class AcrTokens {
  readonly #options: AcrAuthOptions;
  readonly #apis: NativeApi[] = [];
  readonly #secrets: string[] = [];
  readonly #tokens = new Map<string, Promise<string>>();
  #identity: Promise<Identity> | undefined;
  #oauth: NativeApi | undefined;

  constructor(options: AcrAuthOptions) {
    this.#options = options;
  }

  /** Registers a client whose messages must mask every secret this identity handles (now and later). */
  guard(api: NativeApi): NativeApi {
    this.#apis.push(api);
    for (const secret of this.#secrets) api.addSecret(secret);
    return api;
  }

  /** An access token for `repository:<name>:metadata_read,delete` (cached until `forget`). */
  accessToken(name: string): Promise<string> {
    return this.scopedToken(repositoryScope(name));
  }

  /** An access token for one token-server scope, e.g. `registry:catalog:*` (cached until `forgetScope`). */
  scopedToken(scope: string): Promise<string> {
    let token = this.#tokens.get(scope);
    if (token === undefined) {
      token = this.#fetchAccessToken(scope);
      this.#tokens.set(scope, token);
      token.catch(() => this.#tokens.delete(scope));
    }
    return token;
  }

  /** Drops a repository's cached token (the registry refused it, e.g. it expired). */
  forget(name: string): void {
    this.forgetScope(repositoryScope(name));
  }

  /** Drops the cached token of one scope. */
  forgetScope(scope: string): void {
    this.#tokens.delete(scope);
  }

  /**
   * The service principal as a Docker-style credential for the Registry API (a refresh token, which the token
   * server takes as `grant_type=refresh_token`); undefined when no service principal is configured.
   */
  async registryCredential(): Promise<Credential | undefined> {
    if (!(await this.#servicePrincipalConfigured())) return undefined;
    const identity = await this.#resolve();
    return identity.kind === 'refresh' ? { username: NULL_GUID, identityToken: identity.refreshToken, source: identity.source } : undefined;
  }

  #remember(secret: string | undefined): void {
    if (secret === undefined || secret === '') return;
    this.#secrets.push(secret);
    for (const api of this.#apis) api.addSecret(secret);
  }

  async #servicePrincipalConfigured(): Promise<boolean> {
    return (await this.#options.nativeSecret(AZURE_ENV.clientId)) !== undefined;
  }

  #resolve(): Promise<Identity> {
    this.#identity ??= this.#chooseIdentity();
    return this.#identity;
  }

  async #chooseIdentity(): Promise<Identity> {
    const { host } = this.#options;
    if (await this.#servicePrincipalConfigured()) return this.#servicePrincipal();
    const credential = await this.#options.credentials();
    for (const secret of [credential?.password, credential?.identityToken, credential?.registryToken]) this.#remember(secret);
    const source = credential === undefined ? '' : `the Docker login (${credential.source})`;
    if (credential?.identityToken) return { kind: 'refresh', refreshToken: credential.identityToken, source };
    if (credential?.username === NULL_GUID && credential.password) return { kind: 'refresh', refreshToken: credential.password, source };
    if (credential?.registryToken) return { kind: 'bearer', token: credential.registryToken, source };
    if (credential?.username && credential.password) return { kind: 'basic', username: credential.username, password: credential.password, source };
    throw new CredentialsError(`cannot clean up "${host}": the ACR API needs credentials and none were found`, {
      hint:
        `set ${AZURE_ENV.clientId}, ${AZURE_ENV.tenantId} and ${AZURE_ENV.clientSecret} (or ${AZURE_ENV.federatedTokenFile}) for a service principal ` +
        `with the AcrDelete role, or log in to the registry ("az acr login --name ${host.replace(/\.azurecr\.io(:\d+)?$/, '')}" or "docker login ${host}")`,
      context: { registry: host },
    });
  }

  /** Entra ID client-credentials token -> `POST /oauth2/exchange` -> ACR refresh token. */
  async #servicePrincipal(): Promise<Identity> {
    const { nativeSecret, host } = this.#options;
    const clientId = await nativeSecret(AZURE_ENV.clientId);
    const tenant = await nativeSecret(AZURE_ENV.tenantId);
    const secret = await nativeSecret(AZURE_ENV.clientSecret);
    const tokenFile = await nativeSecret(AZURE_ENV.federatedTokenFile);
    this.#remember(secret);
    const missing = [clientId === undefined ? AZURE_ENV.clientId : '', tenant === undefined ? AZURE_ENV.tenantId : '', secret === undefined && tokenFile === undefined ? `${AZURE_ENV.clientSecret} (or ${AZURE_ENV.federatedTokenFile})` : ''].filter((m) => m !== '');
    if (clientId === undefined || tenant === undefined || missing.length > 0) {
      throw new CredentialsError(`cannot use the Azure service principal for "${host}": ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set`, {
        hint: `set all of ${AZURE_ENV.clientId}, ${AZURE_ENV.tenantId} and ${AZURE_ENV.clientSecret} (managed identity without a secret is not supported; use "az acr login" or "docker login" then, and unset ${AZURE_ENV.clientId})`,
        context: { registry: host },
      });
    }
    const authority = (await nativeSecret(AZURE_ENV.authorityHost)) ?? DEFAULT_AUTHORITY_HOST;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: ACR_AAD_SCOPE });
    if (secret !== undefined) form.set('client_secret', secret);
    else {
      const assertion = await readFederatedToken(tokenFile ?? '', host);
      this.#remember(assertion);
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', assertion);
    }
    const aad = this.guard(this.#api(authority, 'Microsoft Entra ID', `check ${AZURE_ENV.clientId}, ${AZURE_ENV.tenantId} and ${AZURE_ENV.clientSecret} of the service principal`));
    const answer = await aad.request<{ access_token?: unknown }>('POST', `${encodeURIComponent(tenant)}/oauth2/v2.0/token`, { form, subject: `client-credentials token of ${clientId} in tenant ${tenant}` });
    const aadToken = stringField(answer.data?.access_token, 'Microsoft Entra ID answered without an access_token', host);
    this.#remember(aadToken);
    const exchange = new URLSearchParams({ grant_type: 'access_token', service: host, tenant, access_token: aadToken });
    const exchanged = await this.#oauthApi().request<{ refresh_token?: unknown }>('POST', 'oauth2/exchange', { form: exchange, subject: `token exchange for ${clientId}` });
    const refreshToken = stringField(exchanged.data?.refresh_token, `${host} answered the token exchange without a refresh_token`, host);
    this.#remember(refreshToken);
    this.#options.debug?.(`acr: service principal ${clientId} exchanged for an ACR refresh token at ${host}`);
    return { kind: 'refresh', refreshToken, source: `the service principal ${AZURE_ENV.clientId}=${clientId}` };
  }

  async #fetchAccessToken(scope: string): Promise<string> {
    const identity = await this.#resolve();
    if (identity.kind === 'bearer') return identity.token;
    const { host } = this.#options;
    const subject = `token for ${scope} (${identity.source})`;
    let answer;
    if (identity.kind === 'refresh') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', service: host, scope, refresh_token: identity.refreshToken });
      answer = await this.#oauthApi().request<{ access_token?: unknown }>('POST', 'oauth2/token', { form, subject });
    } else {
      const basic = this.guard(this.#api(this.#options.base, 'ACR token service', ACR_AUTH_HINT, basicAuthorization(identity.username, identity.password)));
      answer = await basic.request<{ access_token?: unknown }>('GET', 'oauth2/token', { query: { service: host, scope }, subject });
    }
    const token = stringField(answer.data?.access_token, `${host} answered the token request without an access_token`, host);
    this.#remember(token);
    return token;
  }

  #oauthApi(): NativeApi {
    this.#oauth ??= this.guard(this.#api(this.#options.base, 'ACR token service', ACR_AUTH_HINT));
    return this.#oauth;
  }

  #api(base: string, title: string, authHint: string, authorization?: string): NativeApi {
    const { insecure, debug } = this.#options;
    return new NativeApi({
      base,
      title,
      authHint,
      insecure,
      ...(authorization === undefined ? {} : { authorization: async () => authorization }),
      ...(debug === undefined ? {} : { debug }),
    });
  }
}

/** The workload-identity token (a JWT in a file Kubernetes refreshes), read fresh. */
async function readFederatedToken(file: string, host: string): Promise<string> {
  try {
    return (await readTextFile(file)).trim();
  } catch (error) {
    throw new CredentialsError(`cannot read ${AZURE_ENV.federatedTokenFile} "${file}" for "${host}": ${(error as Error).message}`, {
      hint: `point ${AZURE_ENV.federatedTokenFile} at the projected service account token, or set ${AZURE_ENV.clientSecret} instead`,
      context: { registry: host, file },
    });
  }
}

/** A non-empty string from a token answer, or an error saying the answer was unusable. */
function stringField(value: unknown, message: string, host: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw new RegplanError(message, { hint: 'check registries.<host>.api points at the registry itself; run with --debug to see the requests', context: { registry: host } });
}
