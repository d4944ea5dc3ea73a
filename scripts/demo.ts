/**
 * `npm run demo`: the first thing a new user runs. Copies the shipped registry.config.yaml and the demo OCI
 * layout (and demo bundle) it points at into a temporary directory, then runs `regplan plan` and `regplan apply --auto-approve`
 * there and plans once more, so a real plan (deletions, kept tags, reasons) shows in seconds with no server.
 * The repository's own copy is never touched.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../src/cli/main.ts';
import { processIo } from '../src/runtime.ts';

const root = path.resolve(import.meta.dirname, '..');
const work = await mkdtemp(path.join(tmpdir(), 'regplan-demo-'));
try {
  await cp(path.join(root, 'registry.config.yaml'), path.join(work, 'registry.config.yaml'));
  await cp(path.join(root, 'examples', 'demo-layout'), path.join(work, 'examples', 'demo-layout'), { recursive: true });
  await cp(path.join(root, 'examples', 'demo-bundle'), path.join(work, 'examples', 'demo-bundle'), { recursive: true });
  const io = { ...processIo(), cwd: work, env: { ...process.env, REGPLAN_CACHE_DIR: path.join(work, '.cache') } };
  const step = async (title: string, argv: string[]) => {
    io.stdout(`\n$ regplan ${argv.join(' ')}    # ${title}\n`);
    const code = await runCli(argv, io);
    if (code !== 0) throw new Error(`regplan ${argv.join(' ')} exited ${code}`);
  };
  io.stdout(`Demo: a copy of registry.config.yaml and examples/demo-layout in ${work}\n`);
  await step('check the config', ['validate']);
  await step('what would cleanup do, and why?', ['plan', '--out', 'plan.json']);
  await step('do exactly that', ['apply', 'plan.json']);
  await step('nothing left to do', ['plan', '--compact']);
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
