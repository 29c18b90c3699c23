// What each input the user named is: a file, stdin, a capture bundle, or
// strace -ff files to merge. Decided from the file system and the content,
// never from a file name alone.
//
// Inputs come from other hosts and are read as root, often where others can
// write. Each is opened once and read through that descriptor from then on
// (the second reading thread and the evidence read again for a report too),
// so that whatever is put at its name afterwards is never read. A path the
// user named is opened as named, but a symbolic link at its end is followed
// only if it is theirs or root's, and a FIFO or device only if it is theirs
// or root's (namedInput). The files found by listing a strace -ff directory
// were named by no one: like a bundle's files (bundle.ts), each is opened
// without following a link and without waiting, and read only if it is a
// regular file (openListed).
import { closeSync, constants, createReadStream, fstatSync, open as openCallback, openSync, read as readCallback, type Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { MAX_TID, parseStraceLine, tidFromDigits } from '../parse/strace-line.js';
import { InputError } from '../errors.js';
import { keepOpenedMember } from './file-read.js';
import { readFailure, stdinSource, streamSource, type LineSource } from './lines.js';
import { openedTraceSource, type ReadThread } from './threaded-source.js';
import { loadBundleFrom, type Bundle } from './bundle.js';
import type { FfSet } from './ff-set.js';

/** One input as the user named it, resolved to what must be read. */
export type Input =
  /** `ffSet`: the file is the only one read of a strace -ff set. */
  { type: 'stream'; source: LineSource; defaultTid: number; ffSet?: FfSet } | { type: 'ff-set'; files: { path: string; tid: number }[]; ffSet: FfSet } | { type: 'bundle'; bundle: Bundle };

/** A file of a strace -ff set, open since it was checked. */
interface FfFile {
  path: string;
  tid: number;
  fd: number;
}

const openNamed = promisify(openCallback);
const readAt = promisify(readCallback);

export async function resolveInputs(paths: readonly string[], readThread?: ReadThread): Promise<Input[]> {
  const inputs: Input[] = [];
  const ffGroups = new Map<string, FfFile[]>();
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ type: 'stream', source: stdinSource(), defaultTid: 0 });
      continue;
    }
    // A path that is missing or denied is said from stat, as it always was (ORPHANMAP_DEBUG shows its error as the cause).
    await stat(path).catch((error: unknown) => {
      throw new InputError(readFailure(error), path, { cause: error });
    });
    const { fd, info } = await namedInput(path);
    let kept = false;
    try {
      if (info.isDirectory()) {
        const entries = await readdir(`/proc/self/fd/${fd}`).catch((error: unknown) => {
          throw new InputError(readFailure(error), path, { cause: error });
        });
        if (entries.includes('meta.json')) {
          // Each bundle is one capture, of its own host and pids, checked against its own maps: one per run.
          const first = inputs.find((input) => input.type === 'bundle');
          if (first !== undefined) {
            throw new InputError(`is a second capture bundle (the first is ${first.bundle.dir}): a run reads one bundle, whose pids and maps are its own; analyze each on its own`, path);
          }
          // Through the directory checked above, not its name again.
          inputs.push({ type: 'bundle', bundle: await loadBundleFrom(fd, path) });
          continue;
        }
        // A directory of strace -ff files.
        const ff = entries.filter((entry) => /\.\d+$/.test(entry)).sort();
        if (ff.length === 0) throw new InputError('is a directory with neither meta.json (a bundle) nor strace -ff files (NAME.<tid>)', path);
        for (const entry of ff) {
          const member = join(path, entry);
          const tid = ffTid(member);
          addFf(ffGroups, { path: member, tid, fd: openListed(fd, path, entry) });
        }
        continue;
      }
      if (info.isFile() && /\.\d+$/.test(path) && (await looksLikeFf(fd, path))) addFf(ffGroups, { path, tid: ffTid(path), fd });
      else inputs.push({ type: 'stream', source: await namedSource(fd, info, path, readThread), defaultTid: 0 });
      kept = true;
    } finally {
      if (!kept) closeSync(fd);
    }
  }
  for (const [prefix, files] of ffGroups) {
    const ffSet: FfSet = { prefix, tids: new Set(files.map((file) => file.tid)) };
    if (files.length === 1) {
      const [file] = files as [FfFile];
      inputs.push({ type: 'stream', source: await openedTraceSource(file.fd, file.path, readThread), defaultTid: file.tid, ffSet });
      continue;
    }
    for (const file of files) keepOpenedMember(file.path, file.fd);
    inputs.push({ type: 'ff-set', files: files.sort((a, b) => a.tid - b.tid).map(({ path, tid }) => ({ path, tid })), ffSet });
  }
  return inputs;
}

/**
 * The path `path` the user named, opened once, and what it is. A symbolic
 * link at its end is followed only if it belongs to the user running
 * orphanmap or to root (a link they made; /dev/stdin, /dev/fd/N), the rule
 * of the kernel's fs.protected_symlinks and of `--out`: another user's link,
 * or one a shell glob met in their directory, could make root read and quote
 * any file. A FIFO or device is read, as the stream it is (`<(zcat
 * trace.gz)`), only if it is theirs or root's: another user's could hold
 * orphanmap forever. Opened without waiting, then, for a FIFO, again through
 * the descriptor (the same FIFO) to wait for its writer. Not checked: the
 * directories on the path, which are the path the user named.
 */
