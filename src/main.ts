#!/usr/bin/env node
/** Process entry point: hands argv and the real Io to the CLI and sets the exit code. */
import { runCli } from './cli/main.ts';
import { processIo, programArgs, setExitCode } from './runtime.ts';

// A promise chain rather than top-level await: the standalone binary embeds a CommonJS bundle of this file
// (Node's single-executable mechanism runs CommonJS only), and CommonJS has no top-level await.
void runCli(programArgs(), processIo()).then(setExitCode);
