/**
 * Ad hoc measurement of regplan's registry hot path against its ceiling (issue 11, fast plans): the ceiling is a
 * raw keep-alive node:http client replaying exactly the requests regplan sent (method + path, recorded by the
 * counting proxy) at the same concurrency. Each plan runs in its own child process (wall time and peak RSS from
 * /usr/bin/time); so does the replay. Requests are counted on a separate run through the counting proxy, so the
 * proxy's cost is in neither timing.
 *   node bench/ceiling-probe.ts --registry probe|real --tags 1000 [--root DIR] [--concurrency 8] [--apply]
 *   node bench/ceiling-probe.ts --replay FILE --host H --concurrency N   (the ceiling client itself)
 * `--root` runs another checkout's src/main.ts (to measure before/after side by side on one registry).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startCountingProxy, type ProxiedRequest } from '../test/support/counting-proxy.ts';
import { startProbeRegistry } from './probe-registry.ts';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'probe' },
    tags: { type: 'string', default: '1000' },
    root: { type: 'string', multiple: true },
    concurrency: { type: 'string', default: '8' },
    apply: { type: 'boolean', default: false },
    replay: { type: 'string' },
    host: { type: 'string' },
  },
});
const concurrency = Number(values.concurrency);
const node = process.execPath;
/** `GET 2001, HEAD 1000`: requests counted by method. */
const byMethodOf = (requests: readonly ProxiedRequest[]): string => {
  const counts = new Map<string, number>();
  for (const r of requests) counts.set(r.method, (counts.get(r.method) ?? 0) + 1);
  return [...counts].map(([method, n]) => `${method} ${n}`).join(', ');
};

/** The ceiling: replays `requests` on keep-alive sockets, `concurrency` in flight, reading every body. */
async function replay(requests: ProxiedRequest[], host: string): Promise<void> {
  const [hostname, port] = host.split(':');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (request: ProxiedRequest) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ agent, host: hostname, port: Number(port), method: request.method, path: request.path, headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/json' } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests.length) await one(requests[next++] as ProxiedRequest);
  }));
  agent.destroy();
}

if (values.replay !== undefined) {
  await replay(JSON.parse(await readFile(values.replay, 'utf8')) as ProxiedRequest[], values.host ?? '');
  process.exit(0);
}

/** Runs a command under /usr/bin/time -v: wall ms (measured here) and peak RSS in MB. */
async function timed(argv: string[], env: Record<string, string>): Promise<{ ms: number; rssMb: number; out: string; code: number }> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-v', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const ms = performance.now() - started;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  if (code !== 0 && code !== 2) throw new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`);
  return { ms, rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, out, code };
}

async function seedRealRegistry(tags: number): Promise<{ host: string; repo: string; stop: () => Promise<void> }> {
  const { startRegistry } = await import('../test/harness/registry.ts');
  const { RegistryClient } = await import('../src/registry/client.ts');
  const { MediaType } = await import('../src/registry/oci.ts');
  const pLimit = (await import('p-limit')).default;
  const registry = await startRegistry({ auth: 'none' });
  const client = new RegistryClient({ host: registry.host });
  const repo = 'bench/app';
  const { probeTag } = await import('./probe-registry.ts');
  const layer = await client.uploadBlob(repo, { bytes: new TextEncoder().encode('bench layer') });
  const limit = pLimit(16);
  await Promise.all(Array.from({ length: tags }, (_, i) => limit(async () => {
    const configBytes = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(), rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
    const config = await client.uploadBlob(repo, { bytes: configBytes });
    const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, ...config }, layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }] };
    await client.putManifest(repo, probeTag(i), new TextEncoder().encode(JSON.stringify(manifest)), MediaType.ociManifest);
  })));
  return { host: registry.host, repo, stop: () => registry.stop() };
}

