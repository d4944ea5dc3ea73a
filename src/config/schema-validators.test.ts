/**
 * The validators compiled at build time (scripts/schema-validators.ts) are what their schemas give now: a schema
 * edited without `npm run generate` fails here, naming the file, instead of regplan validating against the old
 * schema. And the generated config validator still reports through the config pipeline as ajv did at run time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { staleValidators, VALIDATORS } from '../../scripts/schema-validators.ts';
import { loadConfig } from './load.ts';

test('every committed validator is what its schema compiles to now (run npm run generate after a schema change)', () => {
  assert.equal(staleValidators(), []);
});

test('the generated modules compile nothing at run time: no ajv instance, only its runtime helpers', () => {
  for (const { output } of VALIDATORS) {
    const text = readFileSync(new URL(`../../${output}`, import.meta.url), 'utf8');
    assert.not.match(text, /new Ajv|from 'ajv'|require\(/, output);
    assert.match(text, /^export const validate = /m, output);
  }
});

test('errors of the generated validator still read as before: position, message and hint', () => {
  const { errors } = loadConfig('version: 1\nregistries:\n  ghcr.io:\n    type: githb\nrepos: []\n', { file: 'c.yaml' });
  assert.equal(errors.map((e) => [e.line, e.message, e.hint]), [[4, 'unknown registry type "githb"', 'did you mean "github"? valid types: auto, default, ecr, acr, dockerhub, gcr, github, gitlab, harbor, artifactory, nexus, quay, yandex, selectel']]);
});

test.run();
