import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepListedTags, parseKeepList } from './listed.ts';
import { NOW, digestOf, tag } from '../../../test/plan/fixtures.ts';
import { RegplanError } from '../../errors.ts';

const keep = (repo: string, lines: string[], names: string[]) =>
  keepListedTags({ file: './deployed.txt' }, { repo, tags: names.map((n) => tag(n, digestOf(n))), now: NOW, facts: { git: {}, listed: { './deployed.txt': lines } } });

test('listed: keeps plain tags in every repo and repo:tag entries only in that repo', () => {
  const lines = ['# deployed today', 'v1', '', 'ghcr.io/acme/api:v2   # prod', 'ghcr.io/acme/web:v3'];
  const kept = keep('ghcr.io/acme/api', lines, ['v1', 'v2', 'v3', 'v4']);
  assert.equal([...kept], [['v1', 'listed ./deployed.txt'], ['v2', 'listed ./deployed.txt']]);
});

test('listed: repos are compared after normalization (Docker Hub names, host case)', () => {
  assert.equal([...keep('docker.io/library/nginx', ['nginx:1.25', 'index.docker.io/library/nginx:1.26'], ['1.25', '1.26']).keys()], ['1.25', '1.26']);
  assert.equal([...keep('Registry.Example.com:5000/app', ['registry.example.com:5000/app:v1'], ['v1']).keys()], ['v1']);
});

test('listed: a digest entry keeps every tag on that digest', () => {
  const lines = [`ghcr.io/acme/api@${digestOf('v1')}`, `ghcr.io/acme/api:v9@${digestOf('v2')}`];
  assert.equal([...keep('ghcr.io/acme/api', lines, ['v1', 'v2', 'v9', 'v3']).keys()], ['v1', 'v2', 'v9']);
});

test('listed: an unreadable entry refuses the plan with the file and line', () => {
  for (const bad of ['ghcr.io/acme/api', 'two words', 'ghcr.io/acme/api@sha256:zz', 'bad tag!', 'UPPER/Repo:v1']) {
    try {
      parseKeepList('./deployed.txt', ['ok', bad]);
      assert.unreachable(`should have refused ${bad}`);
    } catch (error) {
      assert.instance(error, RegplanError);
      assert.match((error as Error).message, './deployed.txt:2:');
    }
  }
});

test('listed: facts that were not gathered refuse the plan', () => {
  assert.throws(() => keepListedTags({ file: './missing.txt' }, { repo: 'x', tags: [], now: NOW, facts: { git: {}, listed: {} } }), /missing\.txt/);
});

test.run();
