/** Reading secrets referenced by the config, and keeping their values out of every message. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CredentialsError } from '../errors.ts';
import { loadConfig } from './load.ts';
import { readSecret } from './secrets.ts';

test('an env reference reads the variable; unset or empty is undefined', async () => {
  assert.is(await readSecret({ env: 'TOKEN' }, { TOKEN: 's3cret' }, '/'), 's3cret');
  assert.is(await readSecret({ env: 'TOKEN' }, {}, '/'), undefined);
  assert.is(await readSecret({ env: 'TOKEN' }, { TOKEN: '' }, '/'), undefined);
});

test('a file reference reads the file relative to the config directory, trimmed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'regplan-secret-'));
  try {
    writeFileSync(path.join(dir, 'token'), '  tok-123\n');
    assert.is(await readSecret({ file: 'token' }, {}, dir), 'tok-123');
    assert.is(await readSecret({ file: path.join(dir, 'token') }, {}, '/elsewhere'), 'tok-123');
    writeFileSync(path.join(dir, 'blank'), '\n');
    assert.is(await readSecret({ file: 'blank' }, {}, dir), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a secret file that is a device or directory is refused, not read', async () => {
  for (const [file, what] of [['/dev/urandom', 'character device'], ['/', 'directory']] as const) {
    const error = await readSecret({ file }, {}, '/').catch((e: unknown) => e);
    assert.instance(error, CredentialsError);
    assert.match((error as CredentialsError).message, what);
  }
});

test('a missing secret file is a CredentialsError naming the file', async () => {
  const error = await readSecret({ file: 'missing-token' }, {}, '/nonexistent-dir').catch((e: unknown) => e);
  assert.instance(error, CredentialsError);
  assert.is((error as CredentialsError).message, 'cannot read the secret file "/nonexistent-dir/missing-token": ENOENT');
});

test('no problem text or hint ever contains a literal secret written in the config', () => {
  const secrets = ['hunter2-Passw0rd', 'ghp_abcdefghijklmnop', 'glpat-XYZ987', '424242'];
  const text = [
    'version: 1',
    'registries:',
    '  harbor.example.com:',
    `    password: ${secrets[0]}`,
    '    credentials:',
    `      token: ${secrets[1]}`,
    `      username: ${secrets[3]}`,
    'policies:',
    '  ci:',
    '    keep: [{ newest: 1 }]',
    'repos:',
    '  - repo: harbor.example.com/a',
    '    cleanup: ci',
    '    bundles:',
    '      - tag: x',
    '        files: [a]',
    `        annotations: { api-token: ${secrets[2]} }`,
  ].join('\n');
  const result = loadConfig(text, { file: 'registry.config.yaml' });
  assert.equal(result.errors.map((e) => e.path), [
    '/registries/harbor.example.com/password',
    '/registries/harbor.example.com/credentials/token',
    '/registries/harbor.example.com/credentials/username',
    '/repos/0/bundles/0/annotations/api-token',
  ]);
  const everything = JSON.stringify(result);
  for (const secret of secrets) assert.not.ok(everything.includes(secret), `the output does not contain ${secret}`);
});

test.run();
