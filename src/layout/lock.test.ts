/**
 * The OCI layout's cross-process guards: the layout lock (a change waits for it, gives up after the timeout
 * naming the holder, and takes over the lock of a dead process with a notice) and push leases (a collection
 * keeps every blob a live push has leased, drops leases of dead processes, and a finished push leaves none).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { RegplanError } from '../errors.ts';
import { MediaType } from '../registry/oci.ts';
import { copyDemoLayout, jsonBytes, putTestImage, removeTempDirs, tempDir } from '../../test/support/oci-layout.ts';
import { LAYOUT_LOCK_FILE, OciLayout } from './store.ts';

test.after(removeTempDirs);

const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim());
const lockOf = (pid: number, purpose: string): string => JSON.stringify({ pid, host: hostname(), purpose, since: '2026-01-01T00:00:00Z', token: 'someone-else' });
const extraFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('.regplan-'));

test('a change waits for a live holder and then gives up, naming it and the lock file', async () => {
  const dir = await copyDemoLayout();
  await writeFile(path.join(dir, LAYOUT_LOCK_FILE), lockOf(process.pid, 'regplan: collect garbage'));
  const layout = await OciLayout.open(dir, { lockTimeoutMs: 300 });
  const started = Date.now();
  try {
    await layout.untag('v1.2.1');
    assert.unreachable('the untag should time out');
  } catch (error) {
    assert.instance(error, RegplanError);
    const e = error as RegplanError;
    assert.match(e.message, `OCI layout "${dir}" is locked by pid ${process.pid} (regplan: collect garbage, since 2026-01-01T00:00:00Z); waited 0 s to remove a tag`);
    assert.match(e.hint ?? '', path.join(dir, LAYOUT_LOCK_FILE));
  }
  assert.ok(Date.now() - started >= 300, 'it waited');
  assert.ok(await layout.resolveTag('v1.2.1'), 'nothing changed');
});

test('a lock left by a dead process is taken over with a notice, and the change goes through', async () => {
  const dir = await copyDemoLayout();
  const pid = deadPid();
  await writeFile(path.join(dir, LAYOUT_LOCK_FILE), lockOf(pid, 'regplan: remove a tag'));
  const notices: string[] = [];
  const layout = await OciLayout.open(dir, { onNotice: (line) => notices.push(line) });
  await layout.untag('v1.2.1');
  assert.is(await layout.resolveTag('v1.2.1'), undefined);
  assert.is(notices.length, 1);
  assert.match(notices[0] ?? '', `removed the stale lock ${path.join(dir, LAYOUT_LOCK_FILE)}: it was left by pid ${pid} (regplan: remove a tag, since 2026-01-01T00:00:00Z), which is no longer running`);
  assert.equal(await extraFiles(dir), [], 'no lock left behind');
});

test('a collection keeps the blobs a push in progress has leased, and they go once nothing holds them', async () => {
  const dir = path.join(await tempDir(), 'layout');
  const pusher = await OciLayout.create(dir);
  const cleaner = await OciLayout.open(dir);
  // The push has stored its layer and found an old unreferenced blob it will reuse; its manifest is not in yet.
  const oldBytes = new TextEncoder().encode('a layer nothing references any more');
  const old = { digest: `sha256:${createHash('sha256').update(oldBytes).digest('hex')}`, size: oldBytes.byteLength };
  await writeFile(cleaner.blobPath(old.digest), oldBytes); // left by an earlier push whose tag was deleted
  assert.is(await pusher.holdBlob(old.digest), true);
  const layer = await pusher.putBlob(new TextEncoder().encode('the new layer'));
  const config = await pusher.putBlob(jsonBytes({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  assert.equal((await cleaner.garbageCollect()).removed, [], 'leased blobs survive a collection by another process');
  assert.equal((await extraFiles(dir)).filter((n) => n.startsWith('.regplan-lease-')).length, 1);

  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }, { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...old }],
  };
  await pusher.putManifest(jsonBytes(manifest), MediaType.ociManifest, { tag: 'pushed' });
  assert.equal(await extraFiles(dir), [], 'the finished push released its lease');
  assert.equal((await cleaner.garbageCollect()).removed, [], 'everything is reachable from the tag now');
  await cleaner.untag('pushed');
  assert.is((await cleaner.garbageCollect()).removed.length, 4, 'unleased and unreferenced: collected');
});

test('a lease left by a dead process protects nothing and is removed by the next collection', async () => {
  const dir = path.join(await tempDir(), 'layout');
  const layout = await OciLayout.create(dir);
  const orphan = await layout.putBlob(new TextEncoder().encode('pushed by a process that died'));
  await putTestImage(layout, 'kept', { tag: 'kept' });
  const lease = path.join(dir, '.regplan-lease-1-dead');
  await writeFile(lease, `${JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00Z' })}\n${orphan.digest}\n`);
  assert.equal((await layout.garbageCollect()).removed, [orphan.digest]);
  assert.equal(await extraFiles(dir), []);
});

test.run();
