/**
 * Names from a registry are hostile (issue 9): a tags/list that returns path tricks (`pr-1/../v1.0.0`,
 * `../../../v2/other/manifests/latest`, `%2e%2e`, `%2f`), a control character or a 200-character tag next to real
 * tags, in tags/list and in Google's manifest map on the manifest of pr-9. Plan and apply run through runCli against
 * the memory registry with GCR's semantics (DELETE by tag untags; a manifest is deleted after untagging its tags),
 * where such a tag once made apply untag the kept v1.0.0. Every raw request line is recorded before the registry
 * parses it, so the test sees what regplan really sent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import type { Plan } from '../../src/plan/types.ts';
import { startMemoryRegistry, type MemoryRegistry } from '../emulators/memory-registry.ts';
import { captureIo } from '../support/io.ts';

const OLD = new Date('2025-01-01T00:00:00Z');
const CONTROL = 'pr-3\u001b[2J\u001b]0;owned\u0007\u009b31m';
const LONG = `pr-${'x'.repeat(197)}`;
const HOSTILE = [
  'pr-1/../v1.0.0',
  '../../../v2/other/manifests/latest',
  'pr-2%2f..%2fv1',
  'pr-4/%2e%2e/%2e%2e/%2e%2e/other/manifests/latest',
  CONTROL,
  LONG,
];
const REAL = ['pr-9', 'v1.0.0'];

interface World {
  registry: MemoryRegistry;
  /** Request targets exactly as they arrived (`req.url`), before any parsing. */
  raw: { method: string; url: string }[];
  run: (argv: string[]) => Promise<{ code: number; out: string; err: string }>;
}

