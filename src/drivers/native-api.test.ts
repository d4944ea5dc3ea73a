import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError, ProtocolError, RegistryError } from '../errors.ts';
import { startScriptedServer } from '../../test/support/scripted-server.ts';
import {
  basicAuthorization, bodyNext, bodyTokenNext, confirmGone, headerPageNext, linkNext, NativeApi, nativeApiBase, pageNumberNext, SingleFlight, vendorMessage,
} from './native-api.ts';

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


const items = (data: unknown) => (data as { items?: number[] }).items;

test('listAll follows Link pages on its own origin and stops at an empty page', async () => {
  const server = await startScriptedServer((r) => {
    const page = Number(r.query.get('page') ?? '1');
    const next = page < 3 ? { link: `<${'/api/list'}?page=${page + 1}>; rel="next"` } : {};
    return { status: 200, headers: next, body: { items: page <= 3 ? [page * 10, page * 10 + 1] : [] } };
  });
  try {
    const api = new NativeApi({ base: `${server.url}/api`, title: 'X API', authorization: async () => `Bearer ${SECRET}`, authHint: '-' });
    assert.equal(await api.listAll('list', { items, next: linkNext, subject: 'x/app', query: { page: 1 } }), [10, 11, 20, 21, 30, 31]);
    assert.is(server.requests.length, 3);
  } finally {
    await server.close();
  }
});

test('listAll refuses a next page on another origin and sends it nothing', async () => {
  const foreign = await startScriptedServer(() => ({ status: 200, body: { items: [] } }));
  const server = await startScriptedServer(() => ({ status: 200, headers: { link: `<${foreign.url}/steal?page=2>; rel="next"` }, body: { items: [1], next: `${foreign.url}/steal` } }));
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authorization: async () => `Bearer ${SECRET}`, authHint: '-' });
    for (const next of [linkNext, bodyNext<{ next?: string }>('next')]) {
      const error = await api.listAll('list', { items, next, subject: 'x/app' }).then(() => undefined, (e: unknown) => e);
      assert.instance(error, ProtocolError);
      assert.match((error as Error).message, `next page of "x/app" at another origin (${foreign.url})`);
    }
    assert.is(foreign.requests.length, 0);
  } finally {
    await server.close();
    await foreign.close();
  }
});

test('listAll: a 404 on the first page names the URL; a 404 past the first page ends the list; a repeated page is an error', async () => {
  const server = await startScriptedServer((r) => {
    if (r.path === '/missing') return { status: 404, body: { message: 'not found' } };
    if (r.path === '/shrunk') return r.query.get('page') === '2' ? { status: 404, body: {} } : { status: 200, body: { items: [1], next: '/shrunk?page=2' } };
    return { status: 200, body: { items: [1], next: '/loop' } };
  });
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-' });
    const missing = await api.listAll('missing', { items, next: linkNext, subject: 'x/app' }).then(() => undefined, (e: unknown) => e);
    assert.instance(missing, RegistryError);
    assert.is((missing as RegistryError).status, 404);
    assert.match((missing as Error).message, `GET ${server.url}/missing answered HTTP 404`);
    assert.equal(await api.listAll('shrunk', { items, next: bodyNext<{ next?: string }>('next'), subject: 'x/app' }), [1]);
    const loop = await api.listAll('loop', { items, next: bodyNext<{ next?: string }>('next'), subject: 'x/app' }).then(() => undefined, (e: unknown) => e);
    assert.match((loop as Error).message, 'kept paging "x/app"');
  } finally {
    await server.close();
  }
});

test('listAll: 204 No Content is an empty page (CRaaS answers an empty list so)', async () => {
  const server = await startScriptedServer(() => ({ status: 204 }));
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-' });
    assert.equal(await api.listAll('list', { items, next: linkNext, subject: 'x/app' }), []);
  } finally {
    await server.close();
  }
});

test('listAll: a page that is not a list is an error, never an empty repository', async () => {
  const server = await startScriptedServer(() => ({ status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } }));
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-' });
    const error = await api.listAll('list', { items, next: linkNext, subject: 'x/app' }).then(() => undefined, (e: unknown) => e);
    assert.match((error as Error).message, 'without the expected list');
  } finally {
    await server.close();
  }
});

test('page rules: X-Next-Page sets the page parameter; has_additional counts pages up', async () => {
  const server = await startScriptedServer((r) => {
    const page = Number(r.query.get('page') ?? '1');
    return r.path === '/gitlab'
      ? { status: 200, headers: page < 2 ? { 'x-next-page': String(page + 1) } : {}, body: { items: [page] } }
      : { status: 200, body: { items: [page], has_additional: page < 3 } };
  });
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-' });
    assert.equal(await api.listAll('gitlab', { items, next: headerPageNext('x-next-page'), subject: 's', query: { per_page: 2 } }), [1, 2]);
    assert.equal(await api.listAll('quay', { items, next: pageNumberNext<{ has_additional?: boolean }>('page', (d) => d.has_additional === true), subject: 's', query: { page: 1 } }), [1, 2, 3]);
    assert.is(server.requestsTo('/gitlab')[1]?.query.get('per_page'), '2');
  } finally {
    await server.close();
  }
});

