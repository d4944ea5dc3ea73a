/**
 * The ceiling: a raw keep-alive `node:http` client that replays exactly the requests regplan made (as recorded
 * by the counting proxy or the in-memory registry) against the same host at the same concurrency, as fast as it
 * can, reading and discarding each body. Its wall time is what the registry allows; regplan's wall time divided
 * by it is how much regplan adds. Pages of one listing (`/tags/list`, `/_catalog`) stay in order, one after the
 * other, since no client can know page 2 before reading page 1; everything else runs `concurrency` at a time.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { MANIFEST_ACCEPT } from '../src/registry/oci.ts';
import type { ProxiedRequest } from '../test/support/counting-proxy.ts';

/** What one replay took and what the registry answered. */
export interface CeilingRun {
  ms: number;
  requests: number;
  /** Count of responses by status code, to check the replay did the same work (200s, 202s for deletes). */
  statuses: Record<number, number>;
}

const ACCEPT = MANIFEST_ACCEPT.join(', ');
const run = promisify(execFile);

/** The listing a paging request belongs to (its path without the query), or undefined for other requests. */
function listingOf(request: ProxiedRequest): string | undefined {
  const pathname = request.path.split('?')[0] as string;
  return pathname.endsWith('/tags/list') || pathname.endsWith('/_catalog') ? pathname : undefined;
}

/** Replays `requests` against `host` (`127.0.0.1:PORT`) with `concurrency` keep-alive connections. */
export async function replayRequests(host: string, requests: readonly ProxiedRequest[], options: { concurrency: number }): Promise<CeilingRun> {
  const [hostname, port] = host.split(':');
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const statuses: Record<number, number> = {};
  const send = (request: ProxiedRequest): Promise<void> =>
    new Promise((resolve, reject) => {
      const headers = request.path.includes('/manifests/') ? { accept: ACCEPT } : {};
      const outgoing = http.request({ host: hostname, port: Number(port), method: request.method, path: request.path, headers, agent }, (response) => {
        statuses[response.statusCode ?? 0] = (statuses[response.statusCode ?? 0] ?? 0) + 1;
        response.on('end', resolve).on('error', reject).resume();
      });
      outgoing.on('error', reject).end();
    });
  const lastOfListing = new Map<string, Promise<void>>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < requests.length) {
        const request = requests[next++] as ProxiedRequest;
        const listing = listingOf(request);
        if (listing === undefined) {
          await send(request);
          continue;
        }
        const sent = (lastOfListing.get(listing) ?? Promise.resolve()).then(() => send(request));
        lastOfListing.set(listing, sent);
        await sent;
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { ms, requests: requests.length, statuses };
}

/** A replay run in a child process (bench/ceiling-child.ts), with the CPU time the replay itself used. */
export async function replayInChild(host: string, requests: readonly ProxiedRequest[], options: { concurrency: number; workDir: string }): Promise<CeilingRun & { cpuMs: number }> {
  const job = path.join(options.workDir, 'ceiling-job.json');
  await writeFile(job, JSON.stringify({ host, concurrency: options.concurrency, requests }));
  const { stdout } = await run(process.execPath, [path.join(import.meta.dirname, 'ceiling-child.ts'), job], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as CeilingRun & { cpuMs: number };
}
