/**
 * The runtime edge: the only module that touches `process`, the filesystem and child processes, so the same
 * code runs on Node and Deno 2 and tests can hand commands a fake `Io`.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setInterval as setRepeating, clearInterval as clearRepeating } from 'node:timers';

/** What a command may read from and write to; `processIo()` is the real one, tests build their own. */
export interface Io {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Reads one line from the terminal (for apply's confirmation); undefined when stdin is not a TTY. */
  prompt?: (question: string) => Promise<string>;
  /** Reads all of stdin as UTF-8, at most `maxBytes` (login's `--password-stdin`); undefined where there is none. */
  readStdin?: (maxBytes: number) => Promise<string>;
}

/** The Io of the running process. */
export function processIo(): Io {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    ...(process.stdin.isTTY === true ? { prompt: promptLine } : {}),
    readStdin: readAllStdin,
  };
}

/** All of stdin as UTF-8; more than `maxBytes` is an error (a password is never that long). */
async function readAllStdin(maxBytes: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`stdin holds more than ${maxBytes} bytes`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

async function promptLine(question: string): Promise<string> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Command-line arguments after the program name. */
export const programArgs = (): string[] => process.argv.slice(2);

/** Sets the process exit code without cutting pending output short. */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

/** The user's home directory (for `~/.docker`). */
export const homeDir = (): string => os.homedir();

/** True on Deno (its fetch has its own connection pool and takes no undici dispatcher). */
export const onDeno = (): boolean => (globalThis as { Deno?: unknown }).Deno !== undefined;

/** Name and version of the JavaScript runtime, for `--version`; "standalone" when it is the embedded one. */
export function runtimeVersion(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  if (deno) return `deno ${deno.version.deno}`;
  return isStandaloneBinary() ? `node ${process.version}, standalone` : `node ${process.version}`;
}

/** True inside the single-file binary (`npm run build`): Node's SEA module says whether this process is one. */
function isStandaloneBinary(): boolean {
  try {
    const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false; // a runtime without node:sea
  }
}

/** Reads a UTF-8 text file. */
export const readTextFile = (file: string): Promise<string> => fs.readFile(file, 'utf8');

/** Why `readTextFileCapped` refused a file, before or while reading it (the path's kind, or its size). */
export class FileRefusedError extends Error {
  override name = 'FileRefusedError';
  readonly file: string;
  readonly reason: { kind: 'not-regular'; type: string } | { kind: 'too-large'; maxBytes: number; size?: number };
  constructor(file: string, reason: FileRefusedError['reason']) {
    super(reason.kind === 'not-regular' ? `${file} is a ${reason.type}, not a regular file` : `${file} is larger than ${reason.maxBytes} bytes`);
    this.file = file;
    this.reason = reason;
  }
}

function fileType(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'directory';
  if (stat.isFIFO()) return 'FIFO (named pipe)';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  return 'special file';
}

/**
 * Reads UTF-8 text of at most `maxBytes`, for files a config names. With `regularOnly` anything but a regular
 * file is refused before a byte is read: the path is opened non-blocking (so a FIFO cannot block the open) and
 * checked with fstat on the open handle (so swapping the path after a check cannot fool it). Without it, pipes
 * and devices are read (e.g. `-c <(envsubst < tpl.yaml)`), but never past `maxBytes` (so /dev/urandom ends).
 * Throws FileRefusedError for a refused file; Node's errors (ENOENT, EACCES, …) otherwise.
 */
export async function readTextFileCapped(file: string, options: { maxBytes: number; regularOnly: boolean }): Promise<string> {
  return new TextDecoder().decode(await readBytesCapped(file, options));
}

/** The bytes of a file, at most `maxBytes`, refused the way `readTextFileCapped` refuses (caches of bounded content). */
export async function readBytesCapped(file: string, options: { maxBytes: number; regularOnly: boolean }): Promise<Uint8Array> {
  const flags = fsConstants.O_RDONLY | (options.regularOnly ? (fsConstants.O_NONBLOCK ?? 0) : 0);
  const handle = await fs.open(file, flags);
  try {
    const stat = await handle.stat();
    if (stat.isDirectory() || (options.regularOnly && !stat.isFile())) throw new FileRefusedError(file, { kind: 'not-regular', type: fileType(stat) });
    if (stat.isFile() && stat.size > options.maxBytes) throw new FileRefusedError(file, { kind: 'too-large', maxBytes: options.maxBytes, size: stat.size });
    // Room for one byte past the expected end, so reaching it means "more than expected" (a pipe, or a growing file).
    let buffer = new Uint8Array(Math.min(stat.isFile() ? stat.size : 64 * 1024, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.byteLength) {
        if (length > options.maxBytes) throw new FileRefusedError(file, { kind: 'too-large', maxBytes: options.maxBytes });
        const grown = new Uint8Array(Math.min(buffer.byteLength * 2, options.maxBytes + 1));
        grown.set(buffer);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.byteLength - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** Reads a file's bytes. */
export const readBytes = (file: string): Promise<Uint8Array> => fs.readFile(file);

/** True when the path exists (file or directory). */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a file atomically (temp file in the same directory, then rename), creating parent directories. An
 * explicit `mode` is exact whatever the umask (private files stay 0600 under umask 000); `dirMode` is given to
 * the directories it creates.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number; dirMode?: number } = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, ...(options.dirMode === undefined ? {} : { mode: options.dirMode }) });
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.writeFile(temp, data, { mode: options.mode ?? 0o644 });
    if (options.mode !== undefined) await fs.chmod(temp, options.mode);
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw e;
  }
}

