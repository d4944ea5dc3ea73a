/** The run's transport settings reach every registry request: settings.timeout, and long retry waits said on stderr (issue 9 #12). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { captureIo } from '../../test/support/io.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { runCli } from './main.ts';

test('plan prints what it is waiting for when the registry asks it to wait 2 s or more', async () => {
  let limited = false;
  const server = await startScriptedServer((req) => {
    if (req.path === '/v2/app/tags/list' && !limited) {
      limited = true;
      return { status: 429, headers: { 'retry-after': '2' }, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] } };
    }
    if (req.path === '/v2/app/tags/list') return { status: 200, body: { name: 'app', tags: [] } };
    return { status: 200, body: {} };
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-wait-notice-'));
  try {
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'settings: { timeout: 30s }',
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      'repos:',
      `  - repo: ${server.host}/app`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
    assert.is(await runCli(['plan'], io), 0, io.err());
    assert.match(io.err(), `waiting 2s before retrying GET http://${server.host}/v2/app/tags/list (HTTP 429, Retry-After; attempt 2 of 5)`);
    assert.is(server.requestsTo('/v2/app/tags/list').length, 2);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('settings.timeout bounds each registry request of a plan', async () => {
  const server = await startScriptedServer((req) => (req.path === '/v2/app/tags/list' ? new Promise(() => {}) : { status: 200, body: {} }));
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-timeout-'));
  try {
    await writeFile(path.join(dir, 'registry.config.yaml'), [
      'version: 1',
      'settings: { timeout: 1s }',
      'policies:',
      '  ci:',
      "    keep: [{ tags: '^v' }]",
      'repos:',
      `  - repo: ${server.host}/app`,
      '    cleanup: ci',
      '',
    ].join('\n'));
    const io = captureIo({ HOME: dir, REGPLAN_CACHE_DIR: path.join(dir, 'cache') }, dir);
    const started = Date.now();
    assert.is(await runCli(['plan'], io), 1);
    assert.match(io.err(), `cannot reach ${server.host} (GET http://${server.host}/v2/app/tags/list): timed out after 1s`);
    assert.match(io.err(), 'Hint: the registry did not answer within settings.timeout');
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
