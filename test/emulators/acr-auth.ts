/**
 * Authentication of the ACR emulator (reference §3.2), from Azure/acr docs/AAD-OAuth.md: an Entra ID (AAD)
 * token endpoint for service principals (client secret or federated token), ACR's `POST /oauth2/exchange`
 * (AAD access token -> ACR refresh token) and `/oauth2/token` (GET with Basic — admin user, or the null-GUID
 * user with a refresh token as password — and POST `grant_type=refresh_token|password`). Access tokens go into
 * the memory registry's token table, so /v2 and /acr/v1 routes check them with its scope rules; each identity
 * gets only the actions its role allows (a reader asking for delete gets a token without it, as ACR does).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteHelpers } from './memory-registry.ts';

/** The user name `az acr login` and ACR's docs use with a refresh token as the password. */
export const NULL_GUID = '00000000-0000-0000-0000-000000000000';
/** The AAD scope (resource) of ACR's data plane. */
export const ACR_AAD_SCOPE = 'https://containerregistry.azure.net/.default';
/** Path prefix of the emulated AAD authority on the same server (AZURE_AUTHORITY_HOST = url + this). */
export const AUTHORITY_PATH = '/aad';

/** What an identity may do: `owner` everything, `reader` pull and metadata_read only. */
export type AcrRole = 'owner' | 'reader';

/** A service principal in a tenant. */
export interface ServicePrincipal {
  tenant: string;
  clientId: string;
  clientSecret?: string;
  /** Workload identity: the federated token (the content of AZURE_FEDERATED_TOKEN_FILE) it accepts. */
  federatedToken?: string;
  role?: AcrRole;
}

/** The identities the emulator knows. */
export interface AcrIdentities {
  /** The admin user (Basic on /oauth2/token); role owner. */
  admin?: { username: string; password: string };
  principals?: readonly ServicePrincipal[];
}

const ACTIONS: Record<AcrRole, readonly string[]> = {
  owner: ['pull', 'push', 'delete', 'metadata_read', 'metadata_write', '*'],
  reader: ['pull', 'metadata_read'],
};

const token = (): string => randomBytes(24).toString('base64url');

/** Form fields of a POST body. */
async function readForm(req: IncomingMessage, helpers: RouteHelpers): Promise<URLSearchParams> {
  return new URLSearchParams(new TextDecoder().decode(await helpers.readBody(req)));
}

/** The AAD and ACR token endpoints of one emulator, with the tokens they issued. */
export class AcrAuth {
  readonly #identities: AcrIdentities;
  /** AAD access tokens -> principal (and the audience asked for). */
  readonly #aadTokens = new Map<string, ServicePrincipal>();
  /** ACR refresh tokens -> identity name and role. */
  readonly #refreshTokens = new Map<string, { user: string; role: AcrRole }>();
  /** Every request the token endpoints answered, as `METHOD path grant_type`, for tests. */
  readonly calls: string[] = [];

  constructor(identities: AcrIdentities) {
    this.#identities = identities;
  }

  /** An ACR refresh token for a principal, as `az acr login` would store it in the Docker config (`refresh` picks its value). */
  issueRefreshToken(clientId: string, refresh = token()): string {
    const principal = this.#identities.principals?.find((p) => p.clientId === clientId);
    if (principal === undefined) throw new Error(`no principal ${clientId}`);
    this.#refreshTokens.set(refresh, { user: clientId, role: principal.role ?? 'owner' });
    return refresh;
  }

