#!/usr/bin/env node
/** Process entry point: hands argv and the real Io to the CLI and sets the exit code. */
import { runCli } from './cli/main.ts';
import { processIo, programArgs, setExitCode } from './runtime.ts';

setExitCode(await runCli(programArgs(), processIo()));
