/**
 * Yandex Container Registry (`cr.yandex`). Cleanup deletes by digest through the Registry API; with an IAM token
 * the Yandex API can list images with tags and push times, including untagged ones.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: `${REGISTRY_API_DELETE}; Yandex Container Registry API (/container-registry/v1/images) for listing with an IAM token`,
  untag: false,
  listUntagged: true,
  nativeCredentials: [
    { description: 'Yandex IAM token (optional: listing with push times and untagged images)', flag: '--repo-yandex-iam-token', env: 'REGPLAN_REPO_YANDEX_IAM_TOKEN', configKey: 'token', optional: true },
  ],
  notes: 'the Yandex API deletes an image (digest) with all its tags and has no untag; its deletes are long-running operations',
};

/** The Yandex registry type. */
export const yandexDriver = {
  type: 'yandex',
  title: 'Yandex Container Registry',
  status: 'registry-api',
  capabilities,
  create: (context) => createRegistryApiDriver(context, { type: 'yandex', capabilities, cleanupPath: REGISTRY_API_DELETE }),
} satisfies DriverFactory;
