/**
 * The AWS ECR API as regplan uses it: the real `@aws-sdk/client-ecr` (SigV4, retries of throttling and
 * transient errors, endpoint rules), loaded lazily on the first call so start-up and the standalone binary stay
 * fast. Where the client points (region, account, endpoint, FIPS) comes from the registry host; credentials
 * come from the standard AWS chain; every SDK failure becomes a RegplanError that says what to do.
 *
 * Region: the host's (`<acct>.dkr.ecr.<region>.amazonaws.com`), else the `api` URL's (`https://api.ecr.<region>…`),
 * else AWS_REGION / AWS_DEFAULT_REGION, else the SDK's own lookup (the profile's `region`).
 * Account (`registryId`): the host's; otherwise omitted, so AWS uses the caller's default registry.
 * Endpoint: `registries.<host>.api` when set (an emulator, a VPC endpoint), else the SDK's rule for the region.
 * Credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from regplan's environment,
 * else the SDK's default chain (AWS_PROFILE / shared files, SSO, web identity, container and instance roles).
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { AuthError, CredentialsError, NetworkError, RegistryError, RegplanError } from '../../errors.ts';
import { httpAllowed } from '../../registry/http.ts';
import { oneLine, SecretSet } from '../../registry/redact.ts';
import { ECR_HOST_PATTERN, hostWithoutPort } from '../detect.ts';
import type { DriverContext } from '../driver.ts';

/** The SDK module, as loaded lazily. */
export type EcrSdk = typeof import('@aws-sdk/client-ecr');

/** Where the API client points, as far as the host and config tell (env fills the rest at first use). */
export interface EcrTarget {
  region?: string;
  /** The 12-digit account (`registryId`), when the host names it. */
  account?: string;
  /** `registries.<host>.api`, when set. */
  endpoint?: string;
  fips: boolean;
}

const API_HOST_PATTERN = /^(?:api\.)?ecr(?<fips>-fips)?\.(?<region>[a-z0-9][a-z0-9-]*)\.amazonaws\.com(?:\.cn)?$/;

/** Region, account, endpoint and FIPS from the registry host and its configured `api` (pure). */
export function ecrTarget(host: string, api?: string): EcrTarget {
  const fromHost = ECR_HOST_PATTERN.exec(hostWithoutPort(host))?.groups;
  let fromApi: Record<string, string | undefined> | undefined;
  if (api !== undefined) {
    try {
      fromApi = API_HOST_PATTERN.exec(new URL(api).hostname)?.groups;
    } catch {
      fromApi = undefined;
    }
  }
  const region = fromHost?.['region'] ?? fromApi?.['region'];
  const account = fromHost?.['account'];
  return {
    ...(region === undefined ? {} : { region }),
    ...(account === undefined ? {} : { account }),
    ...(api === undefined ? {} : { endpoint: api }),
    fips: /\.dkr\.ecr-fips\./.test(host) || fromApi?.['fips'] !== undefined,
  };
}

/** What to tell a user whose AWS credentials are missing or rejected. */
export const AWS_CREDENTIALS_HINT =
  'give regplan AWS credentials through the standard chain: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ' +
  '(plus AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE (run "aws configure" or "aws sso login"), or run with a web identity, container or instance role';
const PERMISSIONS_HINT =
  'allow ecr:DescribeImages, ecr:ListImages, ecr:BatchDeleteImage and ecr:GetAuthorizationToken on the repository to the IAM identity regplan runs as ' +
  '(and ecr:DescribeRepositories on the registry for repo patterns)';

/** Credential codes AWS answers with, and what each means for the user. */
const AUTH_CODES: Readonly<Record<string, string>> = {
  UnrecognizedClientException: `AWS does not know this access key; check AWS_ACCESS_KEY_ID (or the profile's key). ${AWS_CREDENTIALS_HINT}`,
  InvalidClientTokenId: `AWS does not know this access key; check AWS_ACCESS_KEY_ID (or the profile's key). ${AWS_CREDENTIALS_HINT}`,
  InvalidSignatureException: 'the signature does not match: check AWS_SECRET_ACCESS_KEY (it must belong to AWS_ACCESS_KEY_ID) and the region',
  SignatureDoesNotMatch: 'the signature does not match: check AWS_SECRET_ACCESS_KEY (it must belong to AWS_ACCESS_KEY_ID) and the region',
  ExpiredTokenException: 'the temporary AWS credentials expired: refresh them (aws sso login, a new role session) and run again',
  MissingAuthenticationTokenException: `the request carried no AWS signature. ${AWS_CREDENTIALS_HINT}`,
  IncompleteSignatureException: `the request carried an incomplete AWS signature. ${AWS_CREDENTIALS_HINT}`,
  AccessDeniedException: PERMISSIONS_HINT,
};

/** One ECR API client for a registry host: a lazily built SDK client and the error translation. */
export class EcrApi {
  readonly target: EcrTarget;
  readonly #context: DriverContext;
  readonly #secrets = new SecretSet();
  #ready: Promise<{ sdk: EcrSdk; client: ECRClient }> | undefined;

  constructor(context: DriverContext) {
    this.#context = context;
    this.target = ecrTarget(context.host, context.registry?.api);
  }

  /** `registryId` for requests: the host's account, or nothing (the caller's default registry). */
  get registryId(): { registryId?: string } {
    return this.target.account === undefined ? {} : { registryId: this.target.account };
  }

