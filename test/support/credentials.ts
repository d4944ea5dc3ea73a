/**
 * Real Docker config dirs and a real `docker-credential-<name>` helper (a small sh script on a temp PATH) for
 * credential tests, plus a canary secret: tests put it wherever a secret may live and assert it never shows up.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A recognisable secret; no output, message or source string may ever contain it. */
export const CANARY = 'Zq7xW3-canary-secret-do-not-print';

/** Base64 of `user:password`, as `docker login` writes `auth`. */
export const basicAuth = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64');

/** Makes a temp dir holding `config.json` (an object is JSON-encoded; a string is written as is; undefined = no file). */
export async function makeDockerConfigDir(config?: unknown): Promise<{ dir: string; file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'regplan-docker-config-'));
  const file = path.join(dir, 'config.json');
  if (config !== undefined) await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config, null, '\t'));
  return { dir, file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** What the fake helper answers for one server URL: credentials, or a failure with text on stdout. */
export type FakeHelperAnswer = { username: string; secret: string } | { fail: string; exitCode?: number } | { stdout: string; exitCode?: number };

/** What the fake helper received on `store`, one entry per call. */
export interface StoredLogin {
  ServerURL: string;
  Username: string;
  Secret: string;
}

/** A fake helper on its own PATH dir; `calls()` lists the server URLs it was asked for, in order. */
export interface FakeHelper {
  binDir: string;
  /** PATH with binDir first (then the system dirs, for `cat`). */
  path: string;
  calls: () => Promise<string[]>;
  /** Every `store` request still held, in order (`get` also answers from these when no fixed answer matches). */
  stored: () => Promise<StoredLogin[]>;
  /** The server URLs an `erase` removed, in order (an erase of an unknown URL answers "not found" and is not listed). */
  erased: () => Promise<string[]>;
  cleanup: () => Promise<void>;
}

const shQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Writes `docker-credential-<name>` speaking the helper protocol: `get` reads the server URL from stdin,
 * answers JSON for a known URL (or the last login stored for it), else prints `credentials not found in native
 * keychain` and exits 1. `store` appends its stdin JSON to a log, or fails with `options.storeFails` on stdout;
 * `erase` drops the stored logins for the URL on stdin (or answers "not found", exit 1, when there are none).
 */
export async function makeFakeHelper(
  name: string,
  answers: Readonly<Record<string, FakeHelperAnswer>>,
  options: { storeFails?: string } = {},
): Promise<FakeHelper> {
  const binDir = await mkdtemp(path.join(tmpdir(), 'regplan-helper-'));
  const log = path.join(binDir, 'calls.log');
  const storedLog = path.join(binDir, 'stored.log');
  const erasedLog = path.join(binDir, 'erased.log');
  await writeFile(erasedLog, '');
  await writeFile(log, '');
  await writeFile(storedLog, '');
  const cases = Object.entries(answers).map(([url, answer]) => {
    let body: string;
    if ('secret' in answer) body = `printf '%s\\n' ${shQuote(JSON.stringify({ ServerURL: url, Username: answer.username, Secret: answer.secret }))}`;
    else if ('fail' in answer) body = `printf '%s\\n' ${shQuote(answer.fail)}; exit ${answer.exitCode ?? 1}`;
    else body = `printf '%s' ${shQuote(answer.stdout)}; exit ${answer.exitCode ?? 0}`;
    return `  ${shQuote(url)}) ${body} ;;`;
  });
  const script = [
    '#!/bin/sh',
    options.storeFails === undefined
      ? `[ "$1" = store ] && { cat >> ${shQuote(storedLog)}; printf '\\n' >> ${shQuote(storedLog)}; exit 0; }`
      : `[ "$1" = store ] && { cat > /dev/null; printf '%s\\n' ${shQuote(options.storeFails)}; exit 1; }`,
    `[ "$1" = erase ] && { url=$(cat); match="\\"ServerURL\\":\\"$url\\""`,
    `  grep -qF "$match" ${shQuote(storedLog)} || { echo 'credentials not found in native keychain'; exit 1; }`,
    `  grep -vF "$match" ${shQuote(storedLog)} > ${shQuote(`${storedLog}.new`)}; mv ${shQuote(`${storedLog}.new`)} ${shQuote(storedLog)}`,
    `  printf '%s\\n' "$url" >> ${shQuote(erasedLog)}; exit 0; }`,
    `[ "$1" = get ] || { echo "unsupported action: $1"; exit 1; }`,
    'url=$(cat)',
    `printf '%s\\n' "$url" >> ${shQuote(log)}`,
    'case "$url" in',
    ...cases,
    `  *) line=$(grep -F "\\"ServerURL\\":\\"$url\\"" ${shQuote(storedLog)} | tail -n 1)`,
    `     [ -n "$line" ] && { printf '%s\\n' "$line"; exit 0; }`,
    `     echo 'credentials not found in native keychain'; exit 1 ;;`,
    'esac',
    '',
  ].join('\n');
  const program = path.join(binDir, `docker-credential-${name}`);
  await writeFile(program, script);
  await chmod(program, 0o755);
  return {
    binDir,
    path: [binDir, '/usr/bin', '/bin'].join(path.delimiter),
    calls: async () => (await readFile(log, 'utf8')).split('\n').filter((line) => line !== ''),
    stored: async () =>
      (await readFile(storedLog, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as StoredLogin),
    erased: async () => (await readFile(erasedLog, 'utf8')).split('\n').filter((line) => line !== ''),
    cleanup: () => rm(binDir, { recursive: true, force: true }),
  };
}
