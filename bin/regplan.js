#!/usr/bin/env node
// The `regplan` command. Plain JavaScript with no top-level await, so that every Node that can load an ES module
// reaches the version check below and an old Node gets one line saying what to do, not a stack trace.
// Installed from npm it runs dist/regplan.mjs (built by `prepack`): Node never strips types under node_modules.
// In a clone, where that file does not exist, it runs the TypeScript sources (Node 22.18+ strips their types).
import { existsSync } from 'node:fs';

/** The oldest Node that runs regplan: type stripping on by default (package.json `engines` says the same). */
const MINIMUM_NODE = [22, 18];

/** Why this runtime cannot run regplan, as the one line to print, or undefined when it can. */
function unsupportedRuntime(versions) {
  if (versions.deno !== undefined || typeof globalThis.Deno !== 'undefined') return undefined; // Deno 2 runs it whatever Node version it reports
  const [major, minor] = String(versions.node).split('.').map(Number);
  if (major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1])) return undefined;
  return (
    `regplan needs Node.js ${MINIMUM_NODE.join('.')} or newer (this is ${versions.node}); ` +
    'use the standalone binary (docs/distribution.md), npx regplan with Node 22.18+, or deno run -A src/main.ts from a clone'
  );
}

const problem = unsupportedRuntime(process.versions);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else {
  const bundle = new URL('../dist/regplan.mjs', import.meta.url);
  // A dynamic import, so nothing that needs a newer Node is loaded before the check.
  import(existsSync(bundle) ? bundle.href : new URL('../src/main.ts', import.meta.url).href).catch((error) => {
    process.stderr.write(`regplan could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
