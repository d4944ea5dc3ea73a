import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keepNewestTags } from './newest.ts';
import { NOW, daysAgo, digestOf, hexOf, noFacts, tag } from '../../../test/plan/fixtures.ts';
import type { TagRecord } from '../../model/inventory.ts';

const input = (tags: TagRecord[]) => ({ repo: 'r.example.com/app', tags, now: NOW, facts: noFacts });

test('newest: keeps the N most recently pushed tags', () => {
  const tags = [1, 2, 3, 4, 5].map((d) => tag(`b-${d}`, digestOf(`${d}`), daysAgo(d)));
  const kept = keepNewestTags({ count: 2 }, input(tags));
  assert.equal([...kept], [['b-1', 'newest 2'], ['b-2', 'newest 2']]);
});

test('newest: with a tags regex, ranks only tags in that scope', () => {
  const tags = [tag('main-1', digestOf('1'), daysAgo(5)), tag('pr-1', digestOf('2'), daysAgo(1)), tag('main-2', digestOf('3'), daysAgo(3))];
  const kept = keepNewestTags({ count: 1, tags: '^main-' }, input(tags));
  assert.equal([...kept], [['main-2', 'newest 1 (^main-)']]);
});

test('newest: a tag with an unknown push time counts as the newest', () => {
  const tags = [tag('known', digestOf('1'), daysAgo(0)), tag('unknown', digestOf('2'))];
  assert.equal([...keepNewestTags({ count: 1 }, input(tags)).keys()], ['unknown']);
});

test('newest: equal push times are broken by tag name, whatever the input order', () => {
  const same = daysAgo(1);
  const tags = ['c', 'a', 'b'].map((n) => tag(n, digestOf(n), same));
  assert.equal([...keepNewestTags({ count: 2 }, input(tags)).keys()].sort(), ['a', 'b']);
  assert.equal([...keepNewestTags({ count: 2 }, input([...tags].reverse())).keys()].sort(), ['a', 'b']);
});

test('newest: referrer tags (sha256-<hex>.sig) never take a slot', () => {
  const subject = digestOf('img');
  const tags = [tag(`sha256-${hexOf(subject)}.sig`, digestOf('sig'), daysAgo(0)), tag('img', subject, daysAgo(3)), tag('old', digestOf('o'), daysAgo(9))];
  assert.equal([...keepNewestTags({ count: 1 }, input(tags)).keys()], ['img']);
});

test('newest: zero keeps nothing', () => {
  assert.is(keepNewestTags({ count: 0 }, input([tag('a', digestOf('a'))])).size, 0);
});

test('newest with groupBy: keeps the N newest of every group, and nothing the pattern does not match', () => {
  const tags = [
    tag('pr-12-a', digestOf('a'), daysAgo(9)),
    tag('pr-12-b', digestOf('b'), daysAgo(5)),
    tag('pr-12-c', digestOf('c'), daysAgo(1)),
    tag('pr-7-a', digestOf('d'), daysAgo(30)),
    tag('main-1', digestOf('e'), daysAgo(0)),
  ];
  const kept = keepNewestTags({ count: 2, groupBy: '^pr-(\\d+)-' }, input(tags));
  assert.equal([...kept].sort(), [
    ['pr-12-b', 'newest 2 in group "12" of ^pr-(\\d+)-'],
    ['pr-12-c', 'newest 2 in group "12" of ^pr-(\\d+)-'],
    ['pr-7-a', 'newest 2 in group "7" of ^pr-(\\d+)-'],
  ]);
});

test('newest with groupBy: several capture groups form one key; no capture group groups by the whole match', () => {
  const tags = [tag('api-main-1', digestOf('1'), daysAgo(3)), tag('api-main-2', digestOf('2'), daysAgo(1)), tag('web-main-1', digestOf('3'), daysAgo(2))];
  assert.equal([...keepNewestTags({ count: 1, groupBy: '^([a-z]+)-([a-z]+)-' }, input(tags)).keys()].sort(), ['api-main-2', 'web-main-1']);
  assert.equal([...keepNewestTags({ count: 1, groupBy: '^[a-z]+' }, input(tags)).keys()].sort(), ['api-main-2', 'web-main-1']);
});

test('newest with groupBy and a tags scope: groups only the tags in scope', () => {
  const tags = [tag('pr-1-x', digestOf('1'), daysAgo(3)), tag('pr-1-y', digestOf('2'), daysAgo(1)), tag('pr-2-x', digestOf('3'), daysAgo(2))];
  assert.equal([...keepNewestTags({ count: 1, tags: 'x$', groupBy: '^pr-(\\d+)-' }, input(tags)).keys()].sort(), ['pr-1-x', 'pr-2-x']);
});

test.run();