/**
 * Where writing `file` should go so a symlink stays a symlink (docker's config Save follows one link): the link's
 * target resolved against the link's directory, or `file` itself when it is not a symlink or does not exist.
 */
export async function symlinkTarget(file: string): Promise<string> {
  try {
    return path.resolve(path.dirname(file), await fs.readlink(file));
  } catch {
    return file;
  }
}

/**
 * Appends text to a file, creating it and its directory when missing (journals). A file it creates gets `mode`
 * exactly (whatever the umask); directories it creates get `dirMode`.
 */
export async function appendTextFile(file: string, text: string, options: { mode?: number; dirMode?: number } = {}): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, ...(options.dirMode === undefined ? {} : { mode: options.dirMode }) });
  if (options.mode === undefined) {
    await fs.appendFile(file, text);
    return;
  }
  const handle = await fs.open(file, 'a', options.mode);
  try {
    const created = (await handle.stat()).size === 0;
    if (created) await handle.chmod(options.mode);
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Creates `file` holding `data` only if it does not exist yet, atomically: the content is complete the moment the
 * name appears (written to a temp file, then hard-linked). False when the file already exists. The basis of the
 * cross-process locks (src/lock/file-lock.ts).
 */
export async function createFileExclusive(file: string, data: string, options: { mode?: number } = {}): Promise<boolean> {
  const mode = options.mode ?? 0o644;
  const temp = tempSiblingName(file);
  await fs.writeFile(temp, data, { mode, flag: 'wx' });
  try {
    await fs.chmod(temp, mode);
    await fs.link(temp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    // a filesystem without hard links: O_EXCL create (a reader may briefly see it empty)
    try {
      await fs.writeFile(file, data, { mode, flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** A file's text and modification time (ms since the epoch), or undefined when it does not exist. */
export async function readTextFileWithTime(file: string): Promise<{ text: string; modifiedAt: number } | undefined> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const stat = await handle.stat();
      return { text: await handle.readFile('utf8'), modifiedAt: stat.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Sets a file's modification time to now (a lock holder's heartbeat); false when the file is gone. */
export async function touchFile(file: string): Promise<boolean> {
  const now = new Date();
  try {
    await fs.utimes(file, now, now);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Creates a directory and its parents; the ones it creates are private to the user (0700 whatever the umask). */
export async function makePrivateDir(dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let current = dir; ; current = path.dirname(current)) {
    await fs.chmod(current, 0o700);
    if (current === first || path.dirname(current) === current) break;
  }
}

/** This process's id (the owner recorded in a lock file). */
export const processId = (): number => process.pid;

/** The machine's name: a lock taken on another host cannot be checked by its pid. */
export const hostName = (): string => os.hostname();

/** True when a process with this id runs on this machine (signal 0 only probes). Unknown answers count as alive. */
export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Calls `beat` every `ms` until the returned function is called; the timer never keeps the process alive. */
export function repeatEvery(ms: number, beat: () => void): () => void {
  const timer = setRepeating(beat, ms);
  timer.unref();
  return () => clearRepeating(timer);
}

/** Creates a fresh private (0700) temporary directory whose name starts with `prefix`. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o700);
  return dir;
}

/** Result of running a child process to completion. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) with optional stdin text; resolves with its exit code and output, rejects if it cannot start. */
export function runCommand(
  program: string,
  args: readonly string[],
  options: { input?: string; env?: Readonly<Record<string, string | undefined>>; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env === undefined ? {} : { env: options.env as NodeJS.ProcessEnv }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => {}); // a helper that exits without reading stdin must not crash us
    child.stdin.end(options.input ?? '');
  });
}

/** Finds an executable on PATH (as `which` does); undefined when absent. */
export async function findExecutable(name: string, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await fs.access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Names of the entries in a directory (sorted); empty when the directory does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * A token that changes whenever a file is rewritten or replaced (device, inode, size, change and modification
 * times), or undefined when it does not exist: lets a reader keep a parsed copy and re-read only when it changed.
 */
export async function fileVersion(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(file);
    return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Size and kind of a path, or undefined when it does not exist. */
export async function statPath(file: string): Promise<{ size: number; isDirectory: boolean; isFile: boolean } | undefined> {
  try {
    const stat = await fs.stat(file);
    return { size: stat.size, isDirectory: stat.isDirectory(), isFile: stat.isFile() };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates a directory and its parents (no error when it exists). */
export async function makeDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
}

/** Removes a file; no error when it is already gone. */
export const removeFile = (file: string): Promise<void> => fs.rm(file, { force: true });

/** Renames a file (atomic within one filesystem): how content-addressed stores publish a finished temp file. */
export const renameFile = (from: string, to: string): Promise<void> => fs.rename(from, to);

/** Streams a file's bytes in chunks, so large blobs are never held in memory whole. */
export async function* readFileChunks(file: string): AsyncIterable<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) yield chunk as Uint8Array;
  } finally {
    await handle.close();
  }
}

/**
 * Streams a file through one reused buffer: each chunk is a view that is valid only until the next one is asked
 * for, so hashing or copying a large file makes no garbage (fresh 1 MiB chunks pile up faster than the collector
 * frees them, doubling peak memory on a 200 MB file). Consumers must copy or use a chunk before continuing.
 */
export async function* readFileReusingBuffer(file: string, options: { chunkSize?: number } = {}): AsyncIterable<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = new Uint8Array(options.chunkSize ?? 1 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Writes chunks to a new file (truncating), creating parent directories; the caller renames it into place. */
export async function writeFileFromChunks(file: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(file, 'w', 0o644);
  try {
    for await (const chunk of chunks) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

/** A unique temp-file name next to `file` (same directory, so a rename publishes it atomically). */
export const tempSiblingName = (file: string): string => `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;

export { fs, path };

/** What `copyTree` left out and why (`excluded`, `not a regular file or directory`, `symlink to a directory`). */
export interface SkippedEntry {
  /** Relative to the source root, `/`-separated. */
  path: string;
  reason: string;
}

/**
 * Copies a directory tree into an existing directory for private use (`regplan ci-env`): only regular files
 * (symlinks to files are followed) and directories; sockets, fifos, devices and symlinked directories are left
 * out and reported, as are paths `skip` rejects. Files get `fileMode`, directories `dirMode`. A missing source
 * copies nothing.
 */
export async function copyTree(
  from: string,
  to: string,
  options: { skip?: (relativePath: string) => boolean; fileMode?: number; dirMode?: number } = {},
): Promise<{ copied: string[]; skipped: SkippedEntry[] }> {
  const copied: string[] = [];
  const skipped: SkippedEntry[] = [];
  const fileMode = options.fileMode ?? 0o600;
  const dirMode = options.dirMode ?? 0o700;
  const walk = async (source: string, target: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(source, { withFileTypes: true });
    } catch (e) {
      if (prefix === '' && (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relative = prefix + entry.name;
      const from = path.join(source, entry.name);
      const to = path.join(target, entry.name);
      if (options.skip?.(relative)) {
        skipped.push({ path: relative, reason: 'excluded' });
        continue;
      }
      let kind: 'file' | 'dir' | 'other' = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
      if (entry.isSymbolicLink()) {
        const stat = await fs.stat(from).catch(() => undefined);
        if (stat?.isDirectory()) {
          skipped.push({ path: relative, reason: 'symlink to a directory' });
          continue;
        }
        kind = stat?.isFile() ? 'file' : 'other';
      }
      if (kind === 'other') {
        skipped.push({ path: relative, reason: 'not a regular file or directory' });
      } else if (kind === 'dir') {
        await fs.mkdir(to, { mode: dirMode });
        await fs.chmod(to, dirMode);
        await walk(from, to, `${relative}/`);
      } else {
        await fs.copyFile(from, to, fsConstants.COPYFILE_EXCL);
        await fs.chmod(to, fileMode);
        copied.push(relative);
      }
    }
  };
  await walk(from, to, '');
  return { copied, skipped };
}

/** Removes a directory tree; no error when it is already gone. */
export const removeTree = (dir: string): Promise<void> => fs.rm(dir, { recursive: true, force: true });
