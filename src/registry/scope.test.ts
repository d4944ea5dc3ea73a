import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatScope, mergeScopes, parseScope, repositoryScope, scopesCover } from './scope.ts';

test('a scope splits into type, name and actions', () => {
  assert.equal(parseScope('repository:samalba/my-app:pull,push'), { type: 'repository', name: 'samalba/my-app', actions: ['pull', 'push'] });
});

test('a resource name holding host:port is split on the last two colons', () => {
  assert.equal(parseScope('repository:localhost:5000/acme/api:pull'), { type: 'repository', name: 'localhost:5000/acme/api', actions: ['pull'] });
});

test('catalog scope and the plugin class form parse', () => {
  assert.equal(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  assert.is(parseScope('repository(plugin):a/b:pull')?.type, 'repository(plugin)');
});

test('strings without two colons, a name or actions are not scopes', () => {
  assert.is(parseScope('repository:a'), undefined);
  assert.is(parseScope('repository::pull'), undefined);
  assert.is(parseScope('repository:a:'), undefined);
  assert.is(parseScope(''), undefined);
});

test('repositoryScope asks pull for reads, pull+push for writes and delete for DELETE', () => {
  assert.is(repositoryScope('acme/api', 'pull'), 'repository:acme/api:pull');
  assert.is(repositoryScope('acme/api', 'push'), 'repository:acme/api:pull,push');
  assert.is(repositoryScope('acme/api', 'delete'), 'repository:acme/api:delete');
  assert.is(formatScope({ type: 'repository', name: 'x', actions: ['pull'] }), 'repository:x:pull');
});

test('mergeScopes unions actions per resource and sorts, so equal access gives an equal key', () => {
  assert.equal(mergeScopes(['repository:b:push', 'repository:a:pull', 'repository:b:pull']), ['repository:a:pull', 'repository:b:pull,push']);
  assert.equal(mergeScopes(['repository:a:pull', 'repository:a:*']), ['repository:a:*']);
  assert.equal(mergeScopes(['repository:a:pull', 'repository:a:pull']), ['repository:a:pull']);
});

test('scopesCover says whether held scopes already grant the wanted ones', () => {
  assert.ok(scopesCover(['repository:a:pull,push'], ['repository:a:pull']));
  assert.ok(scopesCover(['repository:a:*'], ['repository:a:delete']));
  assert.not.ok(scopesCover(['repository:a:pull'], ['repository:a:push']));
  assert.not.ok(scopesCover(['repository:a:pull'], ['repository:b:pull']));
});

test.run();
