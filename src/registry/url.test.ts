import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidNameError } from '../model/names.ts';
import { registryUrl, staysOnEndpoint } from './url.ts';

const base = new URL('https://registry.example:5000/');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

test('every endpoint gets its path from the named parts; digests keep their ":"', () => {
  assert.is(registryUrl(base, { endpoint: 'ping' }).href, 'https://registry.example:5000/v2/');
  assert.is(registryUrl(base, { endpoint: 'catalog' }).href, 'https://registry.example:5000/v2/_catalog');
  assert.is(registryUrl(base, { endpoint: 'tags', name: 'acme/api' }).href, 'https://registry.example:5000/v2/acme/api/tags/list');
  assert.is(registryUrl(base, { endpoint: 'manifest', name: 'acme/api', reference: 'v1.0.0' }).pathname, '/v2/acme/api/manifests/v1.0.0');
  assert.is(registryUrl(base, { endpoint: 'manifest', name: 'app', reference: DIGEST }).pathname, `/v2/app/manifests/${DIGEST}`);
  assert.is(registryUrl(base, { endpoint: 'blob', name: 'a/b/c', digest: DIGEST }).pathname, `/v2/a/b/c/blobs/${DIGEST}`);
  assert.is(registryUrl(base, { endpoint: 'uploads', name: 'app' }).pathname, '/v2/app/blobs/uploads/');
  assert.is(registryUrl(base, { endpoint: 'referrers', name: 'app', digest: DIGEST }).pathname, `/v2/app/referrers/${DIGEST}`);
});

test('only the origin of the base counts', () => {
  assert.is(registryUrl(new URL('http://127.0.0.1:8080/some/prefix/?q=1#f'), { endpoint: 'tags', name: 'app' }).href, 'http://127.0.0.1:8080/v2/app/tags/list');
});

test('a tag that is a path trick never becomes a URL: ../, %2e%2e, %2f, control characters, 200 characters', () => {
  const hostile = ['pr-1/../v1.0.0', '../../../v2/other/manifests/latest', 'pr-2%2f..%2fv1', '%2e%2e', '..', '.', 'pr-3\u001b[2J', 'v1?x=1', 'v1#frag', `pr-${'x'.repeat(197)}`, ''];
  for (const reference of hostile) {
    assert.throws(() => registryUrl(base, { endpoint: 'manifest', name: 'app', reference }), (e: unknown) => e instanceof InvalidNameError && e.kind === 'reference', JSON.stringify(reference));
  }
});

test('repository names and digests are checked too, and the message says where the name came from', () => {
  for (const name of ['app/../other', '../other', 'app/%2e%2e/other', 'App', 'a//b', '']) {
    assert.throws(() => registryUrl(base, { endpoint: 'tags', name }), (e: unknown) => e instanceof InvalidNameError && e.kind === 'repository name', name);
  }
  for (const digest of ['sha256:abc', `sha256:${'a'.repeat(64)}/../x`, 'v1']) {
    const isInvalidDigest = (e: unknown) => e instanceof InvalidNameError && e.kind === 'digest';
    assert.throws(() => registryUrl(base, { endpoint: 'blob', name: 'app', digest }), isInvalidDigest, digest);
    assert.throws(() => registryUrl(base, { endpoint: 'referrers', name: 'app', digest }), isInvalidDigest, digest);
  }
  assert.throws(() => registryUrl(base, { endpoint: 'manifest', name: 'app', reference: 'a/../b' }, { where: 'a request to registry r.example' }), /invalid reference "a\/\.\.\/b" in a request to registry r\.example/);
});

test('staysOnEndpoint: a next page may change the query only', () => {
  const first = new URL('https://r.example/v2/app/tags/list?n=2');
  assert.ok(staysOnEndpoint(new URL('https://r.example/v2/app/tags/list?n=2&last=b'), first));
  assert.not.ok(staysOnEndpoint(new URL('https://evil.example/v2/app/tags/list?last=b'), first), 'another host');
  assert.not.ok(staysOnEndpoint(new URL('http://r.example/v2/app/tags/list?last=b'), first), 'another scheme');
  assert.not.ok(staysOnEndpoint(new URL('/v2/other/tags/list?last=b', first), first), 'another repository');
  assert.not.ok(staysOnEndpoint(new URL('/v2/app/tags/list/../../other/tags/list', first), first), 'dot segments resolved to another repository');
  assert.not.ok(staysOnEndpoint(new URL('/v2/app%2F..%2Fother/tags/list', first), first), 'encoded slashes');
  assert.not.ok(staysOnEndpoint(new URL('/v2/app/manifests/latest', first), first), 'another endpoint');
  assert.not.ok(staysOnEndpoint(new URL('https://user:pw@r.example/v2/app/tags/list'), first), 'credentials in the link');
});

test.run();
