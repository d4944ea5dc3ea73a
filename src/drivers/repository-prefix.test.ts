/** The discovery prefix rules every native driver shares: which namespace a prefix names, and what is kept. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { namespaceNotFound, namespaceRequired, namesWithPrefix, prefixNamespace, prefixOwner } from './repository-prefix.ts';

test('a prefix names the namespace up to its last slash; without a slash it names the whole registry', () => {
  assert.is(prefixNamespace('acme/'), 'acme');
  assert.is(prefixNamespace('acme/ap'), 'acme');
  assert.is(prefixNamespace('group/sub/'), 'group/sub');
  assert.is(prefixNamespace('acme'), '');
  assert.is(prefixNamespace(''), '');
  assert.is(prefixOwner('group/sub/'), 'group');
  assert.is(prefixOwner('acme/ap'), 'acme');
  assert.is(prefixOwner('acme'), '');
});

test('listed names are kept when they start with the prefix, once each, sorted', () => {
  assert.equal(namesWithPrefix(['acme/b', 'acme/a', 'acme/b', 'acme-corp/x', 'other/acme/y'], 'acme/'), ['acme/a', 'acme/b']);
  assert.equal(namesWithPrefix(['b', 'a/x'], ''), ['a/x', 'b']);
});

test('the errors name the registry, the namespace and what to write instead', () => {
  const required = namespaceRequired('ghcr.io', 'owner', 'ghcr.io/acme/*');
  assert.match(required.message, '"ghcr.io"');
  assert.match(required.hint ?? '', 'ghcr.io/acme/*');
  const missing = namespaceNotFound({ host: 'quay.io', namespace: 'nobody', what: 'Quay namespace', tried: ['https://quay.io/api/v1/organization/nobody'], hint: 'check it', apiHost: 'quay.io' });
  assert.is(missing.message, 'Quay namespace "nobody" does not exist on "quay.io": GET https://quay.io/api/v1/organization/nobody answered HTTP 404');
  assert.is(missing.status, 404);
  assert.is(missing.context.repo, 'quay.io/nobody/');
});

test.run();
