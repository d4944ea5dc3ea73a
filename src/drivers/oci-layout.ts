/**
 * The local OCI image layout (`oci:<dir>`): a directory with `oci-layout`, `index.json` and `blobs/`. Cleanup
 * edits `index.json`; no network and no credentials. The driver itself is not built yet.
 */
import type { Capabilities, DriverFactory } from './driver.ts';
import { nativeDriverUnavailable } from './unavailable.ts';

const capabilities: Capabilities = {
  push: true,
  bundles: true,
  customArtifactType: true,
  cleanupPath: 'edits index.json in the layout directory (drops the tag\'s entry, then blobs nothing references)',
  untag: true,
  listUntagged: true,
  nativeCredentials: [],
  notes: 'no network: the embedded default for demos, tests and air-gapped bundles',
};

/** The OCI image layout type. */
export const ociLayoutDriver = {
  type: 'oci',
  title: 'OCI image layout (local directory)',
  capabilities,
  create(context) {
    throw nativeDriverUnavailable(ociLayoutDriver, context, {
      why: 'it edits index.json in the layout directory',
      workaround: 'copy the layout to a registry (e.g. skopeo copy oci:<dir>:<tag> docker://localhost:5000/<repo>:<tag>) and clean up there',
    });
  },
} satisfies DriverFactory;
