/**
 * Preloaded with `node --import` when /usr/bin/time is missing: writes the process's peak RSS (KiB) to
 * $RELIABILITY_RSS_FILE as it exits, so malformed.test.ts can bound regplan's memory either way.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['RELIABILITY_RSS_FILE'];
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
