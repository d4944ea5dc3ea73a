/** An in-process Io for CLI tests: captures stdout/stderr, takes an explicit env and cwd. */
import type { Io } from '../../src/runtime.ts';

/** Io that records output; `out()`/`err()` return everything written so far. */
export function captureIo(env: Record<string, string> = {}, cwd = process.cwd()): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { env, cwd, stdout: (t) => void (out += t), stderr: (t) => void (err += t), stdoutIsTTY: false, stderrIsTTY: false, out: () => out, err: () => err };
}
