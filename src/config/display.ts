/** How repos are named to people: plans, apply output and journals show the address as written in the config. */
import type { RepoConfig } from './types.ts';

/** The address plans show and record: as written in the config (`oci:./layout`, not the resolved absolute path). */
export const displayAddress = (repo: RepoConfig): string => repo.written ?? repo.repo;
