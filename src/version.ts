/** The regplan version, read from package.json (its one source) and embedded in the bundle by esbuild. */
import packageJson from '../package.json' with { type: 'json' };

/** What `--version` prints and the plan file records as `regplanVersion`. */
export const REGPLAN_VERSION: string = packageJson.version;
