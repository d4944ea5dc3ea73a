/**
 * Azure Container Registry (`*.azurecr.io`). Target: the ACR API on the same host (`/acr/v1`: tags with digests
 * and times, tag-level delete), with standard Azure credentials and no `az` CLI. Until that driver exists,
 * cleanup goes through the Registry API, which ACR answers with 202 for a digest delete (every tag on it goes).
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'ACR API: /acr/v1/<name>/_tags (digests, times), DELETE /acr/v1/<name>/_tags/<tag> (untag); DELETE /v2/<name>/manifests/<digest> for manifests',
  untag: true,
  listUntagged: true,
  nativeCredentials: [
    {
      description: 'standard Azure credentials (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or workload identity)',
      flag: '',
      env: 'AZURE_CLIENT_ID',
      source: 'chain',
      chainEnv: ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_FEDERATED_TOKEN_FILE'],
    },
  ],
  notes: 'deleting a tag leaves its manifest; deleteEnabled=false on a repository or manifest refuses deletes; the identity needs the AcrDelete role (or Contributor)',
};

/** The ACR registry type. */
export const acrDriver = {
  type: 'acr',
  title: 'Azure Container Registry',
  status: 'registry-api',
  capabilities,
  create: (context) =>
    createRegistryApiDriver(context, {
      type: 'acr',
      capabilities,
      cleanupPath: `${REGISTRY_API_DELETE} with Docker credentials (ACR API driver not built yet)`,
    }),
} satisfies DriverFactory;
