// From a complete call (name + argument text + return) to a TraceEvent.
// Only the calls the engine needs are decoded; everything else is ignored.
// A call that failed (= -1 E…, = ?) changes nothing and yields no event.
import { DELETED_SUFFIX } from './maps.js';
import { isTid, TID_RANGE_REASON } from './strace-line.js';
import { boundCall, boundHead, fdAt, newCallBounds, numberAt, parseFlags, parseReturn, readReturn, stringAt, type FdRead, type ReturnValue } from './strace-args.js';
import {
  CLONE_VFORK,
  CLONE_VM,
  CLOSE_RANGE_CLOEXEC,
  CLOSE_RANGE_UNSHARE,
  MADV_DOFORK,
  MADV_DONTFORK,
  O_CLOEXEC,
  O_CREAT_EXCL,
  O_TMPFILE,
  O_CREAT,
  O_TRUNC,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  type DirRef,
  type RenameEvent,
  type CloneEvent,
  type CloseEvent,
  type DupEvent,
  type EventBase,
  type MmapEvent,
  type OpenEvent,
  type TraceEvent,
  type TruncateEvent,
} from './events.js';

const OPEN_FLAGS: Record<string, number> = {
  O_RDONLY: 0,
  O_WRONLY: 0x1,
  O_RDWR: 0x2,
  O_CREAT: 0x40,
  O_EXCL: 0x80,
  O_NOCTTY: 0x100,
  O_TRUNC: 0x200,
  O_APPEND: 0x400,
  O_NONBLOCK: 0x800,
  O_DSYNC: 0x1000,
  O_DIRECT: 0x4000,
  O_LARGEFILE: 0,
  O_DIRECTORY: 0x10000,
  O_NOFOLLOW: 0x20000,
  O_NOATIME: 0x40000,
  O_CLOEXEC: 0x80000,
  O_SYNC: 0x101000,
  O_PATH: 0x200000,
  O_TMPFILE: 0x410000,
};
const PROT_FLAGS: Record<string, number> = { PROT_NONE: 0, PROT_READ: 0x1, PROT_WRITE: 0x2, PROT_EXEC: 0x4, PROT_SEM: 0x8, PROT_GROWSDOWN: 0x01000000, PROT_GROWSUP: 0x02000000 };
const MAP_FLAGS: Record<string, number> = {
  MAP_SHARED: 0x1,
  MAP_PRIVATE: 0x2,
  MAP_SHARED_VALIDATE: 0x3,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_32BIT: 0x40,
  MAP_GROWSDOWN: 0x100,
  MAP_DENYWRITE: 0x800,
  MAP_EXECUTABLE: 0x1000,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MAP_NONBLOCK: 0x10000,
  MAP_STACK: 0x20000,
  MAP_HUGETLB: 0x40000,
  MAP_SYNC: 0x80000,
  MAP_FIXED_NOREPLACE: 0x100000,
  MAP_UNINITIALIZED: 0x4000000,
};
const MREMAP_FLAGS: Record<string, number> = { MREMAP_MAYMOVE: 0x1, MREMAP_FIXED: 0x2, MREMAP_DONTUNMAP: 0x4 };
const CLONE_UNTRACED = 0x800000;

const CLONE_FLAGS: Record<string, number> = {
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_PIDFD: 0x1000,
  CLONE_PTRACE: 0x2000,
  CLONE_VFORK: 0x4000,
  CLONE_PARENT: 0x8000,
  CLONE_THREAD: 0x10000,
  CLONE_NEWNS: 0x20000,
  CLONE_SYSVSEM: 0x40000,
  CLONE_SETTLS: 0x80000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_DETACHED: 0x400000,
  CLONE_UNTRACED,
  CLONE_CHILD_SETTID: 0x1000000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
};
const RENAME_FLAGS: Record<string, number> = { RENAME_NOREPLACE: 0x1, RENAME_EXCHANGE: 0x2, RENAME_WHITEOUT: 0x4 };
const AT_FLAGS: Record<string, number> = { AT_REMOVEDIR: 0x200, AT_SYMLINK_FOLLOW: 0x400, AT_EMPTY_PATH: 0x1000 };
const CLOSE_RANGE_FLAGS: Record<string, number> = { CLOSE_RANGE_UNSHARE: 0x2, CLOSE_RANGE_CLOEXEC: 0x4 };
const FD_FLAGS: Record<string, number> = { FD_CLOEXEC: 1 };

