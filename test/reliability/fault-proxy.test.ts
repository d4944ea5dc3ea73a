/**
 * The fault proxy itself, seen by a plain fetch client: each fault kind has the effect it claims on the wire,
 * decisions are the same for the same seed, rate 0 changes nothing, and every DELETE is logged. Without this,
 * a fault suite that "passes" could simply be injecting nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { FAULT_KINDS, alteredDigest, startFaultProxy, type FaultKind, type FaultProxyOptions } from './fault-proxy.ts';
import { digestDirect, listTagsDirect, seedTags } from './registry-direct.ts';

const REPO = 'proxy/check';
const test = suite('fault proxy');
let registry: TestRegistry;
let digest = '';

test.before(async () => {
  registry = await startRegistry({ auth: 'none' });
  digest = await seedTags(registry, REPO, ['a', 'b'], { content: 'fault proxy check' });
  await seedTags(registry, REPO, ['doomed'], { content: 'to delete' });
});
test.after(async () => {
  await registry?.stop();
});

const ACCEPT = { accept: 'application/vnd.oci.image.manifest.v1+json' };

async function withProxy<T>(options: Omit<FaultProxyOptions, 'target'>, body: (base: string, proxy: Awaited<ReturnType<typeof startFaultProxy>>) => Promise<T>): Promise<T> {
  const proxy = await startFaultProxy({ target: registry.host, ...options });
  try {
    return await body(`http://${proxy.host}`, proxy);
  } finally {
    await proxy.stop();
  }
}

const always = (kind: FaultKind) => ({ seed: 1, force: () => kind });

test('rate 0 forwards everything untouched: same tags, same digest, no faults', async () => {
  await withProxy({ seed: 7, rate: 0 }, async (base, proxy) => {
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${base}/v2/${REPO}/manifests/a`, { method: 'HEAD', headers: ACCEPT });
      assert.is(response.status, 200);
      assert.is(response.headers.get('docker-content-digest'), digest);
    }
    const list = await fetch(`${base}/v2/${REPO}/tags/list`);
    assert.equal((await list.json() as { tags: string[] }).tags.sort(), ['a', 'b', 'doomed']);
    assert.is(proxy.faults.length, 0);
  });
});

test('status faults answer without reaching the registry; 429 says Retry-After in seconds or as an HTTP date', async () => {
  for (const kind of ['500', '502', '503', '504', '429-seconds', '429-date'] as const) {
    await withProxy(always(kind), async (base, proxy) => {
      const response = await fetch(`${base}/v2/${REPO}/tags/list`);
      await response.arrayBuffer();
      assert.is(response.status, Number(kind.slice(0, 3)), kind);
      assert.equal(proxy.faultCounts()[kind], 1);
      if (kind === '429-seconds') assert.is(response.headers.get('retry-after'), '1');
      if (kind === '429-date') {
        const when = Date.parse(response.headers.get('retry-after') ?? '');
        assert.ok(/GMT$/.test(response.headers.get('retry-after') ?? ''), 'HTTP-date form');
        assert.ok(when > Date.now(), 'in the future');
      }
    });
  }
});

test('reset-mid-body sends part of the body and then resets the connection', async () => {
  await withProxy(always('reset-mid-body'), async (base) => {
    const error = await fetch(`${base}/v2/${REPO}/manifests/a`, { headers: ACCEPT }).then((r) => r.arrayBuffer()).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error, 'the read fails');
  });
});

test('truncated-body claims more bytes than it sends, then closes', async () => {
  await withProxy(always('truncated-body'), async (base) => {
    const response = await fetch(`${base}/v2/${REPO}/manifests/a`, { headers: ACCEPT });
    const claimed = Number(response.headers.get('content-length'));
    const error = await response.arrayBuffer().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error, 'the body read fails');
    assert.ok(claimed > 0);
  });
});

test('stall holds the answer back for stallMs', async () => {
  await withProxy({ ...always('stall'), stallMs: 400 }, async (base) => {
    const started = Date.now();
    const response = await fetch(`${base}/v2/${REPO}/tags/list`);
    await response.arrayBuffer();
    assert.is(response.status, 200);
    assert.ok(Date.now() - started >= 380, `took ${Date.now() - started} ms`);
  });
});

test('wrong-digest lies in Docker-Content-Digest on manifest HEAD and GET, and only there', async () => {
  await withProxy(always('wrong-digest'), async (base, proxy) => {
    for (const method of ['HEAD', 'GET']) {
      const response = await fetch(`${base}/v2/${REPO}/manifests/a`, { method, headers: ACCEPT });
      await response.arrayBuffer();
      assert.is(response.headers.get('docker-content-digest'), alteredDigest(digest), method);
      assert.is.not(alteredDigest(digest), digest);
    }
    assert.is(proxy.faultCounts()['wrong-digest'], 2);
  });
});

test('every DELETE is logged with its path, its fault and whether the registry got it', async () => {
  const doomed = await digestDirect(registry, REPO, 'doomed');
  assert.ok(doomed);
  await withProxy({ seed: 1, force: (r) => (r.method === 'DELETE' ? '503' : 'none') }, async (base, proxy) => {
    const attempts: number[] = [];
    for (let i = 0; i < 8 && (await listTagsDirect(registry, REPO)).includes('doomed'); i++) {
      const response = await fetch(`${base}/v2/${REPO}/manifests/${doomed}`, { method: 'DELETE' });
      await response.arrayBuffer();
      attempts.push(response.status);
    }
    assert.ok(attempts.every((s) => s === 503), 'the client only ever saw 503');
    assert.ok(proxy.deletes.length >= 1);
    assert.ok(proxy.deletes.every((d) => d.path === `/v2/${REPO}/manifests/${doomed}` && d.fault === '503'));
    const landed = proxy.deletes.filter((d) => d.forwarded);
    assert.ok(landed.length >= 1, 'some 503 was answered after the registry deleted (a lost answer)');
    assert.is(landed[0]?.upstreamStatus, 202);
    assert.not.ok((await listTagsDirect(registry, REPO)).includes('doomed'));
  });
});

test('decisions depend on the seed and the request, not on arrival order; the rate is roughly honoured', async () => {
  const faultsFor = async (seed: number, order: number[]): Promise<string[]> =>
    withProxy({ seed, rate: 0.1, kinds: ['500'] }, async (base, proxy) => {
      for (const i of order) await (await fetch(`${base}/v2/${REPO}/tags/list?n=${i}`)).arrayBuffer();
      return proxy.faults.map((f) => f.path).sort();
    });
  const order = Array.from({ length: 200 }, (_, i) => i);
  const first = await faultsFor(3, order);
  const again = await faultsFor(3, [...order].reverse());
  const other = await faultsFor(4, order);
  assert.equal(again, first, 'same seed, same faults, whatever the order');
  assert.not.equal(other, first, 'another seed, other faults');
  assert.ok(first.length >= 8 && first.length <= 35, `${first.length} of 200 at 10%`);
  assert.equal(FAULT_KINDS.length, 10);
});

test.run();
