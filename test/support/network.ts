/**
 * What a child that reaches the npm registry needs from this environment: proxy and CA settings, passed through.
 * Where none is set, the system CA bundle is named explicitly: Debian's own Node trusts the system store, but the
 * Node 24 runtime from npm and Deno carry their own roots and would not trust a CA the machine added (a CI proxy).
 */
import { existsSync } from 'node:fs';

const PASSED_THROUGH = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'DENO_CERT', 'DENO_TLS_CA_STORE', 'NPM_CONFIG_REGISTRY', 'npm_config_registry', 'NPM_CONFIG_CAFILE', 'npm_config_cafile'];
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

/** Proxy and CA variables for a child process that downloads from the npm registry. */
export function networkEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const bundle = SYSTEM_CA_BUNDLES.find((file) => existsSync(file));
  if (bundle !== undefined) {
    env['NODE_EXTRA_CA_CERTS'] ??= bundle;
    env['DENO_CERT'] ??= bundle;
    env['npm_config_cafile'] ??= env['NPM_CONFIG_CAFILE'] ?? bundle;
  }
  return env;
}