const MOUNT_FLAGS: Record<string, number> = {
  MS_RDONLY: 0x1,
  MS_NOSUID: 0x2,
  MS_NODEV: 0x4,
  MS_NOEXEC: 0x8,
  MS_SYNCHRONOUS: 0x10,
  MS_REMOUNT: 0x20,
  MS_MANDLOCK: 0x40,
  MS_DIRSYNC: 0x80,
  MS_NOSYMFOLLOW: 0x100,
  MS_NOATIME: 0x400,
  MS_NODIRATIME: 0x800,
  MS_BIND: 0x1000,
  MS_MOVE: 0x2000,
  MS_REC: 0x4000,
  MS_SILENT: 0x8000,
  MS_POSIXACL: 0x10000,
  MS_UNBINDABLE: 0x20000,
  MS_PRIVATE: 0x40000,
  MS_SLAVE: 0x80000,
  MS_SHARED: 0x100000,
  MS_RELATIME: 0x200000,
  MS_KERNMOUNT: 0x400000,
  MS_I_VERSION: 0x800000,
  MS_STRICTATIME: 0x1000000,
  MS_LAZYTIME: 0x2000000,
  MS_MGC_VAL: 0xc0ed0000,
};
const MS_MGC_VAL = 0xc0ed0000;
const MS_MGC_MSK = 0xffff0000;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
/** MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED. */
const MS_PROPAGATION = 0x20000 | 0x40000 | 0x80000 | 0x100000;

/**
 * A mount(2) that moves no name: a remount, or a change of propagation
 * (unshare -m makes / private). The kernel tests MS_BIND before the
 * propagation flags, so MS_BIND|MS_PRIVATE is a bind mount (review 24: a
 * name for the mapped file's directory no trace line showed). orphanmap.bt
 * tests the same.
 */
const mountKeepsNames = (given: number): boolean => {
  // The old magic MS_MGC_VAL in the high bits goes first, as the kernel strips it: its bits read as MS_SLAVE|MS_PRIVATE (review 25).
  const flags = (given & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? given & 0xffff : given;
  return (flags & MS_REMOUNT) !== 0 || ((flags & MS_BIND) === 0 && (flags & MS_PROPAGATION) !== 0);
};

const OPEN_TREE_FLAGS: Readonly<Record<string, number>> = {
  OPEN_TREE_CLONE: 0x1,
  AT_SYMLINK_NOFOLLOW: 0x100,
  AT_NO_AUTOMOUNT: 0x800,
  AT_EMPTY_PATH: 0x1000,
  AT_RECURSIVE: 0x8000,
  OPEN_TREE_CLOEXEC: 0o2000000,
};
const OPEN_TREE_CLONE = 0x1;

/** The calls that make a BlindSpotEvent when they succeed. */
export const BLIND_SPOT_CALLS = ['io_uring_setup', 'chroot', 'pivot_root', 'setns', 'mount', 'move_mount', 'umount2', 'open_tree', 'fsmount', 'unshare'] as const;

/** The syscalls the engine follows. Anything else is skipped before its arguments are lexed. */
export const FOLLOWED_SYSCALLS: ReadonlySet<string> = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'memfd_create',
  'close',
  'close_range',
  'dup',
  'dup2',
  'dup3',
  'fcntl',
  'fcntl64',
  'mmap',
  'mmap2',
  'munmap',
  'mremap',
  // Only MADV_DONTFORK and MADV_DOFORK: what a fork copies.
  'madvise',
  'ftruncate',
  'ftruncate64',
  'truncate',
  'truncate64',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
  'symlink',
  'symlinkat',
  'unlink',
  'unlinkat',
  'chdir',
  'fchdir',
  'clone',
  'clone3',
  'fork',
  'vfork',
  'execve',
  'execveat',
  // Read only for strace -qq, which prints no "+++ exited with N +++" (StraceReader.quietExit).
  'exit_group',
  // Read only for the first process's pid in a trace to stderr (StraceReader.rootPidFrom); no event.
  'set_tid_address',
  // After these the trace cannot follow files (BlindSpotEvent).
  ...BLIND_SPOT_CALLS,
]);

/** Calls whose effect happens at entry: the kernel releases the fd/range before the call returns. */
export const EFFECTIVE_AT_ENTRY: ReadonlySet<string> = new Set(['close', 'munmap']);

/**
 * The event of a call; or why the line is unreadable (a diagnostic); or
 * null: nothing to report (a failed call, a command nobody follows).
 */
export type DecodeResult = TraceEvent | string | null;

const NOTHING: DecodeResult = null;

/**
 * 2^64, the end of a 64-bit address space. A mapping ends at or below it, so
 * an address past it, a negative length or one that runs past it (a 1e23-byte
 * mmap) cannot come from a call that succeeded: the line is unreadable, not a
 * mapping of 90949470177 TiB.
 */
const ADDRESS_SPACE_END = 2 ** 64;
/** off_t is signed 64-bit: file sizes and offsets are below 2^63. */
const OFFSET_END = 2 ** 63;

/** The smallest page size Linux has: an address off its boundary is off every page's. */
const SMALLEST_PAGE = 4096;

function isAddress(value: number): boolean {
  return value >= 0 && value < ADDRESS_SPACE_END;
}

function isRange(address: number, length: number): boolean {
  return isAddress(address) && length >= 0 && address + length <= ADDRESS_SPACE_END;
}

function isOffset(value: number): boolean {
  return value >= 0 && value < OFFSET_END;
}

