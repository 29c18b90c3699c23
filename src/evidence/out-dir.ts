// The evidence directory, made the way `orphanmap capture` makes a bundle
// (scripts/bundle-lib.sh, om_prepare_bundle): a new directory, created here
// with mode 0700 (its parent must exist), or an empty directory this user
// owns that no one else can write to. Anything else (a symbolic link, a file,
// another user's directory, one others may write to, one with files in it) is
// refused, and so is another user's link anywhere above it. The parent and
// then the directory are opened once, and every file is created through the
// directory's descriptor (/proc/self/fd/N/NAME, the openat of a language
// without one), exclusively and without following a link: a name swapped for
// a link between the checks and the writes cannot send a file elsewhere.
import { createHash } from 'node:crypto';
import { closeSync, constants, writeSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { PathRefused, openDirectorySafely } from '../commands/safe-path.js';
import { OrphanmapError, UsageError } from '../errors.js';
import type { TextProducer } from './files.js';

export interface EvidenceDir {
  /** Absolute path of the directory as it was opened. */
  readonly path: string;
  /**
   * Creates NAME in the directory (never replacing anything) and writes it
   * whole: a text, or what a producer hands over as it makes it. Returns the
   * SHA-256 (hex) of the bytes written.
   */
  write(name: string, content: string | Uint8Array | TextProducer): Promise<string>;
  /** Removes the directory if this run created it and nothing was written: for a run that failed before writing. */
  discard(): Promise<void>;
  close(): Promise<void>;
}

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;

function through(handle: FileHandle, name: string): string {
  return `/proc/self/fd/${handle.fd}/${name}`;
}

export async function createEvidenceDir(out: string): Promise<EvidenceDir> {
  let trimmed = out;
  while (trimmed.length > 1 && trimmed.endsWith('/')) trimmed = trimmed.slice(0, -1);
  const base = basename(trimmed);
  if (trimmed === '' || trimmed === '/' || base === '' || base === '.' || base === '..') {
    throw new UsageError(`--out needs the name of a new directory, not '${out}'`);
  }
  const parentPath = dirname(trimmed);
  const parent = await openParent(parentPath, out);
  let opened: { dir: FileHandle; created: boolean };
  try {
    opened = await openOwnDir(parent, base, out);
  } catch (error) {
    // The refusal is the error to report; the parent is only let go of.
    await parent.close().catch(() => undefined);
    throw error;
  }
  return evidenceDir(resolve(trimmed), out, parent, base, opened.dir, opened.created);
}

/**
 * The directory that holds OUT, reached one component at a time, a link on
 * the way followed only if it is this user's or root's (safe-path.ts): a
 * link planted above OUT by another user must not put root's report where
 * that user could not (review 10, R10-5).
 */
async function openParent(parentPath: string, out: string): Promise<FileHandle> {
  let fd: number;
  try {
    fd = openDirectorySafely(parentPath);
  } catch (error) {
    if (!(error instanceof PathRefused)) throw error;
    const hint = error.code === 'ENOENT' ? ' (it must exist: report creates only the last component)' : '';
    throw new UsageError(`cannot open ${parentPath}, the directory that would hold ${out}${hint}: ${error.why}`);
  }
  try {
    return await open(`/proc/self/fd/${fd}`, DIRECTORY);
  } finally {
    closeSync(fd);
  }
}

/** How a directory is taken: made with `mode`; an existing one must be ours, not writable by others, and (`empty`) empty. */
export interface DirRule {
  mode: number;
  empty: boolean;
  /** Said after a refusal: what to do instead. */
  advice: string;
}

const REPORT_DIR: DirRule = { mode: 0o700, empty: true, advice: 'give a new path (report creates the directory itself)' };

/** NAME created in the open directory `dir`, exclusively and without following a link; its handle. */
export async function createIn(dir: FileHandle, name: string, mode: number): Promise<FileHandle> {
  if (name.includes('/') || name === '' || name === '.' || name === '..') throw new Error(`not a file name: ${name}`);
  return open(through(dir, name), NEW_FILE, mode);
}

/**
 * The directory BASE of the open directory `parent`, opened without following
 * a link: made with the rule's mode, or as it is when it is a directory of
 * ours that no one else can write to (and empty, if the rule says so). A
 * UsageError says why not. Files are created in it with createIn.
 */
export async function openOwnDir(parent: FileHandle, base: string, out: string, rule: DirRule = REPORT_DIR): Promise<{ dir: FileHandle; created: boolean }> {
  const at = through(parent, base);
  let seen: { dev: number; ino: number } | null = null;
  let created = false;
  try {
    await mkdir(at, { mode: rule.mode });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot create ${out}: ${systemError(error)}`);
    // Gone again between mkdir and lstat: said below as "not a directory".
    const info = await lstat(at).catch(() => null);
    if (info?.isSymbolicLink() === true) throw new UsageError(`${out} is a symbolic link; ${rule.advice}`);
    if (info === null || !info.isDirectory()) throw new UsageError(`${out} exists and is not a directory; ${rule.advice}`);
    seen = { dev: info.dev, ino: info.ino };
  }
  const dir = await open(at, DIRECTORY | constants.O_NOFOLLOW).catch((error: unknown) => {
    throw new UsageError(`cannot open ${out}: ${systemError(error)}`);
  });
  try {
    await checkOpened(dir, parent, out, created ? 'created' : seen, rule);
  } catch (error) {
    await dir.close().catch(() => undefined);
    throw error;
  }
  return { dir, created };
}

/** Still the directory that was made or checked (a swap in between lands elsewhere and is caught here), ours, private, empty. */
async function checkOpened(dir: FileHandle, parent: FileHandle, out: string, made: 'created' | { dev: number; ino: number } | null, rule: DirRule): Promise<void> {
  const info = await dir.stat();
  if (made === 'created') {
    const up = await stat(through(dir, '..'));
    const parentInfo = await parent.stat();
    if (up.dev !== parentInfo.dev || up.ino !== parentInfo.ino) throw new UsageError(`${out} was replaced while it was being created; nothing was written`);
  } else if (made !== null && (info.dev !== made.dev || info.ino !== made.ino)) {
    throw new UsageError(`${out} was replaced while it was being checked; nothing was written`);
  }
  const uid = process.geteuid?.() ?? info.uid;
  if (info.uid !== uid) throw new UsageError(`${out} exists and belongs to uid ${info.uid}, not to this user (uid ${uid}); ${rule.advice}`);
  if ((info.mode & 0o022) !== 0) throw new UsageError(`${out} exists and others may write to it (mode ${(info.mode & 0o777).toString(8)}); ${rule.advice}`);
  if (!rule.empty) return;
  const entries = await readdir(through(dir, ''));
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(' ');
    throw new UsageError(`${out} is not empty (${shown}${entries.length > 3 ? ' …' : ''}); ${rule.advice}`);
  }
}

function evidenceDir(path: string, out: string, parent: FileHandle, base: string, handle: FileHandle, created: boolean): EvidenceDir {
  let written = 0;
  return {
    path,
    async write(name, content) {
      if (name.includes('/') || name === '' || name === '.' || name === '..') throw new Error(`not a file name: ${name}`);
      let file: FileHandle;
      try {
        file = await open(through(handle, name), NEW_FILE, 0o644);
      } catch (error) {
        throw new UsageError(`cannot create ${name} in ${out}: ${systemError(error)}`);
      }
      written++;
      try {
        if (typeof content !== 'function') {
          await file.writeFile(content);
          return createHash('sha256').update(content).digest('hex');
        }
        return writeProduced(file.fd, content);
      } catch (error) {
        // A producer reads evidence from the trace as it goes: its own error (the trace replaced since) is said as it is.
        if (error instanceof OrphanmapError) throw error;
        throw new UsageError(`cannot write ${name} in ${out} (it is incomplete: SHA256SUMS is written last): ${systemError(error)}`);
      } finally {
        await file.close();
      }
    },
    async discard() {
      if (!created || written > 0) return;
      // Best effort: an empty directory left behind is harmless, and the run's own error is what to report.
      await rmdir(through(parent, base)).catch(() => undefined);
    },
    async close() {
      // Read-only directory handles: closing them cannot lose data.
      await handle.close().catch(() => undefined);
      await parent.close().catch(() => undefined);
    },
  };
}

/** Bytes gathered before they are hashed and written in one call. */
const PRODUCED_BATCH = 1 << 20;
const utf8 = new TextEncoder();

/**
 * What `produce` hands over, written to `fd` in batches as it comes; the
 * SHA-256 of the bytes written. Each piece is encoded as it comes, into one
 * buffer: pieces gathered as text until a batch was full outlived two young
 * collections, so every piece of report.json and trace-lines.txt (leaky80:
 * 258 MB) was moved to the old generation, where it stayed as garbage until
 * a full collection (report --redact peaked at 330 MB).
 */
function writeProduced(fd: number, produce: TextProducer): string {
  const hash = createHash('sha256');
  const batch = Buffer.allocUnsafe(PRODUCED_BATCH);
  let batched = 0;
  const flush = () => {
    const bytes = batch.subarray(0, batched);
    hash.update(bytes);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    batched = 0;
  };
  const encode = (text: string) => {
    for (let start = 0; start < text.length; ) {
      // Whole characters only: a surrogate pair that does not fit waits for the next batch.
      const { read, written } = utf8.encodeInto(start === 0 ? text : text.slice(start), batch.subarray(batched));
      batched += written;
      start += read;
      if (start < text.length) flush();
    }
  };
  // A pair of UTF-16 surrogates cut between two pieces is encoded whole, with the next piece.
  let highSurrogate = '';
  produce((piece) => {
    let text = highSurrogate === '' ? piece : highSurrogate + piece;
    highSurrogate = '';
    const end = text.charCodeAt(text.length - 1);
    if (end >= 0xd800 && end <= 0xdbff) {
      highSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    encode(text);
  });
  encode(highSurrogate);
  flush();
  return hash.digest('hex');
}

/** A system error in words ("no such file or directory"), without Node's call and path. */
function systemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'EEXIST':
      return 'it exists already';
    case 'ELOOP':
      return 'a symbolic link where none is allowed';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
