/**
 * Preloaded (`node --import ./bench/report-rss.ts`) into the regplan child a benchmark measures: when the child
 * exits it writes its peak resident set size in bytes to $BENCH_RSS_FILE, so the number is regplan's alone.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['BENCH_RSS_FILE'];
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
