/**
 * CI's guard on performance (issue 11): `npm run bench -- --quick` measures small cases side by side with their
 * ceiling and fails when a ratio is more than 2× the committed bench/quick-baseline.json (or requests per tag grow
 * more than 10%). Ratios of CPU time, medians of three, never absolute times, so a loaded machine does not fail it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { regressions } from '../../bench/quick.ts';

const root = path.resolve(import.meta.dirname, '../..');
const baseline = { ratios: { 'real registry 300 tags cold / ceiling': 2, 'oci: layout 500 tags cold / start-up': 1.5 }, requestsPerTag: { 'real registry 300 tags cold': 2.6 } };

test('regressions: a ratio more than twice its baseline and requests per tag more than 10% above theirs are reported', () => {
  assert.equal(regressions({ ratios: { 'real registry 300 tags cold / ceiling': 3.9, 'oci: layout 500 tags cold / start-up': 2.9 }, requestsPerTag: { 'real registry 300 tags cold': 2.8 } }, baseline), []);
  const found = regressions({ ratios: { 'real registry 300 tags cold / ceiling': 4.1, 'oci: layout 500 tags cold / start-up': 1 }, requestsPerTag: { 'real registry 300 tags cold': 2.9 } }, baseline);
  assert.equal(found, [
    'real registry 300 tags cold / ceiling: 4.10, more than 2× the baseline 2.00',
    'real registry 300 tags cold: 2.90 requests per tag, more than 1.1× the baseline 2.60',
  ]);
});

test('regressions: a case the baseline has but the run did not measure is reported, not passed', () => {
  assert.equal(regressions({ ratios: {}, requestsPerTag: { 'real registry 300 tags cold': 2.6 } }, baseline), [
    'real registry 300 tags cold / ceiling: not measured (the baseline has 2.00)',
    'oci: layout 500 tags cold / start-up: not measured (the baseline has 1.50)',
  ]);
});

test('npm run bench -- --quick: no ratio regressed more than 2× against bench/quick-baseline.json', async () => {
  const child = spawn(process.execPath, [path.join(root, 'bench', 'run.ts'), '--quick'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  process.stdout.write(output);
  assert.is(code, 0, `the quick bench failed:\n${output}`);
  assert.match(output, 'No regression against the baseline');
});

test.run();
