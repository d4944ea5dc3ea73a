/**
 * What a credential lookup yields. `source` says where it came from for `regplan detect` and error hints;
 * the secret fields never reach output (use `describeCredential`).
 */

/** Credentials for one registry, as docker would send them. */
export interface Credential {
  /** Basic-auth user (absent for pure token credentials). */
  username?: string;
  password?: string;
  /** OAuth2 refresh token for the token server (`identitytoken`, or a helper's `<token>` username). */
  identityToken?: string;
  /** Bearer token sent straight to the registry (`registrytoken`). */
  registryToken?: string;
  /** Where it was found, e.g. `credHelpers["ghcr.io"] -> docker-credential-gh` or `auths["ghcr.io"] in /home/me/.docker/config.json`. */
  source: string;
}

/** A function the registry client calls to obtain credentials lazily, once per host. */
export type CredentialProvider = () => Promise<Credential | undefined>;

/** What kind of credential this is, for messages that must not show it: `basic auth`, `identity token`, ... */
export type CredentialKind = 'basic auth' | 'identity token' | 'registry token' | 'none';

/** The kind of a credential (a registry token wins, then an identity token, then username/password), never its value. */
export function credentialKind(credential: Omit<Credential, 'source'>): CredentialKind {
  if (credential.registryToken) return 'registry token';
  if (credential.identityToken) return 'identity token';
  if (credential.username || credential.password) return 'basic auth';
  return 'none';
}

/** A one-line, secret-free description of a credential, e.g. `basic auth from auths["ghcr.io"] in /home/me/.docker/config.json`. */
export const describeCredential = (credential: Credential): string => `${credentialKind(credential)} from ${credential.source}`;
