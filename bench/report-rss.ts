/**
 * Preloaded (`node --import ./bench/report-rss.ts`) into the regplan child a benchmark measures: when the child
 * exits it writes its peak resident set size (bytes) and the CPU time it used (user + system, ms) as JSON to
 * $BENCH_RSS_FILE, so the numbers are regplan's alone. CPU time barely moves when a shared machine is loaded,
 * unlike wall time, which is why the quick CI check compares CPU ratios.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['BENCH_RSS_FILE'];
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ rssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  });
}