  /** Remembers a secret so it is masked in every message. */
  addSecret(secret: string | undefined): void {
    this.#secrets.add(secret);
  }

  /**
   * Runs one operation: `call` gets the SDK module and client and sends its command. Failures become
   * RegplanErrors naming the operation and `subject` (a repo address), with a hint.
   */
  async run<T>(operation: string, subject: string, call: (sdk: EcrSdk, client: ECRClient) => Promise<T>): Promise<T> {
    let result: T;
    try {
      const { sdk, client } = await (this.#ready ??= this.#connect());
      result = await call(sdk, client);
    } catch (error) {
      this.#context.debug?.(`ECR ${operation} ${subject} -> ${(error as { name?: string }).name ?? 'error'}`);
      throw this.#translate(error, operation, subject);
    }
    this.#context.debug?.(`ECR ${operation} ${subject} -> ok`);
    return result;
  }

  async #connect(): Promise<{ sdk: EcrSdk; client: ECRClient }> {
    const { endpoint } = this.target;
    if (endpoint !== undefined) {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new RegplanError(`registries["${this.#context.host}"].api is not a URL: ${JSON.stringify(endpoint)}`, { hint: 'write the ECR API endpoint as a URL, e.g. https://api.ecr.eu-west-1.amazonaws.com', context: { registry: this.#context.host } });
      }
      if (url.protocol === 'http:' && !httpAllowed(url.host, this.#context.registry?.insecure === true)) {
        throw new RegplanError(`refusing plain http for the ECR API of "${this.#context.host}": ${url.origin}`, { hint: `use https, or set registries["${this.#context.host}"].insecure: true if this endpoint really is plain http`, context: { registry: this.#context.host } });
      }
    }
    const secret = this.#context.nativeSecret;
    const region = this.target.region ?? (await secret('AWS_REGION')) ?? (await secret('AWS_DEFAULT_REGION'));
    const accessKeyId = await secret('AWS_ACCESS_KEY_ID');
    const secretAccessKey = await secret('AWS_SECRET_ACCESS_KEY');
    const sessionToken = accessKeyId && secretAccessKey ? await secret('AWS_SESSION_TOKEN') : undefined;
    const profile = await secret('AWS_PROFILE');
    this.addSecret(secretAccessKey);
    this.addSecret(sessionToken);
    const sdk = await import('@aws-sdk/client-ecr');
    const client = new sdk.ECRClient({
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(this.target.fips ? { useFipsEndpoint: true } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
      ...(profile ? { profile } : {}),
      maxAttempts: 5,
    });
    return { sdk, client };
  }

  #translate(error: unknown, operation: string, subject: string): RegplanError {
    if (error instanceof RegplanError) return error;
    const registry = this.#context.host;
    const name = (error as { name?: unknown }).name;
    const code = typeof name === 'string' ? name : 'Error';
    const raw = error instanceof Error ? error.message : String(error);
    const vendor = this.#secrets.scrub(oneLine(raw, 300));
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (code === 'CredentialsProviderError' || /could not load credentials/i.test(raw)) {
      return new CredentialsError(`no AWS credentials for ECR ${operation} on "${subject}": ${vendor}`, { hint: AWS_CREDENTIALS_HINT, cause: error, context: { registry, repo: subject } });
    }
    if (/region is missing/i.test(raw)) {
      return new RegplanError(`cannot tell the AWS region of ECR registry "${registry}" for ${operation}`, {
        hint: `export AWS_REGION (e.g. AWS_REGION=eu-west-1), or set registries["${registry}"].api to https://api.ecr.<region>.amazonaws.com`,
        cause: error,
        context: { registry, repo: subject },
      });
    }
    if (status === undefined) {
      const cause = (error as { code?: unknown }).code;
      return new NetworkError(`cannot reach the AWS ECR API${this.target.endpoint === undefined ? '' : ` at ${this.target.endpoint}`} for ${operation} on "${subject}": ${vendor}${typeof cause === 'string' ? ` (${cause})` : ''}`, {
        hint: this.target.endpoint === undefined ? 'check the network and the region' : `check registries["${registry}"].api and that the endpoint is reachable`,
        cause: error,
        context: { registry, repo: subject },
      });
    }
    const what = `AWS ECR API refused ${operation} on "${subject}": ${code} ${JSON.stringify(vendor)}`;
    const authHint = AUTH_CODES[code];
    if (authHint !== undefined) return new AuthError(what, { status, errors: [{ code, message: vendor }], registry, repo: subject, hint: authHint, cause: error });
    const known: Record<string, { oci: string; hint: string }> = {
      RepositoryNotFoundException: { oci: 'NAME_UNKNOWN', hint: 'check the repository name and the account in the host' },
      ImageNotFoundException: { oci: 'MANIFEST_UNKNOWN', hint: 'the image is gone; re-plan' },
      ThrottlingException: { oci: 'TOOMANYREQUESTS', hint: 'AWS kept throttling after retries; retry later or lower settings.concurrency' },
      LimitExceededException: { oci: 'TOOMANYREQUESTS', hint: 'an ECR service quota was hit; retry later or lower settings.concurrency' },
      ServerException: { oci: 'UNKNOWN', hint: 'ECR failed; retry later' },
    };
    const entry = known[code];
    return new RegistryError(what, {
      status,
      errors: [{ code: entry?.oci ?? code, message: vendor }],
      registry,
      repo: subject,
      hint: entry?.hint ?? "see ECR's message above",
      cause: error,
    });
  }
}
