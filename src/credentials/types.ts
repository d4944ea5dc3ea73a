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
