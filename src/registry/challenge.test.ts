import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseChallenges, pickChallenge } from './challenge.ts';

test('a distribution Bearer challenge yields realm, service and scope', () => {
  const [c] = parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:acme/api:pull"');
  assert.is(c?.scheme, 'bearer');
  assert.is(c?.realm, 'https://auth.example.com/token');
  assert.is(c?.service, 'registry.example.com');
  assert.equal(c?.scopes, ['repository:acme/api:pull']);
});

test('parameters are read in any order and the scheme is case-insensitive', () => {
  const [c] = parseChallenges('BEARER scope="repository:a:pull", service="svc", realm="https://r/token"');
  assert.is(c?.scheme, 'bearer');
  assert.is(c?.realm, 'https://r/token');
  assert.is(c?.service, 'svc');
  assert.equal(c?.scopes, ['repository:a:pull']);
});

test("ECR's Basic challenge keeps its realm URL and service", () => {
  const [c] = parseChallenges('Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"');
  assert.is(c?.scheme, 'basic');
  assert.is(c?.realm, 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/');
  assert.is(c?.service, 'ecr.amazonaws.com');
});

test('a quoted scope with commas and colons (host:port in the name, several actions) stays whole', () => {
  const [c] = parseChallenges('Bearer realm="https://r/token",scope="repository:localhost:5000/acme/api:pull,push",service="s"');
  assert.equal(c?.scopes, ['repository:localhost:5000/acme/api:pull,push']);
  assert.is(c?.service, 's');
});

test('several space-separated scopes in one scope param become a list', () => {
  const [c] = parseChallenges('Bearer realm="https://r/token",scope="repository:a:pull repository:b:pull,push registry:catalog:*"');
  assert.equal(c?.scopes, ['repository:a:pull', 'repository:b:pull,push', 'registry:catalog:*']);
});

test('error="insufficient_scope" is surfaced', () => {
  const [c] = parseChallenges('Bearer realm="https://r/token",service="s",scope="repository:a:push",error="insufficient_scope"');
  assert.is(c?.error, 'insufficient_scope');
});

test('escaped quotes and backslashes inside a quoted value are unescaped', () => {
  const [c] = parseChallenges('Basic realm="say \\"hi\\", then \\\\ leave"');
  assert.is(c?.realm, 'say "hi", then \\ leave');
});

test('several challenges in one header are all returned, and Bearer is preferred', () => {
  const header = 'Basic realm="Artifactory Realm", Bearer realm="https://r/token",service="s" ,Negotiate';
  const all = parseChallenges(header);
  assert.equal(all.map((c) => c.scheme), ['basic', 'bearer', 'negotiate']);
  assert.is(all[0]?.realm, 'Artifactory Realm');
  assert.is(all[1]?.service, 's');
  assert.is(pickChallenge(header)?.scheme, 'bearer');
});

test('unquoted (token) values and spaces around "=" are accepted', () => {
  const [c] = parseChallenges('Bearer realm = https://r/token , service=registry.docker.io');
  assert.is(c?.realm, 'https://r/token');
  assert.is(c?.service, 'registry.docker.io');
});

test('a token68 credential after the scheme is kept and does not swallow the next challenge', () => {
  const all = parseChallenges('Negotiate YIIBgwYGKwYBBQUC==, Basic realm="x"');
  assert.is(all[0]?.token68, 'YIIBgwYGKwYBBQUC==');
  assert.is(all[1]?.scheme, 'basic');
  assert.is(all[1]?.realm, 'x');
});

test('an empty or missing header yields no challenge; a bare scheme yields one without params', () => {
  assert.equal(parseChallenges(''), []);
  assert.equal(parseChallenges(null), []);
  assert.is(pickChallenge(undefined), undefined);
  const [c] = parseChallenges('Bearer');
  assert.is(c?.scheme, 'bearer');
  assert.equal(c?.params, {});
});

test('an unterminated quoted value runs to the end instead of failing', () => {
  const [c] = parseChallenges('Basic realm="broken');
  assert.is(c?.realm, 'broken');
});

test.run();