const tags = Number(values.tags);
const roots = values.root ?? [path.resolve(import.meta.dirname, '..')];
const fresh = async () => (values.registry === 'real' ? seedRealRegistry(tags) : startProbeRegistry({ tags }));
let registry = await fresh();
const dir = await mkdtemp(path.join(tmpdir(), 'regplan-ceiling-'));
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
try {
  const configFor = async (host: string, name: string) => {
    const file = path.join(dir, name);
    await writeFile(file, ['version: 1', `settings: { concurrency: ${concurrency}, grace: 0s }`, 'policies:', '  ci:', "    keep: [{ tags: '^v' }, { newest: 20, tags: '^main-' }]", "    delete: { tags: '^(pr|main)-' }", 'repos:', `  - repo: ${host}/${registry.repo}`, '    cleanup: ci', ''].join('\n'));
    return file;
  };
  say(`# ${values.registry} registry, ${tags} tags, concurrency ${concurrency}, ${new Date().toISOString()}, load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
  for (const root of roots) {
    const main = path.join(root, 'src/main.ts');
    const proxy = await startCountingProxy(registry.host);
    const counted = await configFor(proxy.host, 'counted.yaml');
    const direct = await configFor(registry.host, 'direct.yaml');
    for (const [label, cacheName] of [['cold', 'c1'], ['warm', 'c1']] as const) {
      proxy.reset();
      const countedCache = path.join(dir, `${path.basename(root)}-counted-${cacheName}`);
      const planFile = path.join(dir, 'plan.json');
      await timed([node, main, '-c', counted, 'plan', '--out', planFile], { HOME: dir, REGPLAN_CACHE_DIR: countedCache });
      const requests = [...proxy.requests];
      const mix = path.join(dir, `mix-${label}.json`);
      await writeFile(mix, JSON.stringify(requests));
      const run = await timed([node, main, '-c', direct, 'plan', '--json'], { HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, `${path.basename(root)}-direct-${cacheName}`) });
      const ceiling = await timed([node, import.meta.filename, '--replay', mix, '--host', registry.host, '--concurrency', String(concurrency)], {});
      const byMethod = byMethodOf(requests);
      say(`${path.basename(root)} plan ${label}: ${requests.length} requests (${(requests.length / tags).toFixed(3)}/tag: ${byMethod}); regplan ${run.ms.toFixed(0)} ms, RSS ${run.rssMb.toFixed(0)} MB; ceiling ${ceiling.ms.toFixed(0)} ms; ratio ${(run.ms / ceiling.ms).toFixed(2)}`);
    }
    if (values.apply) {
      proxy.reset();
      const planFile = path.join(dir, 'plan-apply.json');
      await timed([node, main, '-c', counted, 'plan', '--out', planFile], { HOME: dir, REGPLAN_NO_CACHE: '1' });
      const plan = JSON.parse(await readFile(planFile, 'utf8')) as { actions: { type: string }[] };
      const deletes = plan.actions.filter((a) => a.type === 'delete').length;
      proxy.reset();
      const applied = await timed([node, main, '-c', counted, 'apply', planFile], { HOME: dir, REGPLAN_NO_CACHE: '1' });
      const requests = [...proxy.requests];
      const byMethod = byMethodOf(requests);
      const deleteMix = path.join(dir, 'mix-delete.json');
      await writeFile(deleteMix, JSON.stringify(requests.filter((r) => r.method === 'DELETE')));
      await proxy.stop();
      await registry.stop();
      registry = await fresh();
      const ceiling = await timed([node, import.meta.filename, '--replay', deleteMix, '--host', registry.host, '--concurrency', String(concurrency)], {});
      say(`${path.basename(root)} apply: ${deletes} deleted tags, ${requests.length} requests (${(requests.length / deletes).toFixed(3)}/deleted tag, ${((requests.length - (requests.filter((r) => r.method === 'DELETE').length)) / deletes).toFixed(3)} besides DELETEs: ${byMethod}); regplan ${applied.ms.toFixed(0)} ms (through the proxy); DELETE ceiling ${ceiling.ms.toFixed(0)} ms; exit ${applied.code}`);
      await registry.stop();
      registry = await fresh();
    } else {
      await proxy.stop();
    }
  }
} finally {
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
