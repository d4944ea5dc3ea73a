/**
 * The 401 dance: a request goes out (anonymously until the registry has challenged once), a 401 carries a
 * `WWW-Authenticate` challenge, the client loads credentials (lazily, once), answers with Basic credentials, a
 * registry token, or a bearer token from the token server for the scopes the request needs, and retries once.
 * Later requests are authorized up front from the remembered challenge, so a cached token saves the round trip.
 */
import type { Credential, CredentialProvider } from '../credentials/types.ts';
import { pickChallenge, type AuthChallenge } from './challenge.ts';
import type { HttpRequest, HttpResponse, HttpTransport } from './http.ts';
import type { SecretSet } from './redact.ts';
import { mergeScopes } from './scope.ts';
import { basicAuthorization, type TokenCache } from './token.ts';

/** Authenticated request sending for one registry. */
export class AuthSession {
  readonly #origin: string;
  readonly #transport: HttpTransport;
  readonly #tokens: TokenCache;
  readonly #secrets: SecretSet;
  readonly #provider: CredentialProvider | undefined;
  #credential: Promise<Credential | undefined> | undefined;
  #challenge: AuthChallenge | undefined;

  constructor(options: { origin: string; transport: HttpTransport; tokens: TokenCache; secrets: SecretSet; credentials?: CredentialProvider | undefined }) {
    this.#origin = options.origin;
    this.#transport = options.transport;
    this.#tokens = options.tokens;
    this.#secrets = options.secrets;
    this.#provider = options.credentials;
  }

  /** The challenge the registry last sent, if any (`ping` reports it). */
  get challenge(): AuthChallenge | undefined {
    return this.#challenge;
  }

  /** Remembers a challenge seen outside `send` (from `ping`), so the next request is authorized up front. */
  observe(challenge: AuthChallenge | undefined): void {
    if (challenge !== undefined && (challenge.scheme === 'basic' || challenge.scheme === 'bearer')) this.#challenge = challenge;
  }

  /** Where the credentials came from, for error hints; undefined when there are none. Loads them if needed. */
  async credentialSource(): Promise<string | undefined> {
    return (await this.#loadCredential())?.source;
  }

  /**
   * Sends `request` with the authorization `scopes` call for. Requests to another origin (a Link or Location
   * pointing elsewhere) never carry credentials. On a 401 with a usable challenge, retries once with fresh auth.
   */
  async send(request: HttpRequest, scopes: readonly string[]): Promise<HttpResponse> {
    const sameOrigin = new URL(request.url).origin === this.#origin;
    if (!sameOrigin) return this.#transport.send(request);
    const used = await this.#authorization(scopes, false);
    const first = await this.#transport.send(withAuthorization(request, used));
    if (first.response.status !== 401) return first;
    const challenge = pickChallenge(first.response.headers.get('www-authenticate'));
    if (challenge === undefined || (challenge.scheme !== 'basic' && challenge.scheme !== 'bearer')) return first;
    this.#challenge = challenge;
    const wanted = challenge.scheme === 'bearer' ? mergeScopes([...scopes, ...challenge.scopes]) : mergeScopes(scopes);
    // A refused token for the same scopes must not come back from the cache; a wider scope set is a different cache entry.
    const refused = used !== undefined && wanted.join(' ') === mergeScopes(scopes).join(' ');
    const next = await this.#authorization(wanted, refused);
    if (next === undefined || next === used) return first;
    await first.response.body?.cancel().catch(() => undefined);
    return this.#transport.send(withAuthorization(request, next));
  }

  /** The Authorization value for `scopes` under the known challenge; `fresh` skips cached tokens (one was just refused). */
  async #authorization(scopes: readonly string[], fresh: boolean): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (challenge === undefined) return undefined;
    const credential = await this.#loadCredential();
    if (challenge.scheme === 'basic') return basicAuthorization(credential, this.#secrets);
    if (credential?.registryToken !== undefined) return `Bearer ${credential.registryToken}`;
    if (challenge.realm === undefined) return undefined;
    const token = await this.#tokens.token({ realm: challenge.realm, service: challenge.service, scopes, credential, skipCache: fresh });
    return `Bearer ${token}`;
  }

  #loadCredential(): Promise<Credential | undefined> {
    this.#credential ??= (async () => {
      const credential = this.#provider === undefined ? undefined : await this.#provider();
      for (const secret of [credential?.password, credential?.identityToken, credential?.registryToken]) this.#secrets.add(secret);
      return credential;
    })();
    return this.#credential;
  }
}

/** The request with `Authorization` set (or left out when there is none to send). */
function withAuthorization(request: HttpRequest, authorization: string | undefined): HttpRequest {
  if (authorization === undefined) return request;
  return { ...request, headers: { ...request.headers, authorization } };
}
