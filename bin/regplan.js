#!/usr/bin/env node
// Installed entry point. Node >= 22.18 runs the TypeScript sources directly (type stripping), but never for a file
// under node_modules, which is where `npm install` puts this package: there it runs the esbuild bundle the package
// carries (dist/regplan.cjs, made by the `prepack` script). From a clone (`npm link`, `npm install -g .`) it runs
// the sources, so edits take effect without a build.
import { createRequire } from 'node:module';
import * as path from 'node:path';

if (import.meta.filename.split(path.sep).includes('node_modules')) createRequire(import.meta.url)('../dist/regplan.cjs');
else await import('../src/main.ts');
