/** Packages one configured bundle, whatever its source: the single entry point plan and apply both call. */
import type { BundleConfig } from '../config/types.ts';
import { packageChart } from './chart.ts';
import { packageFiles } from './files.ts';
import { packageLayoutImage } from './image.ts';
import type { PreparedBundle } from './types.ts';

/** Packages a bundle from the config (paths already resolved against the config directory). */
export function prepareBundle(bundle: BundleConfig): Promise<PreparedBundle> {
  switch (bundle.kind) {
    case 'chart':
      return packageChart({ chart: bundle.chart, tag: bundle.tag, annotations: bundle.annotations });
    case 'files':
      return packageFiles({ files: bundle.files, annotations: bundle.annotations, ...(bundle.artifactType === undefined ? {} : { artifactType: bundle.artifactType }) });
    case 'image':
      return packageLayoutImage({ image: bundle.image, annotations: bundle.annotations });
  }
}