async function namedInput(path: string): Promise<{ fd: number; info: Stats }> {
  const me = process.geteuid?.() ?? 0;
  const usersOwn = (uid: number) => uid === me || uid === 0;
  const failed = (error: unknown): never => {
    throw new InputError(readFailure(error), path, { cause: error });
  };
  let fd = await openNamed(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(async (error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') failed(error);
    const link = await lstat(path).catch(failed);
    if (!link.isSymbolicLink()) failed(error);
    if (!usersOwn(link.uid)) {
      throw new InputError(
        `is a symbolic link of another user (uid ${link.uid}): not followed. A link is followed only if it belongs to the user running orphanmap or to root: ` +
          "another user's could make orphanmap read, and quote in its report, any file it can read. Name the file it leads to, or a copy of it",
        path,
      );
    }
    const opened = await openNamed(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(failed);
    // The link is still the one whose owner was checked (a link cannot be changed, only replaced).
    const now = await lstat(path).catch(() => null);
    if (now === null || now.dev !== link.dev || now.ino !== link.ino) {
      closeSync(opened);
      throw new InputError('was replaced by another file while it was opened: analyze a copy that nothing changes', path);
    }
    return opened;
  });
  const info = fstatSync(fd);
  if (info.isFile() || info.isDirectory()) return { fd, info };
  if (!usersOwn(info.uid)) {
    closeSync(fd);
    throw new InputError(
      `is ${fileType(info)} of another user (uid ${info.uid}): not read. A FIFO or a device is read only if it belongs to the user running orphanmap or to root: ` +
        "another user's could hold orphanmap forever, or never end",
      path,
    );
  }
  const waiting = fd;
  fd = await openNamed(`/proc/self/fd/${waiting}`, constants.O_RDONLY).finally(() => closeSync(waiting));
  return { fd, info };
}

/**
 * A file the user named, open as `fd`: a regular file is read through its
 * descriptor (openedTraceSource), anything else (a pipe, a FIFO, a device)
 * as the stream it is, from that descriptor.
 */
async function namedSource(fd: number, info: Stats, path: string, readThread?: ReadThread): Promise<LineSource> {
  if (info.isFile()) return openedTraceSource(fd, path, readThread);
  return streamSource(path, () => createReadStream('', { fd, highWaterMark: 256 * 1024 }));
}

/**
 * The file `entry` found by listing the strace -ff directory `dir` (open as
 * `dirFd`), opened without following a link and without waiting, and checked
 * to be a regular file: a link planted there could make root read, and quote
 * in a report, any file; a FIFO or a link to /proc/kmsg would hold orphanmap
 * forever. Its descriptor.
 */
function openListed(dirFd: number, dir: string, entry: string): number {
  const path = join(dir, entry);
  let fd: number;
  try {
    fd = openSync(`/proc/self/fd/${dirFd}/${entry}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new InputError(
        `is a symbolic link, found by listing the strace -ff directory ${dir}: not followed. A file found by listing a directory is read only if it is the directory's own: ` +
          'a link could lead to any file root can read, and its lines would be quoted in the report. To read what it links to, name the link itself',
        path,
      );
    }
    throw new InputError(readFailure(error), path, { cause: error });
  }
  const info = fstatSync(fd);
  if (!info.isFile()) {
    closeSync(fd);
    throw new InputError(
      `is ${fileType(info)}, found by listing the strace -ff directory ${dir}: not read. A file found by listing a directory is read only if it is a regular file: ` +
        'a FIFO or a device could hold orphanmap forever or never end',
      path,
    );
  }
  return fd;
}

function fileType(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** The thread id of the strace -ff file `path` (PREFIX.<tid>). */
function ffTid(path: string): number {
  const digits = path.slice(path.lastIndexOf('.') + 1);
  const tid = tidFromDigits(digits);
  // A name whose number no thread can have is no strace -ff file's: its lines would be taken for a thread that never was.
  if (Number.isNaN(tid)) throw new InputError(`its name ends in .${digits}, as a strace -ff file's would, but that is no thread id (1 to ${MAX_TID}): rename it to analyze it`, path);
  return tid;
}

function addFf(groups: Map<string, FfFile[]>, file: FfFile): void {
  const dot = file.path.lastIndexOf('.');
  const prefix = join(dirname(file.path), basename(file.path.slice(0, dot)));
  const list = groups.get(prefix) ?? [];
  list.push(file);
  groups.set(prefix, list);
}

/** trace.<tid> files have no pid prefix; anything else with a numeric suffix is read as-is. `fd`: the file, open. */
async function looksLikeFf(fd: number, path: string): Promise<boolean> {
  const buffer = Buffer.alloc(4096);
  const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, 0).catch((error: unknown) => {
    throw new InputError(readFailure(error), path, { cause: error });
  });
  const head = buffer.subarray(0, bytesRead).toString('latin1');
  const first = head.split('\n').find((line) => line.trim().length > 0);
  if (first === undefined) return true;
  const record = parseStraceLine(first);
  return record.type !== 'bad' && (!('tid' in record) || record.tid === null);
}
