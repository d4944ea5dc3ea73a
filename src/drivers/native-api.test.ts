import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, RegistryError } from '../errors.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import { basicAuthorization, NativeApi, vendorMessage } from './native-api.ts';

const SECRET = 'Zq7xW3-canary-native-secret';

test('sends JSON with the authorization header, parses the answer, and resolves paths against the base', async () => {
  const server = await startScriptedServer((r) =>
    r.path === '/api/v2.0/projects/p/repositories' ? { status: 200, body: [{ name: 'p/app' }] } : { status: 404, body: {} },
  );
  try {
    const api = new NativeApi({ base: `${server.url}/api/v2.0`, title: 'Harbor API', authorization: async () => basicAuthorization('bot', SECRET), authHint: 'fix it' });
    const answer = await api.get<{ name: string }[]>('/projects/p/repositories', { page: 1, page_size: 50 });
    assert.equal(answer.data, [{ name: 'p/app' }]);
    const request = server.requests[0];
    assert.is(request?.query.get('page_size'), '50');
    assert.is(request?.headers['authorization'], basicAuthorization('bot', SECRET));
  } finally {
    await server.close();
  }
});

test('401/403 become AuthError with the driver\'s hint; the vendor message is quoted and secrets are masked', async () => {
  const server = await startScriptedServer(() => ({ status: 403, body: { errors: [{ code: 'FORBIDDEN', message: `token ${SECRET} lacks delete` }] } }));
  const lines: string[] = [];
  try {
    const api = new NativeApi({ base: server.url, title: 'Quay API', authorization: async () => `Bearer ${SECRET}`, authHint: 'pass a token with repo:admin', debug: (l) => lines.push(l) });
    const error = await api.request('DELETE', '/repository/a/b/tag/x', { subject: 'quay.io/a/b:x' }).then(() => undefined, (e: unknown) => e);
    assert.instance(error, AuthError);
    const e = error as AuthError;
    assert.match(e.message, 'Quay API refused DELETE "quay.io/a/b:x": HTTP 403 "token *** lacks delete"');
    assert.is(e.hint, 'pass a token with repo:admin');
    assert.not.match(JSON.stringify({ m: e.message, h: e.hint, c: e.context, lines }), SECRET);
  } finally {
    await server.close();
  }
});

test('429 with Retry-After is retried; other 4xx are not; expected statuses return', async () => {
  let calls = 0;
  const server = await startScriptedServer((r) => {
    if (r.path === '/limited') return ++calls === 1 ? { status: 429, headers: { 'retry-after': '0' }, body: {} } : { status: 200, body: { ok: true } };
    if (r.path === '/missing') return { status: 404, body: { message: 'repository not found' } };
    return { status: 400, body: 'bad' };
  });
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-', retry: { baseDelayMs: 1 } });
    assert.equal((await api.get('/limited')).data, { ok: true });
    assert.is(calls, 2);
    assert.is((await api.get('/missing', undefined, [200, 404])).status, 404);
    const error = await api.get('/other').then(() => undefined, (e: unknown) => e);
    assert.instance(error, RegistryError);
    assert.match((error as RegistryError).message, 'HTTP 400 "bad"');
    assert.is(server.requests.filter((r) => r.path === '/other').length, 1);
  } finally {
    await server.close();
  }
});

test('vendor messages are found in the common error body shapes', () => {
  assert.is(vendorMessage('{"message":"a"}'), 'a');
  assert.is(vendorMessage('{"errors":[{"code":"NOT_FOUND","message":"b"}]}'), 'b');
  assert.is(vendorMessage('{"error_description":"c"}'), 'c');
  assert.is(vendorMessage('{"detail":"d"}'), 'd');
  assert.is(vendorMessage('{"error":{"code":401,"message":"The request you have made requires authentication."}}'), 'The request you have made requires authentication.');
  assert.is(vendorMessage('plain text'), 'plain text');
});

test.run();
