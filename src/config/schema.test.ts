/** schema/regplan.schema.json: editor help on every property, and in step with the registry type names in types.ts. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import schema from '../../schema/regplan.schema.json' with { type: 'json' };
import { CONFIG_REGISTRY_TYPES } from './schema-check.ts';
import { REGISTRY_TYPES } from './types.ts';

test('every property in the schema has a description for editors', () => {
  const missing: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object') return;
    const properties = (node as { properties?: Record<string, { description?: string }> }).properties;
    for (const [key, value] of Object.entries(properties ?? {})) if (!value.description) missing.push(`${at}/properties/${key}`);
    for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
  };
  walk(schema, '#');
  assert.equal(missing, []);
});

test('the schema accepts exactly auto plus the registry types of types.ts (oci layouts are addressed as oci:<dir>)', () => {
  assert.equal([...CONFIG_REGISTRY_TYPES].sort(), ['auto', ...REGISTRY_TYPES.filter((t) => t !== 'oci')].sort());
});

test('the schema rejects unknown keys at every level a user writes', () => {
  const objects: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object') return;
    const n = node as { type?: string; properties?: object; additionalProperties?: unknown };
    if (n.type === 'object' && n.properties && n.additionalProperties !== false) objects.push(at);
    for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`);
  };
  walk(schema, '#');
  assert.equal(objects, []);
});

test.run();
