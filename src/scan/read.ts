// Reading /proc for `scan`: the I/O edge. Every error a live /proc can give
// (a process exiting between readdir and read, another user's process, a kernel
// thread, a /proc without some file) becomes a counted skip, never a throw.
import { open, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBytes } from '../parse/byte-names.js';
import { DELETED_SUFFIX, ELISION, mountDevice, mountedDevices } from '../parse/maps.js';
import { linkVerdict, MapsTally, type DeletedFile, type FileLinks, type LinkVerdict, type ProcessScan, type ScanResult, type ScanSkip, type SkipReason } from './aggregate.js';

/** The few /proc operations scan needs; tests swap in a fake. */
export interface ProcReader {
  /** Names in the /proc root. */
  list(): Promise<string[]>;
  /** A file's text, by path relative to the root ("123/maps", "sys/vm/max_map_count"). */
  read(relative: string): Promise<string>;
  /** Whether a path relative to the root exists. */
  exists(relative: string): Promise<boolean>;
  /**
   * A file's lines, each given to `onLine` as it is read and then let go;
   * resolves to the bytes read, which stop once past `maxBytes` when given.
   * Without it, `read` gives the whole text.
   */
  eachLine?(relative: string, onLine: (line: string) => void, maxBytes?: number): Promise<number>;
  /** Names in a directory, by path relative to the root ("123/task"); without it, a process's threads are not looked at. */
  listIn?(relative: string): Promise<string[]>;
  /** What a link says ("123/task/124/ns/mnt": "mnt:[4026531841]"). */
  linkOf?(relative: string): Promise<string>;
  /**
   * A stat of a path relative to the root, following it ("123/map_files/7f00-7f10"):
   * the link count, device and inode of the file it reaches. The path is
   * taken as it is, never normalised: it may end in a name a process chose.
   * Without it, no file's links are asked of and every " (deleted)" counts.
   */
  linksOf?(relative: string): Promise<FileLinks>;
}

/** Bytes read from /proc at a time. */
const CHUNK_BYTES = 64 * 1024;
/**
 * The longest maps line given whole. The kernel prints a path whole however
 * deep it is (review 21: 4,300 directories of 250 characters, a 1 MB line),
 * so a longer line is a real mapping all the same: it is given as its first
 * OVERLONG_HEAD bytes (the fields, and the path's start), an ellipsis, and its
 * last OVERLONG_TAIL bytes (the path's end, " (deleted)" and all), which parse
 * as the mapping with its name cut in the middle. Memory stays bounded.
 */
const MAX_LINE_BYTES = 16 * 1024;
const OVERLONG_HEAD = 4096;
const OVERLONG_TAIL = 256;

/** Lines of the file at `path`, decoded one at a time, never the whole file in memory; no more once past `maxBytes`. */
async function eachLineOf(path: string, onLine: (line: string) => void, maxBytes = Number.POSITIVE_INFINITY): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    // The start of a line cut by the chunk's end, waiting for its rest.
    let partial = Buffer.alloc(0);
    // A line past MAX_LINE_BYTES: its first bytes, and its last so far.
    let overlong: { head: Buffer; tail: Buffer } | null = null;
    let total = 0;
    for (;;) {
      if (total > maxBytes) return total;
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      let from = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, from);
        const end = newline < 0 || newline >= bytesRead ? bytesRead : newline;
        if (overlong !== null) {
          overlong.tail = lastBytes(Buffer.concat([overlong.tail, chunk.subarray(from, end)]));
        } else if (partial.length + (end - from) > MAX_LINE_BYTES) {
          const line = Buffer.concat([partial, chunk.subarray(from, end)]);
          overlong = { head: Buffer.from(line.subarray(0, OVERLONG_HEAD)), tail: lastBytes(line) };
          partial = Buffer.alloc(0);
        } else if (newline >= 0 && newline < bytesRead) {
          // A string of its own (toString copies), so that keeping a piece of it keeps no chunk alive.
          onLine(partial.length === 0 ? decodeBytes(chunk, from, end) : decodeBytes(Buffer.concat([partial, chunk.subarray(from, end)])));
          partial = Buffer.alloc(0);
        } else {
          partial = Buffer.concat([partial, chunk.subarray(from, end)]);
        }
        if (newline < 0 || newline >= bytesRead) break;
        if (overlong !== null) {
          onLine(elided(overlong));
          overlong = null;
        }
        from = newline + 1;
      }
    }
    if (overlong !== null) onLine(elided(overlong));
    else if (partial.length > 0) onLine(decodeBytes(partial));
    return total;
  } finally {
    await handle.close();
  }
}