/** Where the arguments of the call being decoded are: one, refilled by each decodeCall. */
const bounds = newCallBounds();

/**
 * Decode `name(body` where body, text[from…], holds the arguments, the
 * closing parenthesis and the return section. `base` carries place, time,
 * tid and raw text.
 */
export function decodeCall(name: string, text: string, from: number, base: EventBase): DecodeResult {
  if (!boundCall(text, from, bounds)) return `unterminated argument list of ${name}`;
  if (bounds.retStart < 0) return `${name} has no return value`;
  const { retStart, retEnd } = bounds;
  const first = retEnd > retStart ? text.charCodeAt(retStart) : -1;
  // "?", "-1 ENOENT (…)": a call that failed, read the long way.
  if (first === 63 /* ? */ || (first === 45 /* - */ && retEnd - retStart >= 3 && text.startsWith('-1 ', retStart))) {
    // exit_group never returns: "= ?" is how every one is printed.
    if (name === 'exit_group' && first === 63) return groupExit(text, base);
    const returned = parseReturn(text.slice(retStart, retEnd));
    if (returned.error === 'ENOENT' && MISSING_NAME_CALLS.has(name)) return missingName(name, text, base);
    return failedCall(name, text.slice(from), base, returned);
  }
  // "= -1", "= -": strace prints a failure as "-1 ENAME (…)", and no followed call returns another
  // negative value: the line was cut inside its return value. Neither a success nor a failure.
  if (first === 45 /* - */) return `return value of ${name} cut short: "${text.slice(retStart, retEnd)}" (a failure prints its error name)`;
  return decodeSucceeded(name, text, from, text, base);
}

/**
 * decodeCall(name, head + tail.slice(tailFrom), 0, base): an unfinished
 * call's arguments and the end of its resume (or the ") = 0" of a call
 * applied at entry). When the tail starts by closing the argument list,
 * the arguments are read in `head` and the return value in `tail`, and the
 * two are not joined into a text to lex again; anything else (a failure,
 * an argument the resume goes on with) is decoded from the joined text.
 */
export function decodeJoined(name: string, head: string, tail: string, tailFrom: number, base: EventBase): DecodeResult {
  // Clone calls read their flags from the whole text (cloneFlagsAtEntry).
  if (tail.charCodeAt(tailFrom) !== 41 /* ) */ || CLONE_CALLS.has(name) || !boundHead(head, bounds)) return decodeCall(name, head + tail.slice(tailFrom), 0, base);
  readReturn(tail, tailFrom + 1, bounds);
  const { retStart, retEnd } = bounds;
  const first = retStart >= 0 && retEnd > retStart ? tail.charCodeAt(retStart) : -1;
  if (retStart < 0 || first === 63 /* ? */ || first === 45 /* - */) return decodeCall(name, head + tail.slice(tailFrom), 0, base);
  return decodeSucceeded(name, head, 0, tail, base);
}

const CLONE_CALLS: ReadonlySet<string> = new Set(['clone', 'clone3', 'fork', 'vfork']);

/** A call whose return value (in `returned`, at bounds.retStart) is no failure; its arguments are in `text`, at `bounds`. */
function decodeSucceeded(name: string, text: string, from: number, returned: string, base: EventBase): DecodeResult {
  const { retStart, retEnd } = bounds;
  // "0x7f06f123f000", "3</kafka/0.index>", "0 (Timeout)": the value before any " (…)" comment.
  const comment = returned.indexOf(' (', retStart);
  const value = fdAt(returned, retStart, comment >= 0 && comment + 2 <= retEnd ? comment : retEnd);
  // failedCall reads nothing of the call but its name for this one.
  if (value === null) return failedCall(name, '', base, { value: null, error: 'unreadable return value' });
  const decoder = DECODERS.get(name);
  if (decoder === undefined) return NOTHING;
  current.name = name;
  current.text = text;
  current.from = from;
  current.value = value.fd;
  current.hint = value.hint;
  current.base = base;
  return decoder(current);
}