test('bodyTokenNext: an opaque token goes back as a query parameter of the same URL, even when it looks like another origin', async () => {
  const seen: string[] = [];
  const server = await startScriptedServer((r) => {
    const token = r.query.get('next_page');
    seen.push(token ?? '');
    const next = token === null ? 'tok-2' : token === 'tok-2' ? 'http://198.51.100.7/steal?x=1' : undefined;
    return { status: 200, body: { items: [seen.length], ...(next === undefined ? {} : { next_page: next }) } };
  });
  try {
    const api = new NativeApi({ base: server.url, title: 'Quay API', authHint: '-' });
    const items = (d: { items?: number[]; next_page?: string }) => d.items;
    assert.equal(await api.listAll('repository', { items, next: bodyTokenNext<{ items?: number[]; next_page?: string }>('next_page'), subject: 'quay.io/acme/', query: { namespace: 'acme' } }), [1, 2, 3]);
    assert.equal(seen, ['', 'tok-2', 'http://198.51.100.7/steal?x=1']);
    assert.ok(server.requests.every((r) => r.path === '/repository' && r.query.get('namespace') === 'acme'));
  } finally {
    await server.close();
  }
});

test('retryWhen: a vendor answer the vendor calls retryable is retried with its wait', async () => {
  let calls = 0;
  const server = await startScriptedServer(() => (++calls < 3 ? { status: 409, body: { message: 'gc running' } } : { status: 204 }));
  try {
    const api = new NativeApi({ base: server.url, title: 'X API', authHint: '-', retry: { baseDelayMs: 1 }, retryWhen: (r) => (r.status === 409 ? 5 : undefined) });
    assert.is((await api.request('DELETE', 'thing')).status, 204);
    assert.is(calls, 3);
    calls = -10;
    const error = await api.request('DELETE', 'thing').then(() => undefined, (e: unknown) => e);
    assert.match((error as Error).message, 'HTTP 409 "gc running"');
    assert.is(calls, -5); // five attempts, then the vendor's answer is final
  } finally {
    await server.close();
  }
});

test('nativeApiBase: a bare configured origin gets the vendor path; derived bases use http only for loopback or insecure', () => {
  assert.is(nativeApiBase({ host: 'h', configured: 'http://10.0.0.1:8080', path: '/api/v1' }), 'http://10.0.0.1:8080/api/v1');
  assert.is(nativeApiBase({ host: 'h', configured: 'https://q.example/api/v1/', path: '/api/v1' }), 'https://q.example/api/v1');
  assert.is(nativeApiBase({ host: 'quay.example', path: '/api/v1' }), 'https://quay.example/api/v1');
  assert.is(nativeApiBase({ host: 'quay.example', insecure: true, path: '/api/v1' }), 'http://quay.example/api/v1');
  assert.is(nativeApiBase({ host: '127.0.0.1:5000', path: '/api/v1' }), 'http://127.0.0.1:5000/api/v1');
  assert.is(nativeApiBase({ host: 'ghcr.io', fallback: 'https://api.github.com' }), 'https://api.github.com');
});

test('confirmGone: gone only when the fresh lookup finds nothing; still there is the refusal', async () => {
  const refused = () => new RegistryError('still there', { status: 404 });
  await confirmGone({ stillThere: async () => false, refused });
  await confirmGone({ stillThere: async () => { throw new RegistryError('gone', { status: 404 }); }, refused });
  const error = await confirmGone({ stillThere: async () => true, refused }).then(() => undefined, (e: unknown) => e);
  assert.match((error as Error).message, 'still there');
});

test('a redirect to another origin carries no credential header of any vendor (Authorization, X-Auth-Token, PRIVATE-TOKEN, JOB-TOKEN)', async () => {
  const elsewhere = await startScriptedServer(() => ({ status: 200, body: { ok: true } }));
  const server = await startScriptedServer(() => ({ status: 307, headers: { location: `${elsewhere.url}/moved` } }));
  try {
    const api = new NativeApi({
      base: server.url, title: 'X API', authHint: '-', authorization: async () => `Bearer ${SECRET}`,
      headers: { 'x-auth-token': SECRET, 'private-token': SECRET, 'job-token': SECRET, 'x-jfrog-art-api': SECRET },
    });
    assert.equal((await api.get('thing')).data, { ok: true });
    assert.is(server.requests[0]?.headers['x-auth-token'], SECRET, 'the API origin got its credential');
    const forwarded = elsewhere.requests[0];
    assert.ok(forwarded, 'the redirect was followed');
    assert.not.match(JSON.stringify(forwarded.headers), SECRET);
  } finally {
    await server.close();
    await elsewhere.close();
  }
});

test('SingleFlight: concurrent runs of one key share one call; a later run calls again', async () => {
  const flight = new SingleFlight<number>();
  let calls = 0;
  const work = async () => (await new Promise((r) => setTimeout(r, 5)), ++calls);
  assert.equal(await Promise.all([flight.run('a', work), flight.run('a', work), flight.run('b', work)]), [1, 1, 2]);
  assert.is(await flight.run('a', work), 3);
});

test.run();