/** A copy of the last OVERLONG_TAIL bytes: a slice would keep the whole buffer alive. */
function lastBytes(bytes: Buffer): Buffer {
  return bytes.length <= OVERLONG_TAIL ? bytes : Buffer.from(bytes.subarray(bytes.length - OVERLONG_TAIL));
}

function elided(line: { head: Buffer; tail: Buffer }): string {
  return `${decodeBytes(line.head)}${ELISION}${decodeBytes(line.tail)}`;
}

export function procfsReader(root = '/proc'): ProcReader {
  return {
    list: () => readdir(root),
    listIn: (relative) => readdir(join(root, relative)),
    linkOf: (relative) => readlink(join(root, relative)),
    read: (relative) => readFile(join(root, relative), 'utf8'),
    eachLine: (relative, onLine, maxBytes) => eachLineOf(join(root, relative), onLine, maxBytes),
    linksOf: (relative) => linksAt(`${root}/${relative}`),
    exists: (relative) =>
      stat(join(root, relative)).then(
        () => true,
        () => false,
      ),
  };
}

async function linksAt(path: string): Promise<FileLinks> {
  const stats = await stat(path, { bigint: true });
  // st_dev as glibc encodes it (gnu_dev_major/minor): the major's and minor's bits interleaved.
  const major = ((stats.dev >> 8n) & 0xfffn) | ((stats.dev >> 32n) & ~0xfffn);
  const minor = (stats.dev & 0xffn) | ((stats.dev >> 12n) & ~0xffn);
  return { links: Number(stats.nlink), major: Number(major), minor: Number(minor), inode: Number(stats.ino) };
}

export interface ScanOptions {
  /** Only these processes; all numeric entries of /proc when absent. */
  pids?: readonly number[];
  reader?: ProcReader;
  /** Reads in flight at once. */
  concurrency?: number;
  /** For tests: the clock. */
  now?: () => number;
}

export async function scanProcesses(options: ScanOptions = {}): Promise<ScanResult> {
  const reader = options.reader ?? procfsReader();
  const now = options.now ?? Date.now;
  const time = now();
  const startedAt = performance.now();
  const [pids, maxMapCount] = await Promise.all([options.pids !== undefined ? [...options.pids] : listPids(reader), readMaxMapCount(reader)]);

  const processes: ProcessScan[] = [];
  const skipped: ScanSkip[] = [];
  await forEachLimited(pids, options.concurrency ?? 16, async (pid) => {
    const outcome = await readProcess(reader, pid);
    if ('reason' in outcome) skipped.push(outcome);
    else processes.push(outcome.tally.summary(pid, outcome.comm, maxMapCount));
  });
  processes.sort((a, b) => a.pid - b.pid);
  skipped.sort((a, b) => a.pid - b.pid);
  return { time, durationMs: performance.now() - startedAt, maxMapCount, processes, skipped };
}

export async function listPids(reader: ProcReader): Promise<number[]> {
  const names = await reader.list();
  const pids: number[] = [];
  for (const name of names) if (/^[0-9]+$/.test(name)) pids.push(Number(name));
  return pids.sort((a, b) => a - b);
}

