/**
 * The ceiling client in a process of its own (`node bench/ceiling-child.ts JOB.json`), so its CPU time is its own
 * and not the in-memory registry's or the counting proxy's that share the bench process. JOB.json holds
 * `{ host, concurrency, requests }`; it prints the replay's result with the CPU time the replay used as JSON.
 */
import { readFileSync } from 'node:fs';
import type { ProxiedRequest } from '../test/support/counting-proxy.ts';
import { replayRequests } from './ceiling-client.ts';

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as { host: string; concurrency: number; requests: ProxiedRequest[] };
const before = process.cpuUsage();
const run = await replayRequests(job.host, job.requests, { concurrency: job.concurrency });
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ ...run, cpuMs: (cpu.user + cpu.system) / 1000 }));
