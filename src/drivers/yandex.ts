/**
 * Yandex Container Registry (`cr.yandex`). Cleanup deletes by digest through the Registry API (push times from
 * image configs). The Yandex images API (tags, `createdAt`, untagged images, IAM token) is not built yet, so this
 * driver neither lists untagged images nor reads an IAM token, and says so.
 */
import { createRegistryApiDriver, REGISTRY_API_DELETE } from './default.ts';
import type { Capabilities, DriverFactory } from './driver.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: REGISTRY_API_DELETE,
  untag: false,
  listUntagged: false,
  nativeCredentials: [],
  notes: 'a delete removes the image (digest) with all its tags; untagged images are not listed (the Yandex images API is not built yet)',
};

/** The Yandex registry type. */
export const yandexDriver = {
  type: 'yandex',
  title: 'Yandex Container Registry',
  status: 'registry-api',
  capabilities,
  create: (context) => createRegistryApiDriver(context, { type: 'yandex', capabilities }),
} satisfies DriverFactory;