/** vm.max_map_count, or null when this /proc does not expose it. */
export async function readMaxMapCount(reader: ProcReader): Promise<number | null> {
  try {
    const value = Number((await reader.read('sys/vm/max_map_count')).trim());
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

export async function readProcess(reader: ProcReader, pid: number): Promise<{ pid: number; comm: string; tally: MapsTally } | ScanSkip> {
  let tally = new MapsTally();
  let bytes: number;
  try {
    bytes = await readMaps(reader, `${pid}/maps`, tally);
  } catch (error) {
    return { pid, ...(await classifyError(reader, pid, error)) };
  }
  if (bytes === 0) {
    // A process whose main thread exited alone reads empty there, and has its address space in each thread left
    // (review 25: one such held a deleted file's mapping, and scan counted it among the kernel threads).
    const thread = await threadMaps(reader, pid);
    if (thread !== null) ({ tally, bytes } = thread);
  }
  if (bytes === 0) {
    // Kernel threads have no mm; a zombie has released its own. Either way nothing to count.
    // A process that exited during the read also reads empty.
    return { pid, reason: 'no-address-space', detail: 'empty maps' };
  }
  // Named as kernel objects on a major-0 device: a tmpfs (or overlayfs…) the process mounted shows in its mountinfo.
  if (tally.unsure.length > 0) {
    const mounted = await mountsOfThreads(reader, pid);
    // Too long to read whole: a file, as a leak is, rather than hidden.
    if (mounted === 'too-long') tally.settleAllAsFiles();
    else if (mounted !== 'unreadable') tally.settleMounted(mounted);
  }
  await askLinks(reader, pid, tally);
  let comm = '';
  try {
    comm = (await reader.read(`${pid}/comm`)).replace(/\n$/, '');
  } catch {
    // comm is a label only; a missing one does not lose the scan.
  }
  return { pid, comm, tally };
}

/** `relative`'s lines into `tally`; the bytes read. */
async function readMaps(reader: ProcReader, relative: string, tally: MapsTally): Promise<number> {
  if (reader.eachLine !== undefined) return reader.eachLine(relative, (line) => tally.addLine(line));
  const maps = await reader.read(relative);
  for (const line of maps.split('\n')) tally.addLine(line);
  return maps.length;
}

/** The maps of the first of process `pid`'s other threads that has any; null when none has (or it cannot be listed). */
async function threadMaps(reader: ProcReader, pid: number): Promise<{ tally: MapsTally; bytes: number } | null> {
  if (reader.listIn === undefined) return null;
  let threads: string[];
  try {
    threads = await reader.listIn(`${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of threads) {
    if (tid === String(pid) || !/^\d+$/.test(tid)) continue;
    const tally = new MapsTally();
    try {
      const bytes = await readMaps(reader, `${pid}/task/${tid}/maps`, tally);
      if (bytes > 0) return { tally, bytes };
    } catch {
      // That thread went meanwhile: the next.
    }
  }
  return null;
}

/** How long a stat of a mapped file may take before scan stops asking (linksHung). */
const LINKS_WAIT_MS = 1000;
/**
 * The devices (as maps print them) a stat of a mapped file went unanswered
 * on, until that stat settles: their file system may never answer (a FUSE
 * mount whose daemon the process runs, a hung NFS server), and each such
 * stat holds one of libuv's four threads. No file there is asked of again
 * meanwhile, so that one name cannot stall every later scan, nor switch the
 * check off for the other devices (review of the change: one latch for all
 * let any FUSE user bring back the fake "(deleted)" everywhere): files there
 * count by name, as without the stat.
 */
const hungDevices = new Set<string>();

function withinLinksWait(dev: string, stat: Promise<FileLinks>): Promise<FileLinks | null> {
  return new Promise((resolve) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      hungDevices.add(dev);
      resolve(null);
    }, LINKS_WAIT_MS);
    const settled = (links: FileLinks | null): void => {
      clearTimeout(timer);
      if (late) hungDevices.delete(dev);
      else resolve(links);
    };
    stat.then(settled, () => settled(null));
  });
}

/**
 * Asks of each deleted file of `tally` whether it has a link left
 * (linkVerdict): by /proc/PID/map_files of its first mapping, and, when that
 * gives no answer of the file (scan without CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE, or the range unmapped since), by its name under
 * /proc/PID/root, " (deleted)" and all. d_path names a file from the root
 * of the mount namespace it is in, the process's own for a container.
 */
async function askLinks(reader: ProcReader, pid: number, tally: MapsTally): Promise<void> {
  const linksOf = reader.linksOf;
  if (linksOf === undefined) return;
  const verdicts = new Map<DeletedFile, LinkVerdict>();
  for (const file of tally.filesToAsk()) {
    const asked = (relative: string): Promise<FileLinks | null> => (hungDevices.has(file.dev) ? Promise.resolve(null) : withinLinksWait(file.dev, linksOf(relative)));
    const first = file.mappings[0]!;
    const mapFile = await asked(`${pid}/map_files/${first.start.slice(2)}-${first.end.slice(2)}`);
    let verdict = linkVerdict(file, { mapFile, byName: null });
    if (verdict === 'unknown' && file.path.startsWith('/')) verdict = linkVerdict(file, { mapFile, byName: await asked(`${pid}/root${file.path}${DELETED_SUFFIX}`) });
    verdicts.set(file, verdict);
  }
  tally.settleLinks(verdicts);
}

/**
 * The most of a process's mountinfo read: a real one is well under 1 MiB
 * (a busy Kubernetes node's, some thousand mounts), and an unprivileged
 * user can stack mounts on a deep directory until it is 600 MB (review 24:
 * the whole of it read as one string passed V8's limit, and the leak the
 * mount check was for was hidden again).
 */
const MAX_MOUNTINFO_BYTES = 16 << 20;

/**
 * The devices process `pid`'s mountinfo shows; 'too-long' past
 * MAX_MOUNTINFO_BYTES; 'unreadable' when it could not be read (the process
 * went, or a /proc without the file: its names stay the kernel's, as before).
 */
async function mountsOf(reader: ProcReader, dir: string): Promise<Set<string> | 'too-long' | 'unreadable'> {
  const mounted = new Set<string>();
  try {
    if (reader.eachLine === undefined) return mountedDevices(await reader.read(`${dir}/mountinfo`));
    const bytes = await reader.eachLine(
      `${dir}/mountinfo`,
      (line) => {
        const device = mountDevice(line);
        if (device !== undefined) mounted.add(device);
      },
      MAX_MOUNTINFO_BYTES,
    );
    return bytes > MAX_MOUNTINFO_BYTES ? 'too-long' : mounted;
  } catch {
    return 'unreadable';
  }
}

/** The most mount namespaces of one process's threads read besides its own. */
const MAX_THREAD_NAMESPACES = 8;

/**
 * mountsOf for the process and each mount namespace its threads are in that
 * is not the main thread's (once each, by ns/mnt): a thread may unshare its
 * own (Go's LockOSThread does; unprivileged in a user namespace) and mount a
 * tmpfs there, whose files map into the one address space, with a device
 * only that thread's mountinfo shows (review 25: a 64 MiB "/memfd:cache" so
 * mapped read as a kernel object, and scan said 0). Past
 * MAX_THREAD_NAMESPACES of them, 'too-long': its names count as files.
 */
async function mountsOfThreads(reader: ProcReader, pid: number): Promise<Set<string> | 'too-long' | 'unreadable'> {
  const own = await mountsOf(reader, String(pid));
  if (own === 'too-long' || reader.listIn === undefined || reader.linkOf === undefined) return own;
  let threads: string[];
  let leaderNs: string;
  try {
    threads = await reader.listIn(`${pid}/task`);
    leaderNs = await reader.linkOf(`${pid}/ns/mnt`);
  } catch {
    return own;
  }
  const seen = new Set([leaderNs]);
  const mounted = own === 'unreadable' ? new Set<string>() : own;
  for (const tid of threads) {
    if (!/^\d+$/.test(tid) || tid === String(pid)) continue;
    let ns: string;
    try {
      ns = await reader.linkOf(`${pid}/task/${tid}/ns/mnt`);
    } catch {
      continue;
    }
    if (seen.has(ns)) continue;
    seen.add(ns);
    if (seen.size > MAX_THREAD_NAMESPACES + 1) return 'too-long';
    const theirs = await mountsOf(reader, `${pid}/task/${tid}`);
    if (theirs === 'too-long') return 'too-long';
    if (theirs !== 'unreadable') for (const device of theirs) mounted.add(device);
  }
  return own === 'unreadable' && seen.size === 1 ? 'unreadable' : mounted;
}

async function classifyError(reader: ProcReader, pid: number, error: unknown): Promise<{ reason: SkipReason; detail: string }> {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'error';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { reason: 'denied', detail: code };
    case 'ESRCH':
      return { reason: 'vanished', detail: code };
    case 'ENOENT':
      // Gone, or a /proc (gVisor, an old kernel, a restricted container) without this file.
      return (await reader.exists(String(pid))) ? { reason: 'unreadable', detail: 'no maps file' } : { reason: 'vanished', detail: code };
    default:
      return { reason: 'unreadable', detail: code };
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