async function withWorld(body: (world: World) => Promise<void>): Promise<void> {
  const raw: World['raw'] = [];
  const registry = await startMemoryRegistry({
    tagDelete: 'untag',
    digestDelete: 'dangling-tag-400',
    routes: (req, res, url, store, helpers) => {
      raw.push({ method: req.method ?? 'GET', url: req.url ?? '' });
      if (req.method === 'GET' && url.pathname === '/v2/app/tags/list') {
        // Google's manifest map (reference §3.8) names the hostile tags too, on the manifest of pr-9: untagging them
        // before deleting that manifest must never reach a URL
        const manifest: Record<string, unknown> = {};
        for (const { tag, digest } of store.tags('app')) {
          const tags = [...((manifest[digest] as { tag?: string[] } | undefined)?.tag ?? []), tag, ...(tag === 'pr-9' ? HOSTILE : [])];
          manifest[digest] = { tag: tags, mediaType: store.manifest('app', digest)?.mediaType, timeUploadedMs: String(OLD.getTime()), timeCreatedMs: String(OLD.getTime()) };
        }
        helpers.sendJson(req, res, 200, { name: 'app', tags: [...HOSTILE, ...REAL], manifest });
        return true;
      }
      return false;
    },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-hostile-'));
  try {
    registry.store.seedImage('app', ['v1.0.0'], { pushedAt: OLD, created: OLD, content: 'release 1' });
    registry.store.seedImage('app', ['pr-9'], { pushedAt: OLD, created: OLD, content: 'pr 9' });
    registry.store.seedImage('other', ['latest'], { pushedAt: OLD, created: OLD, content: 'another repository' });
    await mkdir(path.join(dir, 'docker'));
    await writeFile(
      path.join(dir, 'registry.config.yaml'),
      [
        'version: 1',
        'settings: { concurrency: 2, grace: 2h }',
        'registries:',
        `  "${registry.host}": { type: gcr }`,
        'policies:',
        '  ci:',
        "    keep: [{ tags: '^v1\\.0\\.0$' }]",
        "    delete: { tags: '^pr-' }",
        'repos:',
        `  - repo: ${registry.host}/app`,
        '    cleanup: ci',
        '',
      ].join('\n'),
    );
    const run = async (argv: string[]) => {
      const io = captureIo({ HOME: dir, DOCKER_CONFIG: path.join(dir, 'docker'), REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
      const code = await runCli(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    await body({ registry, raw, run });
  } finally {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every request stayed on the ping, the token endpoint or the `app` repository, and named only valid references. */
function assertStayedInRepo(raw: World['raw']): void {
  for (const { method, url } of raw) {
    const target = new URL(url, 'http://127.0.0.1');
    assert.ok(target.pathname === '/v2/' || target.pathname.startsWith('/v2/app/'), `${method} ${url} left the repository`);
    assert.not.ok(/%2e|%2f|\.\.|%25/i.test(url), `${method} ${url} carries an encoded path trick`);
    const reference = /^\/v2\/app\/manifests\/([^/]+)$/.exec(target.pathname)?.[1];
    if (reference !== undefined) assert.ok(reference === 'pr-9' || reference === 'v1.0.0' || /^sha256:[0-9a-f]{64}$/.test(reference), `${method} ${url} names "${reference}"`);
  }
}

test('hostile tag names are skipped in the plan with the reason, and plan and apply touch only the real tags of the repo', async () => {
  await withWorld(async ({ registry, raw, run }) => {
    const planned = await run(['plan', '--json', '--out', 'plan.json']);
    assert.is(planned.code, 0, planned.err);
    const plan = JSON.parse(planned.out) as Plan;
    const deletes = plan.actions.filter((a) => a.type === 'delete');
    assert.equal(deletes.map((a) => a.tag), ['pr-9'], 'only the real PR tag is deleted');
    assert.equal(plan.kept.map((k) => k.tag), ['v1.0.0']);
    const invalid = plan.skipped.filter((s) => s.reason === 'invalid tag name from registry');
    assert.is(invalid.length, HOSTILE.length, JSON.stringify(plan.skipped));
    assert.is(plan.summary.skipped, HOSTILE.length);
    assert.not.ok(planned.out.includes('\u001b') || planned.out.includes('\u0007') || planned.out.includes('\u009b'), 'no control character reaches the output');
    assertStayedInRepo(raw);

    const applied = await run(['apply', 'plan.json']);
    assert.is(applied.code, 0, applied.out + applied.err);
    assert.match(applied.out, /Apply: 1 done, 0 stale, 0 failed\./);
    assert.equal(registry.store.tags('app').map((t) => t.tag), ['v1.0.0'], 'v1.0.0 is untouched, pr-9 is gone');
    assert.equal(registry.store.tags('other').map((t) => t.tag), ['latest'], 'the other repository is untouched');
    const sent = raw.filter((r) => r.method === 'DELETE').map((r) => r.url);
    assert.is(sent.length, 2, 'untag pr-9, then delete its manifest by digest');
    assert.is(sent[0], '/v2/app/manifests/pr-9');
    assert.match(sent[1] ?? '', /^\/v2\/app\/manifests\/sha256:[0-9a-f]{64}$/);
    assertStayedInRepo(raw);
  });
});

test('the human plan shows each invalid name quoted and escaped, without control characters', async () => {
  await withWorld(async ({ run }) => {
    const planned = await run(['plan']);
    assert.is(planned.code, 0, planned.err);
    assert.match(planned.out, '~ "pr-1/../v1.0.0"  skipped: invalid tag name from registry');
    assert.match(planned.out, '~ "../../../v2/other/manifests/latest"  skipped: invalid tag name from registry');
    assert.match(planned.out, '~ "pr-3\\u001b[2J\\u001b]0;owned\\u0007\\u009b31m"  skipped: invalid tag name from registry');
    assert.match(planned.out, /~ "pr-x+\.\.\." \(200 characters\)  skipped: invalid tag name from registry/);
    assert.not.ok(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(planned.out), 'no control character reaches the terminal');
    const markdown = await run(['plan', '--format', 'markdown']);
    assert.is(markdown.code, 0, markdown.err);
    assert.match(markdown.out, '| ⏭ skip | `"pr-1/../v1.0.0"` | — | invalid tag name from registry |');
    assert.not.ok(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(markdown.out));
  });
});

test.run();
