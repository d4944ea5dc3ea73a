/**
 * The reported case: editing one manifest-cache entry's `created` turned a kept tag into a planned deletion. Plan
 * against a registry whose push times come from the image config (the cached path), tamper with the cache entry
 * of the kept tag, plan again: the same plan, and --debug says the entry was ignored.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startMemoryRegistry } from '../emulators/memory-registry.ts';
import { captureIo } from '../support/io.ts';

const DAY = 86_400_000;

test('a tampered cache entry is read from the registry again, so a kept tag stays kept', async () => {
  const registry = await startMemoryRegistry();
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-cache-e2e-'));
  try {
    const created = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
    registry.store.seedImage('acme/app', ['pr-old'], { created: new Date(Date.now() - 30 * DAY) });
    const fresh = registry.store.seedImage('acme/app', ['pr-new'], { created });
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'settings: { grace: 2h }',
      'registries:',
      `  "${registry.host}": { type: default }`,
      'policies:',
      '  ci:',
      '    keep:',
      '      - pushedWithin: 7d',
      "    delete: { tags: '^pr-' }",
      'repos:',
      `  - repo: ${registry.host}/acme/app`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    const cache = path.join(dir, 'cache');
    const run = async (...argv: string[]) => {
      const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: cache }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const deletedTags = (plan: Plan) => plan.actions.flatMap((a) => (a.type === 'delete' && a.tag !== undefined ? [a.tag] : [])).sort();

    const first = await run('plan', '--json');
    assert.is(first.code, 0, first.err);
    assert.equal(deletedTags(JSON.parse(first.out) as Plan), ['pr-old']);

    const entries = path.join(cache, 'manifests', 'sha256');
    const file = path.join(entries, `${fresh.digest.slice(7)}.json`);
    assert.ok((await readdir(entries)).includes(path.basename(file)), 'the kept tag\'s manifest is cached');
    const text = await readFile(file, 'utf8');
    const day = created.toISOString().slice(0, 10);
    assert.ok(text.includes(day), 'the entry holds the created time');
    await writeFile(file, text.replaceAll(day, '2020-01-01'));

    const second = await run('plan', '--json', '--debug');
    assert.is(second.code, 0, second.err);
    assert.equal(deletedTags(JSON.parse(second.out) as Plan), ['pr-old'], 'the tampered entry must not make pr-new deletable');
    assert.match(second.err, `debug: manifest cache entry for ${fresh.digest}`);
  } finally {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