  /** Answers AAD and /oauth2 requests; false for any other path. `service` is the registry's login server. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL, helpers: RouteHelpers, service: string): Promise<boolean> {
    const aad = new RegExp(`^${AUTHORITY_PATH}/([^/]+)/oauth2/v2\\.0/token$`).exec(url.pathname);
    if (aad !== null) return await this.#aadToken(req, res, decodeURIComponent(aad[1] ?? ''), helpers), true;
    if (url.pathname === '/oauth2/exchange') return await this.#exchange(req, res, helpers, service), true;
    if (url.pathname === '/oauth2/token') return await this.#acrToken(req, res, url, helpers, service), true;
    return false;
  }

  async #aadToken(req: IncomingMessage, res: ServerResponse, tenant: string, helpers: RouteHelpers): Promise<void> {
    const aadError = (status: number, error: string, description: string) => helpers.sendJson(req, res, status, { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] });
    if (req.method !== 'POST') return aadError(405, 'invalid_request', 'AADSTS900561: The endpoint only accepts POST requests.');
    const form = await readForm(req, helpers);
    this.calls.push(`POST aad ${form.get('grant_type') ?? ''}`);
    const principals = (this.#identities.principals ?? []).filter((p) => p.tenant === tenant);
    if (principals.length === 0) return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const principal = principals.find((p) => p.clientId === clientId);
    if (principal === undefined) return aadError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`);
    if (form.get('scope') !== ACR_AAD_SCOPE) return aadError(400, 'invalid_scope', `AADSTS70011: The provided value for the input parameter 'scope' is not valid.`);
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || assertion !== principal.federatedToken) {
        return aadError(401, 'invalid_client', 'AADSTS700211: No matching federated identity record found for presented assertion issuer.');
      }
    } else if (principal.clientSecret === undefined || form.get('client_secret') !== principal.clientSecret) {
      return aadError(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    const access = token();
    this.#aadTokens.set(access, principal);
    helpers.sendJson(req, res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: access });
  }

  async #exchange(req: IncomingMessage, res: ServerResponse, helpers: RouteHelpers, service: string): Promise<void> {
    if (req.method !== 'POST') return helpers.sendOciError(req, res, 405, 'UNSUPPORTED', 'The requested method is not supported.');
    const form = await readForm(req, helpers);
    this.calls.push(`POST /oauth2/exchange ${form.get('grant_type') ?? ''}`);
    if (form.get('grant_type') !== 'access_token') return helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `grant_type ${form.get('grant_type') ?? '(none)'} is not supported`);
    if (form.get('service') !== service) return helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `service "${form.get('service') ?? ''}" is not this registry`);
    const principal = this.#aadTokens.get(form.get('access_token') ?? '');
    if (principal === undefined || (form.get('tenant') !== null && form.get('tenant') !== principal.tenant)) {
      return helpers.sendOciError(req, res, 401, 'UNAUTHORIZED', 'The access token is invalid or expired.');
    }
    const refresh = token();
    this.#refreshTokens.set(refresh, { user: principal.clientId, role: principal.role ?? 'owner' });
    helpers.sendJson(req, res, 200, { refresh_token: refresh });
  }

  async #acrToken(req: IncomingMessage, res: ServerResponse, url: URL, helpers: RouteHelpers, service: string): Promise<void> {
    const unauthorized = () => helpers.sendOciError(req, res, 401, 'UNAUTHORIZED', 'authentication required, visit https://aka.ms/acr/authorization for more information.');
    let identity: { user: string; role: AcrRole } | undefined;
    let scopes: string[];
    let askedService: string | null;
    if (req.method === 'GET') {
      this.calls.push('GET /oauth2/token');
      scopes = url.searchParams.getAll('scope');
      askedService = url.searchParams.get('service');
      identity = this.#basicIdentity(req);
    } else if (req.method === 'POST') {
      const form = await readForm(req, helpers);
      const grant = form.get('grant_type') ?? '';
      this.calls.push(`POST /oauth2/token ${grant}`);
      scopes = form.getAll('scope');
      askedService = form.get('service');
      if (grant === 'refresh_token') identity = this.#refreshTokens.get(form.get('refresh_token') ?? '');
      else if (grant === 'password') identity = this.#passwordIdentity(form.get('username') ?? '', form.get('password') ?? '');
      else return helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `grant_type ${grant || '(none)'} is not supported`);
    } else {
      return helpers.sendOciError(req, res, 405, 'UNSUPPORTED', 'The requested method is not supported.');
    }
    if (askedService !== service) return helpers.sendOciError(req, res, 400, 'UNSUPPORTED', `service "${askedService ?? ''}" is not this registry`);
    if (identity === undefined) return unauthorized();
    const allowed = ACTIONS[identity.role];
    const granted = scopes
      .flatMap((s) => s.split(' '))
      .filter((s) => s !== '')
      .map((s) => {
        const last = s.lastIndexOf(':');
        const actions = s.slice(last + 1).split(',').filter((a) => allowed.includes(a));
        return actions.length === 0 ? undefined : `${s.slice(0, last)}:${actions.join(',')}`;
      })
      .filter((s): s is string => s !== undefined);
    const access = token();
    helpers.auth.tokens.set(access, { user: identity.user, scopes: granted });
    helpers.sendJson(req, res, 200, { access_token: access });
  }

  #passwordIdentity(username: string, password: string): { user: string; role: AcrRole } | undefined {
    if (username === NULL_GUID) return this.#refreshTokens.get(password);
    const admin = this.#identities.admin;
    if (admin !== undefined && admin.username === username && admin.password === password) return { user: username, role: 'owner' };
    const principal = this.#identities.principals?.find((p) => p.clientId === username && p.clientSecret === password);
    return principal === undefined ? undefined : { user: principal.clientId, role: principal.role ?? 'owner' };
  }

  #basicIdentity(req: IncomingMessage): { user: string; role: AcrRole } | undefined {
    const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : this.#passwordIdentity(decoded.slice(0, colon), decoded.slice(colon + 1));
  }
}
