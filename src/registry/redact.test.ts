import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { oneLine, redactUrl, registerSecret, SecretSet } from './redact.ts';
import { parseErrorBody } from './error-response.ts';

test('redactUrl keeps protocol query params and masks everything else, including userinfo', () => {
  assert.is(redactUrl('https://u:p@h/v2/a/tags/list?n=10&last=b'), 'https://h/v2/a/tags/list?n=10&last=b');
  assert.is(redactUrl('https://s3.example/blob?X-Amz-Signature=abc&X-Amz-Credential=k'), 'https://s3.example/blob?X-Amz-Signature=***&X-Amz-Credential=***');
  assert.is(redactUrl('http://h/v2/a/blobs/uploads/1?_state=secret&digest=sha256:aa'), 'http://h/v2/a/blobs/uploads/1?_state=***&digest=sha256%3Aaa');
  assert.is(redactUrl('not a url'), '<invalid url>');
});

test('SecretSet masks every secret it was given, plain and URL-encoded', () => {
  const secrets = new SecretSet();
  secrets.add('p@ss word!');
  secrets.add('ab'); // too short to mask safely
  assert.is(secrets.scrub('x p@ss word! y p%40ss%20word! ab'), 'x *** y *** ab');
});

test('oneLine flattens control characters and shortens long text', () => {
  assert.is(oneLine('a\r\n  b\tc'), 'a b c');
  assert.is(oneLine('x'.repeat(10), 4), 'xxxx…');
});

test('oneLine masks registered secrets before it cuts, so a cut through an echoed secret shows no piece of it', () => {
  const secret = `echoed-${Math.random().toString(36).slice(2)}-token`;
  registerSecret(secret);
  const echoed = `denied: Authorization: Bearer ${secret}`;
  const cut = oneLine(echoed, echoed.length - 5);
  assert.is(cut, 'denied: Authorization: Bearer ***');
  assert.not.ok(cut.includes(secret.slice(0, 8)));
});

test('a secret is masked as a form field too (token request bodies escape ~!\'()* and write spaces as +)', () => {
  const secret = `p~ss (word)!-${Math.random().toString(36).slice(2)}`;
  registerSecret(secret);
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secret }).toString();
  assert.is(new SecretSet().scrub(`refused: ${body}`), 'refused: grant_type=refresh_token&refresh_token=***');
});

test('parseErrorBody reads OCI error bodies; unknown-shaped codes become UNKNOWN; other bodies yield none', () => {
  assert.equal(parseErrorBody('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v1"}}]}'), [
    { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'v1' } },
  ]);
  assert.equal(parseErrorBody('{"errors":[{"message":"no code"},{"code":42}]}'), [
    { code: 'UNKNOWN', message: 'no code' },
    { code: 'UNKNOWN', message: '' },
  ]);
  assert.equal(parseErrorBody('Not Authorized'), []);
  assert.equal(parseErrorBody('{"message":"x"}'), []);
  assert.equal(parseErrorBody('null'), []);
});

test.run();