/** A call that returned an error or no value. */
function failedCall(name: string, body: string, base: EventBase, ret: ReturnValue): DecodeResult {
  if (ret.error === 'unreadable return value') return `unreadable return value of ${name}`;
  // "= ? <unavailable>": the call may have succeeded; say so rather than guess.
  if (ret.error === '<unavailable>') return `${name} returned a value strace could not fetch`;
  // The kernel releases the fd even when close fails, unless it was not open (EBADF).
  if (name === 'close' && ret.value === -1 && ret.error !== 'EBADF') return decodeCall(name, body.replace(/= -1 .*$/, '= 0'), 0, base);
  // A failed clone makes no child: the engine must stop expecting one.
  const flags = cloneFlagsAtEntry(name, body);
  if (flags !== null) return withExtras({ kind: 'clone', childTid: -1, flags, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
  return NOTHING;
}

/** Calls whose ENOENT says their name was not there: open and openat, unlink and unlinkat (`dirfd` first). */
const MISSING_NAME_CALLS: ReadonlyMap<string, number> = new Map([
  ['open', -1],
  ['unlink', -1],
  ['openat', 0],
  ['unlinkat', 0],
]);

/**
 * `openat(AT_FDCWD, "/dev/shm/x", O_RDWR) = -1 ENOENT (…)`: the name was not
 * there (a name-missing event). Nothing for a name cut short by -s, or an
 * unlinkat of a directory.
 */
function missingName(name: string, text: string, base: EventBase): DecodeResult {
  const dirAt = MISSING_NAME_CALLS.get(name)!;
  const pathAt = dirAt + 1;
  if (pathAt >= bounds.count || text.startsWith('...', bounds.ends[pathAt]! - 3)) return NOTHING;
  if (name === 'unlinkat' && bounds.count > 2 && text.slice(bounds.starts[2], bounds.ends[2]).includes('AT_REMOVEDIR')) return NOTHING;
  const path = stringAt(text, bounds.starts[pathAt]!, bounds.ends[pathAt]!);
  if (path === null) return NOTHING;
  const dir = dirAt === 0 ? dirIn(text, 0) : { fd: 'cwd' as const };
  if (dir === null) return NOTHING;
  return withExtras({ kind: 'name-missing', call: name, dir, path, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

/**
 * `exit_group(0) = ?`: the process ends, every thread and mapping with it.
 * strace prints "+++ exited with 0 +++" after it, unless -qq; the reader
 * uses this event only when that line does not come (StraceReader.quietExit).
 */
function groupExit(text: string, base: EventBase): DecodeResult {
  const status = bounds.count === 1 ? text.slice(bounds.starts[0], bounds.ends[0]) : '?';
  return withExtras({ kind: 'thread-exit', how: `exit_group(${status})`, groupDead: true, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

/**
 * A call that succeeded: its text, with its arguments' places in `bounds`,
 * and its return value.
 */
interface Call {
  name: string;
  /** The call's body is text[from…]. */
  text: string;
  from: number;
  /** The return value. */
  value: number;
  /** The -y annotation of a returned fd. */
  hint: string | undefined;
  base: EventBase;
}

type Decoder = (call: Call) => DecodeResult;

/** The call being decoded: one, refilled by each decodeCall, like `bounds`. */
const current: Call = { name: '', text: '', from: 0, value: 0, hint: undefined, base: { place: { file: '', line: 0 }, time: null, seconds: null, tid: 0, raw: '' } };

/** Argument k's text, or undefined when the call has fewer. */
function arg(call: Call, k: number): string | undefined {
  return k < bounds.count ? call.text.slice(bounds.starts[k], bounds.ends[k]) : undefined;
}

/** Argument k as a number (a missing one reads as ""): null when unreadable. */
function numberArg(call: Call, k: number): number | null {
  return k < bounds.count ? numberAt(call.text, bounds.starts[k]!, bounds.ends[k]!) : null;
}

/** Argument k as an fd, in fdAt's shared record: read it before the next. */
function fdArg(call: Call, k: number): FdRead | null {
  return k < bounds.count ? fdAt(call.text, bounds.starts[k]!, bounds.ends[k]!) : null;
}

/** Argument k as a string's value: null for anything else. */
function stringArg(call: Call, k: number): string | null {
  return k < bounds.count ? stringAt(call.text, bounds.starts[k]!, bounds.ends[k]!) : null;
}

/** Argument k as flags of `table` (a missing one is 0). */
function flagsArg(call: Call, k: number, table: Readonly<Record<string, number>>): number {
  return k < bounds.count ? parseFlags(call.text.slice(bounds.starts[k], bounds.ends[k]), table) : 0;
}

const bad = (call: Call, what: string): DecodeResult => `unreadable ${what} in ${call.name}`;
const outOfRange = (call: Call, what: string): DecodeResult => `${what} out of range in ${call.name}`;

function decodeOpen(call: Call): DecodeResult {
  const { base } = call;
  const { name } = call;
  // open and creat name a path from the cwd; openat and openat2 a directory fd first.
  const atCwd = name === 'open' || name === 'creat';
  const dir: DirRef | null = atCwd ? { fd: 'cwd' } : dirArg(call, 0);
  if (dir === null) return bad(call, 'dirfd');
  const path = stringArg(call, atCwd ? 0 : 1);
  if (path === null) return bad(call, 'path');
  let flags: number;
  if (name === 'creat') flags = 0x241;
  else if (name === 'openat2') flags = parseFlags(/flags=([^,}]*)/.exec(arg(call, 2) ?? '0')?.[1] ?? '0', OPEN_FLAGS);
  else flags = flagsArg(call, atCwd ? 1 : 2, OPEN_FLAGS);
  const event: OpenEvent = {
    kind: 'open',
    dir,
    path,
    fd: call.value,
    cloexec: (flags & O_CLOEXEC) !== 0,
    resolvedHint: call.hint,
    place: base.place,
    time: base.time,
    seconds: base.seconds,
    tid: base.tid,
    raw: base.raw,
  };
  // Set only on an O_TMPFILE, O_CREAT|O_EXCL (a new file: nothing to truncate) or O_TRUNC open: every other open keeps
  // the shape it had.
  if ((flags & O_TMPFILE) === O_TMPFILE) event.tmpfile = true;
  else if ((flags & O_CREAT_EXCL) === O_CREAT_EXCL) event.created = true;
  else if ((flags & O_TRUNC) !== 0) {
    event.truncated = true;
    if ((flags & O_CREAT) !== 0) event.mayCreate = true;
  }
  return withExtras(event, base);
}

/** memfd_create's flags (a number where strace knows no name). */
const MFD_FLAGS: Record<string, number> = { MFD_CLOEXEC: 0x1, MFD_ALLOW_SEALING: 0x2, MFD_HUGETLB: 0x4, MFD_NOEXEC_SEAL: 0x8, MFD_EXEC: 0x10 };

/**
 * `memfd_create("ring", MFD_CLOEXEC) = 3`: an fd of a file no name leads to,
 * as -y names it (`3</memfd:ring>(deleted)`). Without -y its fd was one no
 * traced call made, and any removal of a file held open put its mapping in
 * doubt (review 31, F-5).
 */
function decodeMemfd(call: Call): DecodeResult {
  const { base } = call;
  const name = stringArg(call, 0);
  if (name === null) return bad(call, 'name');
  const flags = flagsArg(call, 1, MFD_FLAGS);
  const event: OpenEvent = {
    kind: 'open',
    dir: { fd: 'cwd' },
    path: `/memfd:${name}`,
    fd: call.value,
    cloexec: (flags & MFD_FLAGS.MFD_CLOEXEC!) !== 0,
    memfd: true,
    place: base.place,
    time: base.time,
    seconds: base.seconds,
    tid: base.tid,
    raw: base.raw,
  };
  return withExtras(event, base);
}

function decodeClose(call: Call): DecodeResult {
  const { base } = call;
  const fd = fdArg(call, 0);
  if (fd === null) return bad(call, 'fd');
  const event: CloseEvent = { kind: 'close', fd: fd.fd, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw };
  // strace 6 prints "(deleted)" after the annotation, older ones " (deleted)" inside it.
  if (fd.hint !== undefined) {
    if (fd.deleted === true) event.goneName = fd.hint;
    else if (fd.hint.endsWith(DELETED_SUFFIX)) event.goneName = fd.hint.slice(0, -DELETED_SUFFIX.length);
  }
  return withExtras(event, base);
}

function decodeCloseRange(call: Call): DecodeResult {
  const { base } = call;
  const low = numberArg(call, 0);
  const high = numberArg(call, 1);
  if (low === null || high === null) return bad(call, 'range');
  const flags = flagsArg(call, 2, CLOSE_RANGE_FLAGS);
  return withExtras(
    {
      kind: 'close-range',
      low,
      high,
      cloexecOnly: (flags & CLOSE_RANGE_CLOEXEC) !== 0,
      unshare: (flags & CLOSE_RANGE_UNSHARE) !== 0,
      place: base.place,
      time: base.time,
      seconds: base.seconds,
      tid: base.tid,
      raw: base.raw,
    },
    base,
  );
}

function decodeDup(call: Call): DecodeResult {
  const { base } = call;
  const old = fdArg(call, 0);
  if (old === null) return bad(call, 'fd');
  const { fd, hint, deleted } = old;
  const cloexec = call.name === 'dup3' && flagsArg(call, 2, OPEN_FLAGS) !== 0;
  const event: DupEvent = { kind: 'dup', oldFd: fd, newFd: call.value, cloexec, oldHint: hint, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw };
  if (deleted) event.oldDeleted = true;
  return withExtras(event, base);
}

function decodeFcntl(call: Call): DecodeResult {
  const { base, value } = call;
  const fd = fdArg(call, 0);
  if (fd === null) return bad(call, 'fd');
  const { fd: oldFd, hint, deleted } = fd;
  const command = (arg(call, 1) ?? '').split(' ')[0];
  const dupfd = command === 'F_DUPFD' || command === '0';
  if (dupfd || command === 'F_DUPFD_CLOEXEC' || command === '0x406') {
    const event: DupEvent = { kind: 'dup', oldFd, newFd: value, cloexec: !dupfd, oldHint: hint, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw };
    if (deleted) event.oldDeleted = true;
    return withExtras(event, base);
  }
  if (command === 'F_SETFD' || command === '0x2') {
    const flag = flagsArg(call, 2, FD_FLAGS);
    return withExtras({ kind: 'set-cloexec', fd: oldFd, cloexec: (flag & 1) !== 0, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
  }
  // Another command (a lock) is followed only for an annotation that says the fd's file lost its name (FdSeenEvent).
  if (deleted && hint !== undefined) return withExtras({ kind: 'fd-seen', fd: oldFd, fdHint: hint, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
  return NOTHING;
}

function decodeMmap(call: Call): DecodeResult {
  const { base } = call;
  const { value } = call;
  if (bounds.count < 6) return bad(call, 'arguments');
  const length = numberArg(call, 1);
  const fd = fdArg(call, 4);
  if (fd === null) return bad(call, 'arguments');
  const { fd: mappedFd, hint, deleted } = fd;
  const offset = numberArg(call, 5);
  if (length === null || offset === null) return bad(call, 'arguments');
  if (!isAddress(value)) return outOfRange(call, 'returned address');
  if (!isRange(value, length)) return outOfRange(call, 'length');
  if (!isOffset(offset)) return outOfRange(call, 'offset');
  const event: MmapEvent = {
    kind: 'mmap',
    address: value,
    length,
    prot: flagsArg(call, 2, PROT_FLAGS),
    flags: flagsArg(call, 3, MAP_FLAGS),
    fd: mappedFd,
    offset,
    fdHint: hint,
    place: base.place,
    time: base.time,
    seconds: base.seconds,
    tid: base.tid,
    raw: base.raw,
  };
  // strace 6 prints "(deleted)" after the annotation of an fd whose file lost that name.
  if (deleted) event.fdDeleted = true;
  return withExtras(event, base);
}

function decodeMunmap(call: Call): DecodeResult {
  const { base } = call;
  const address = numberArg(call, 0);
  const length = numberArg(call, 1);
  if (address === null || length === null) return bad(call, 'arguments');
  if (!isAddress(address)) return outOfRange(call, 'address');
  if (!isRange(address, length)) return outOfRange(call, 'length');
  // The kernel refuses a munmap of an address off a page boundary, or of no
  // length, with EINVAL before it unmaps anything: such a call printed
  // <unfinished ...> and applied at entry, before its return says it failed,
  // would cut a live mapping (review 27, F6: 3,000 of them left 1 byte of an
  // 8 KiB leak).
  if (address % SMALLEST_PAGE !== 0 || length === 0) return NOTHING;
  return withExtras({ kind: 'munmap', address, length, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

/** madvise(MADV_DONTFORK | MADV_DOFORK); any other advice is no event. */
function decodeMadvise(call: Call): DecodeResult {
  const { base } = call;
  const advice = (arg(call, 2) ?? '').trim();
  const number = /^\d+$/.test(advice) ? Number(advice) : advice === 'MADV_DONTFORK' ? MADV_DONTFORK : advice === 'MADV_DOFORK' ? MADV_DOFORK : -1;
  if (number !== MADV_DONTFORK && number !== MADV_DOFORK) return NOTHING;
  const address = numberArg(call, 0);
  const length = numberArg(call, 1);
  if (address === null || length === null) return bad(call, 'arguments');
  if (!isAddress(address)) return outOfRange(call, 'address');
  if (!isRange(address, length)) return outOfRange(call, 'length');
  return withExtras({ kind: 'madvise', address, length, dontFork: number === MADV_DONTFORK, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeMremap(call: Call): DecodeResult {
  const { base } = call;
  const { value } = call;
  const oldAddress = numberArg(call, 0);
  const oldLength = numberArg(call, 1);
  const newLength = numberArg(call, 2);
  if (oldAddress === null || oldLength === null || newLength === null) return bad(call, 'arguments');
  if (!isAddress(oldAddress)) return outOfRange(call, 'old address');
  if (!isRange(oldAddress, oldLength)) return outOfRange(call, 'old length');
  if (!isAddress(value)) return outOfRange(call, 'returned address');
  if (!isRange(value, newLength)) return outOfRange(call, 'new length');
  return withExtras(
    {
      kind: 'mremap',
      oldAddress,
      oldLength,
      newLength,
      flags: flagsArg(call, 3, MREMAP_FLAGS),
      newAddress: value,
      place: base.place,
      time: base.time,
      seconds: base.seconds,
      tid: base.tid,
      raw: base.raw,
    },
    base,
  );
}

function decodeFtruncate(call: Call): DecodeResult {
  const { base } = call;
  const fd = fdArg(call, 0);
  if (fd === null) return bad(call, 'arguments');
  const { fd: truncatedFd, hint, deleted } = fd;
  const length = numberArg(call, 1);
  if (length === null) return bad(call, 'arguments');
  if (!isOffset(length)) return outOfRange(call, 'length');
  const event: TruncateEvent = { kind: 'truncate', fd: truncatedFd, length, fdHint: hint, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw };
  if (deleted) event.fdDeleted = true;
  return withExtras(event, base);
}

function decodeTruncate(call: Call): DecodeResult {
  const { base } = call;
  const path = stringArg(call, 0);
  const length = numberArg(call, 1);
  if (path === null || length === null) return bad(call, 'arguments');
  if (!isOffset(length)) return outOfRange(call, 'length');
  return withExtras({ kind: 'truncate', path, dir: { fd: 'cwd' }, length, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeRenameOrLink(call: Call): DecodeResult {
  const { base, name } = call;
  if (name === 'rename' || name === 'link') {
    const from = stringArg(call, 0);
    const to = stringArg(call, 1);
    if (from === null || to === null) return bad(call, 'path');
    if (name === 'link')
      return withExtras(
        { kind: 'link', oldDir: { fd: 'cwd' }, oldPath: from, newDir: { fd: 'cwd' }, newPath: to, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw },
        base,
      );
    return withExtras(
      {
        kind: 'rename',
        oldDir: { fd: 'cwd' },
        oldPath: from,
        newDir: { fd: 'cwd' },
        newPath: to,
        exchange: false,
        place: base.place,
        time: base.time,
        seconds: base.seconds,
        tid: base.tid,
        raw: base.raw,
      },
      base,
    );
  }
  const oldDir = dirArg(call, 0);
  const from = stringArg(call, 1);
  const newDir = dirArg(call, 2);
  const to = stringArg(call, 3);
  if (oldDir === null || newDir === null || from === null || to === null) return bad(call, 'arguments');
  if (name === 'linkat') {
    const followsSymlink = (flagsArg(call, 4, AT_FLAGS) & AT_SYMLINK_FOLLOW) !== 0;
    return withExtras(
      {
        kind: 'link',
        oldDir,
        oldPath: from,
        newDir,
        newPath: to,
        ...(followsSymlink ? { followsSymlink } : {}),
        place: base.place,
        time: base.time,
        seconds: base.seconds,
        tid: base.tid,
        raw: base.raw,
      },
      base,
    );
  }
  const flags = name === 'renameat2' ? flagsArg(call, 4, RENAME_FLAGS) : 0;
  const event: RenameEvent = {
    kind: 'rename',
    oldDir,
    oldPath: from,
    newDir,
    newPath: to,
    exchange: (flags & RENAME_EXCHANGE) !== 0,
    place: base.place,
    time: base.time,
    seconds: base.seconds,
    tid: base.tid,
    raw: base.raw,
  };
  // Set only for RENAME_NOREPLACE (coreutils mv): every other rename keeps the shape it had.
  if ((flags & RENAME_NOREPLACE) !== 0) event.noReplace = true;
  return withExtras(event, base);
}

function decodeSymlink(call: Call): DecodeResult {
  const { base } = call;
  const atCwd = call.name === 'symlink';
  const target = stringArg(call, 0);
  const dir: DirRef | null = atCwd ? { fd: 'cwd' } : dirArg(call, 1);
  const path = stringArg(call, atCwd ? 1 : 2);
  if (target === null || dir === null || path === null) return bad(call, 'arguments');
  // A target cut short by -s ("…"...) says no whole path: the symlink is not followed.
  if (call.text.startsWith('...', bounds.ends[0]! - 3)) return NOTHING;
  return withExtras({ kind: 'symlink', target, dir, path, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeUnlink(call: Call): DecodeResult {
  const { base } = call;
  if (call.name === 'unlink') {
    const path = stringArg(call, 0);
    if (path === null) return bad(call, 'path');
    return withExtras({ kind: 'unlink', dir: { fd: 'cwd' }, path, removeDir: false, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
  }
  const dir = dirArg(call, 0);
  const path = stringArg(call, 1);
  if (dir === null || path === null) return bad(call, 'arguments');
  const removeDir = (flagsArg(call, 2, AT_FLAGS) & AT_REMOVEDIR) !== 0;
  return withExtras({ kind: 'unlink', dir, path, removeDir, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeChdir(call: Call): DecodeResult {
  const { base } = call;
  if (call.name === 'chdir') {
    const path = stringArg(call, 0);
    if (path === null) return bad(call, 'path');
    return withExtras({ kind: 'chdir', path, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
  }
  const fd = fdArg(call, 0);
  if (fd === null) return bad(call, 'fd');
  return withExtras({ kind: 'chdir', fd: fd.fd, fdHint: fd.hint, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeClone(call: Call): DecodeResult {
  const { base } = call;
  // The new task's id; 0 in a child that prints its own return. Anything else no task can have.
  if (call.value !== 0 && !isTid(call.value)) return `${call.name} returned ${String(call.value)}: ${TID_RANGE_REASON}`;
  const flags = cloneFlagsAtEntry(call.name, call.text.slice(call.from)) ?? 0;
  const event: CloneEvent = { kind: 'clone', childTid: call.value, flags, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw };
  if ((flags & CLONE_UNTRACED) !== 0 && call.value > 0) event.untracedChild = true;
  return withExtras(event, base);
}

function decodeBlindSpot(call: Call): DecodeResult {
  if (call.value < 0) return NOTHING;
  // setns into a network, UTS, IPC… namespace leaves names as they were; nstype 0 may be any.
  if (call.name === 'setns') {
    const nstype = flagsArg(call, 1, CLONE_FLAGS);
    if (nstype !== 0 && (nstype & CLONE_FLAGS.CLONE_NEWNS!) === 0) return NOTHING;
  }
  // A remount, or a change of propagation (unshare -m makes / private), leaves every name where it was.
  if (call.name === 'mount' && mountKeepsNames(flagsArg(call, 3, MOUNT_FLAGS))) return NOTHING;
  // Without OPEN_TREE_CLONE, an O_PATH fd of the very directory; with it, a detached copy of the tree, named "/" (review 24).
  if (call.name === 'open_tree' && (flagsArg(call, 2, OPEN_TREE_FLAGS) & OPEN_TREE_CLONE) === 0) return NOTHING;
  // A thread with a cwd (CLONE_FS) or fds (CLONE_FILES) of its own, which the engine keeps per process (review 25:
  // the thread's chdir moved the whole process's, and the main thread's relative unlink found no file).
  if (call.name === 'unshare' && (flagsArg(call, 0, CLONE_FLAGS) & (CLONE_FLAGS.CLONE_FS! | CLONE_FLAGS.CLONE_FILES!)) === 0) return NOTHING;
  const { base } = call;
  return withExtras({ kind: 'blind-spot', call: call.name, place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

function decodeExec(call: Call): DecodeResult {
  const { base } = call;
  return withExtras({ kind: 'exec', path: stringArg(call, call.name === 'execve' ? 0 : 1) ?? '?', place: base.place, time: base.time, seconds: base.seconds, tid: base.tid, raw: base.raw }, base);
}

/** The decoder of each followed call, by name: one lookup instead of a switch over 35 strings. */
const DECODERS: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  ...['open', 'creat', 'openat', 'openat2'].map((name) => [name, decodeOpen] as const),
  ['memfd_create', decodeMemfd],
  ['close', decodeClose],
  ['close_range', decodeCloseRange],
  ...['dup', 'dup2', 'dup3'].map((name) => [name, decodeDup] as const),
  ...['fcntl', 'fcntl64'].map((name) => [name, decodeFcntl] as const),
  ...['mmap', 'mmap2'].map((name) => [name, decodeMmap] as const),
  ['munmap', decodeMunmap],
  ['mremap', decodeMremap],
  ['madvise', decodeMadvise],
  ...['ftruncate', 'ftruncate64'].map((name) => [name, decodeFtruncate] as const),
  ...['truncate', 'truncate64'].map((name) => [name, decodeTruncate] as const),
  ...['rename', 'link', 'renameat', 'renameat2', 'linkat'].map((name) => [name, decodeRenameOrLink] as const),
  ...['symlink', 'symlinkat'].map((name) => [name, decodeSymlink] as const),
  ...['unlink', 'unlinkat'].map((name) => [name, decodeUnlink] as const),
  ...['chdir', 'fchdir'].map((name) => [name, decodeChdir] as const),
  ...['clone', 'clone3', 'fork', 'vfork'].map((name) => [name, decodeClone] as const),
  ...['execve', 'execveat'].map((name) => [name, decodeExec] as const),
  ...BLIND_SPOT_CALLS.map((name) => [name, decodeBlindSpot] as const),
]);

/** The clone flags of a call that created a task, read from its entry text; null for other calls. */
export function cloneFlagsAtEntry(name: string, head: string): number | null {
  switch (name) {
    case 'clone':
    case 'clone3':
      return parseFlags(/flags=([^,}]*)/.exec(head)?.[1] ?? '0', CLONE_FLAGS);
    case 'fork':
      return 0;
    case 'vfork':
      return CLONE_VM | CLONE_VFORK;
    default:
      return null;
  }
}

/**
 * The event header fields few events have. Each decoder builds its event in
 * one object literal, its fields then the header's (place, time, seconds,
 * tid, raw): one hidden class per kind, made at once. Copying the header
 * onto each kind's fields object was a different chain of transitions per
 * kind, through one store site for all: on the hot path, slower than the
 * rest of the decoding.
 */
function withExtras(event: TraceEvent, base: EventBase): TraceEvent {
  if (base.lines !== undefined) event.lines = base.lines;
  if (base.lineTimes !== undefined) event.lineTimes = base.lineTimes;
  if (base.comm !== undefined) event.comm = base.comm;
  if (base.tgid !== undefined) event.tgid = base.tgid;
  // Evidence keeps such an event as text: its place would read back another line.
  if (base.rebuilt === true) event.rebuilt = true;
  return event;
}

function dirArg(call: Call, k: number): DirRef | null {
  return dirIn(call.text, k);
}

/** Argument k of `text` (at `bounds`) as a directory fd: AT_FDCWD is the working directory. */
function dirIn(text: string, k: number): DirRef | null {
  const fd = k < bounds.count ? fdAt(text, bounds.starts[k]!, bounds.ends[k]!) : null;
  if (fd === null) return null;
  const ref: DirRef = { fd: fd.fd === -100 ? 'cwd' : fd.fd };
  if (fd.hint !== undefined) ref.hint = fd.hint;
  return ref;
}
