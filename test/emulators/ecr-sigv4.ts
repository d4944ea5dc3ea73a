/**
 * AWS Signature Version 4 checking for the ECR emulator: recomputes the signature of a request from the secret
 * of the access key it names (canonical request, string to sign, HMAC key chain) and answers the way AWS JSON
 * services do — MissingAuthenticationTokenException, UnrecognizedClientException for an unknown key,
 * InvalidSignatureException for a wrong secret or a scope for another region or service.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The outcome of checking one request. */
export type SigV4Check = { ok: true; accessKeyId: string } | { ok: false; code: string; message: string };

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([a-f0-9]{64})$/;

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** Checks the SigV4 `Authorization` header of `req` (whose body is `body`) against `keys`. */
export function verifySigV4(
  req: IncomingMessage,
  body: Uint8Array,
  options: { keys: readonly { accessKeyId: string; secretAccessKey: string }[]; region: string; service: string },
): SigV4Check {
  const header = req.headers.authorization;
  if (header === undefined) return { ok: false, code: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const match = AUTH_PATTERN.exec(header);
  if (match === null) return { ok: false, code: 'IncompleteSignatureException', message: 'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters.' };
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = match;
  const key = options.keys.find((k) => k.accessKeyId === accessKeyId);
  if (key === undefined) return { ok: false, code: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (region !== options.region) return { ok: false, code: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${region}'. ` };
  if (service !== options.service) return { ok: false, code: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${options.service}'. ` };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return { ok: false, code: 'InvalidSignatureException', message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.' };

  const url = new URL(req.url ?? '/', 'http://x');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${headerValue(req, name)}\n`).join('');
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort().join('&');
  const payloadHash = typeof req.headers['x-amz-content-sha256'] === 'string' ? req.headers['x-amz-content-sha256'] : sha256Hex(body);
  const canonicalRequest = [req.method ?? 'POST', url.pathname, query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return {
      ok: false,
      code: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return { ok: true, accessKeyId };
}

/** A header's value as SigV4 canonicalises it (trimmed, inner runs of spaces collapsed, repeated values comma-joined). */
function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}
