/**
 * The benchmark's instruments: the in-memory registry answers the Distribution API subset regplan uses (paged
 * listings with Link, manifests by tag and digest with Docker-Content-Digest, deletes), and the ceiling client
 * replays a recorded request list against it — listing pages in order — counting the answers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { replayRequests } from '../../bench/ceiling-client.ts';
import { startMemoryRegistry } from '../../bench/memory-registry.ts';
import { syntheticTags } from '../../bench/synthetic-repo.ts';

test('the in-memory registry pages tags with n and Link, and serves manifests by tag and digest', async () => {
  const registry = await startMemoryRegistry({ 'acme/app': 7 });
  try {
    const first = await fetch(`http://${registry.host}/v2/acme/app/tags/list?n=4`);
    const page1 = (await first.json()) as { tags: string[] };
    const link = first.headers.get('link') ?? '';
    assert.is(page1.tags.length, 4);
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    assert.ok(next, `no next link: ${link}`);
    const second = await fetch(`http://${registry.host}${next}`);
    const page2 = (await second.json()) as { tags: string[] };
    assert.is(second.headers.get('link'), null);
    assert.equal([...page1.tags, ...page2.tags], [...syntheticTags('acme/app', 7)].map((t) => t.tag).sort());
    const tag = [...syntheticTags('acme/app', 7)][4];
    const head = await fetch(`http://${registry.host}/v2/acme/app/manifests/${tag?.tag}`, { method: 'HEAD' });
    assert.is(head.headers.get('docker-content-digest'), tag?.manifestDigest);
    const byDigest = await fetch(`http://${registry.host}/v2/acme/app/manifests/${tag?.manifestDigest}`);
    assert.is(Number(byDigest.headers.get('content-length')), tag?.manifestSize);
    await byDigest.arrayBuffer();
    const deleted = await fetch(`http://${registry.host}/v2/acme/app/manifests/${tag?.manifestDigest}`, { method: 'DELETE' });
    assert.is(deleted.status, 202);
    const after = (await (await fetch(`http://${registry.host}/v2/acme/app/tags/list`)).json()) as { tags: string[] };
    assert.is(after.tags.length, 5, 'the digest of tags 3 and 4 is gone with both tags');
    assert.is(registry.requests.length, 6);
  } finally {
    await registry.stop();
  }
});

test('the ceiling client replays a recorded list, each listing\'s pages one after the other, and counts the answers', async () => {
  const registry = await startMemoryRegistry({ 'acme/app': 50 });
  try {
    const sorted = [...syntheticTags('acme/app', 50)].map((t) => t.tag).sort();
    const pages = Array.from({ length: 10 }, (_, i) => ({ method: 'GET', path: `/v2/acme/app/tags/list?n=5${i ? `&last=${encodeURIComponent(sorted[i * 5 - 1] as string)}` : ''}` }));
    const recorded = [...pages, ...sorted.map((tag) => ({ method: 'HEAD', path: `/v2/acme/app/manifests/${tag}` })), { method: 'GET', path: '/v2/acme/app/manifests/no-such-tag' }];
    const run = await replayRequests(registry.host, recorded, { concurrency: 8 });
    assert.equal(run.statuses, { 200: 60, 404: 1 });
    assert.is(run.requests, 61);
    assert.equal(registry.requests.filter((r) => r.path.includes('/tags/list')), pages, 'pages arrive in order');
  } finally {
    await registry.stop();
  }
});

test.run();
