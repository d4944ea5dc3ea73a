import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './main.ts';
import { captureIo } from '../../test/support/io.ts';

async function run(argv: string[]) {
  const io = captureIo({ HOME: '/nonexistent', PATH: '' });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** Splits the table into rows of cells, using the header's column starts. */
function parseTable(text: string): Record<string, string>[] {
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(2)) {
    if (line.trim() === '') break;
    rows.push(Object.fromEntries(starts.map((col, i) => [col.name, line.slice(col.at, starts[i + 1]?.at ?? undefined).trim()])));
  }
  return rows;
}

test('prints an aligned table with one row per registry type and the seed table\'s columns', async () => {
  const r = await run(['registries', '--wide']);
  assert.is(r.code, 0, r.err);
  assert.is(r.err, '');
  const lines = r.out.split('\n');
  assert.match(lines[0] ?? '', /^registry\s+type\s+detect \(host\)\s+push\s+bundles\s+cleanup\s+this build\s+native credentials$/);
  assert.match(lines[1] ?? '', /^-+( +-+)+$/);
  const rows = parseTable(r.out);
  assert.is(rows.length, 15);
  const byDetect = (detect: string) => rows.find((row) => row['detect (host)'] === detect);
  assert.equal(byDetect('ghcr.io'), { registry: 'GitHub Packages', type: 'github', 'detect (host)': 'ghcr.io', push: 'ok', bundles: 'ok', cleanup: '*ok', 'this build': 'ready', 'native credentials': '--repo-github-token' });
  assert.is(byDetect('docker.pkg.github.com')?.bundles, 'no');
  assert.is(byDetect('anything else')?.type, 'default');
  assert.is(byDetect('anything else')?.cleanup, 'ok');
  assert.is(byDetect('set explicitly')?.type, 'nexus');
  assert.is(byDetect('oci:<dir>')?.type, 'oci');
  const byType = (type: string) => rows.find((row) => row['type'] === type);
  assert.is(byType('ecr')?.['native credentials'], 'standard AWS credential chain');
  assert.is(byType('ecr')?.cleanup, '*ok');
  assert.is(byType('gcr')?.['detect (host)'], 'gcr.io, *.gcr.io, container.cloud.google.com, *-docker.pkg.dev');
  assert.is(byType('dockerhub')?.cleanup, '*ok');
  assert.is(byType('quay')?.cleanup, 'ok');
  assert.is(byType('quay')?.['native credentials'], '[--repo-quay-token]');
  assert.is(byType('selectel')?.['detect (host)'], 'cr.selcloud.ru');
  assert.is(byType('default')?.['this build'], 'ready');
  assert.is(byType('harbor')?.['this build'], 'ready');
  assert.match(r.out, '*ok: deletion needs native credentials beyond the Docker login');
});

test('every row lines up under the header', async () => {
  const r = await run(['registries', '--wide']);
  const lines = r.out.split('\n');
  const cleanupAt = (lines[0] ?? '').indexOf('cleanup');
  for (const line of lines.slice(2, 17)) assert.match(line.slice(cleanupAt, cleanupAt + 3), /^(ok |\*ok)$/, line);
});

/** Reads the wrapped table back into one row of whole cells per registry (rows are separated by blank lines). */
function parseWrapped(text: string): Record<string, string>[] {
  const [head = '', , ...rest] = text.split('\n\n*ok:')[0]?.split('\n') ?? [];
  const starts = [...head.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  const join = (a: string, b: string) => (a === '' || b === '' ? a + b : /[^ ][./-]$/.test(a) ? a + b : `${a} ${b}`);
  const blocks = rest.join('\n').split('\n\n');
  return blocks.map((block) => {
    const row: Record<string, string> = {};
    for (const line of block.split('\n')) {
      starts.forEach((col, i) => (row[col.name] = join(row[col.name] ?? '', line.slice(col.at, starts[i + 1]?.at ?? undefined).trim())));
    }
    return row;
  });
}

test('the table fits 120 columns, long cells continuing below; joined back it is the --wide table', async () => {
  const narrow = await run(['registries']);
  const wide = await run(['registries', '--wide']);
  assert.is(narrow.code, 0, narrow.err);
  for (const line of narrow.out.split('\n')) assert.ok(line.length <= 120, `${line.length} columns: ${line}`);
  assert.ok(wide.out.split('\n').some((line) => line.length > 120), '--wide keeps one line per registry');
  assert.equal(parseWrapped(narrow.out), parseTable(wide.out));
});

test('--json prints the same matrix as data', async () => {
  const r = await run(['registries', '--json']);
  assert.is(r.code, 0, r.err);
  const { registries } = JSON.parse(r.out) as { registries: Record<string, unknown>[] };
  assert.is(registries.length, 15);
  const ghcr = registries.find((row) => row['detect'] === 'ghcr.io');
  assert.is(ghcr?.['type'], 'github');
  assert.is(ghcr?.['title'], 'GitHub Packages');
  assert.is(ghcr?.['push'], true);
  assert.is(ghcr?.['bundles'], true);
  assert.is(ghcr?.['cleanup'], '*ok');
  assert.is(ghcr?.['untag'], false);
  assert.type(ghcr?.['cleanupPath'], 'string');
  assert.equal((ghcr?.['nativeCredentials'] as { flag: string; env: string }[]).map((c) => [c.flag, c.env]), [['--repo-github-token', 'REGPLAN_REPO_GITHUB_TOKEN']]);
  const legacy = registries.find((row) => row['detect'] === 'docker.pkg.github.com');
  assert.is(legacy?.['bundles'], false);
  assert.match(String(legacy?.['bundlesRefusal']), 'does not store OCI artifacts');
});

test('an unexpected argument or flag is a usage error (exit 2)', async () => {
  for (const argv of [['registries', 'ghcr.io'], ['registries', '--yaml']]) {
    const r = await run(argv);
    assert.is(r.code, 2, argv.join(' '));
    assert.match(r.err, /^Error: regplan registries: /);
    assert.is(r.out, '');
  }
});

test.run();
