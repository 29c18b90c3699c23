// The typed records every trace format is turned into. Both the strace and the
// bpftrace parsers produce `TraceEvent`s; the engine consumes nothing else.
// Pure types and tiny helpers only: no I/O here.
import type { EvidenceHandle } from '../engine/findings.js';

/** Where a record came from: the input file and its 1-based line number. */
export interface Place {
  file: string;
  line: number;
}

/** Fields every event carries. */
export interface EventBase {
  place: Place;
  /** The trace's own timestamp text ("17:41:43.078823", "1795544192.489878"), or null. */
  time: string | null;
  /** The same instant in seconds (epoch, since midnight, or since trace start), for delays. */
  seconds: number | null;
  /**
   * bpftrace: the call's entry (its `ens`) in the same clock as `seconds`,
   * which is its return (when it was printed). An mmap over a live mapping
   * (MAP_FIXED) drops it at the start of the call, and MAP_POPULATE may then
   * read the file in for tens of ms before it returns. Absent for strace,
   * whose `time` is the call's start.
   */
  enteredSeconds?: number;
  /** The thread that made the call. 0 when the trace does not say (single process, no -f). */
  tid: number;
  /** Thread group id when the trace states it (bpftrace, bundle metadata); otherwise undefined. */
  tgid?: number;
  /** Thread name (strace -Y, bpftrace comm), when known. */
  comm?: string;
  /** The raw text the event was built from (joined when it was split by unfinished/resumed). */
  raw: string;
  /** Line numbers of every physical line that made this event (an unfinished/resumed pair gives two). */
  lines?: number[];
  /**
   * The time printed on each line of `lines`, in the same order (null for a
   * line without one). A `<... mmap resumed>` line has its own stamp, later
   * than `time`, which is the call's first line's. Absent for an event read
   * from one line, or from lines that share one stamp (a bpftrace record).
   */
  lineTimes?: (string | null)[];
  /**
   * `raw` is not the physical lines as they are in the input: one cut by a
   * strace message was put together again, or a second \r was taken off.
   */
  rebuilt?: true;
  /**
   * What a file keeps of the event for evidence, when whoever applies it does
   * not pass one to Engine.apply (ingest passes it: a property added to every
   * event would change its shape on the hot path).
   */
  keeper?: EvidenceKeeper;
}

/** Turns an event into what a file keeps of it (ingest's: positions in its input). */
export interface EvidenceKeeper {
  /** Appends what is kept of `event` to `numbers` (nothing, when it keeps an object) and returns the handle that reads it back. */
  keep(event: EventBase, numbers: number[]): EvidenceHandle;
}

/** A file identity as the kernel sees it, when the tracer reports one (bpftrace). */
export interface Inode {
  dev: number;
  ino: number;
  /**
   * The file's generation, where the trace gives it (a bpftrace capture's opens): ext4 gives a freed inode
   * number to the next file made, at once, and two files that held one number differ in it.
   */
  gen?: number;
}

/** A directory argument: AT_FDCWD or a directory fd, with the path strace -y printed for it. */
export interface DirRef {
  fd: number | 'cwd';
  /** The -y annotation (a print-time snapshot), or undefined. */
  hint?: string;
}

export type TraceEvent =
  | OpenEvent
  | CloseEvent
  | CloseRangeEvent
  | DupEvent
  | SetCloexecEvent
  | MmapEvent
  | MunmapEvent
  | MunmapFailedEvent
  | MremapEvent
  | MadviseEvent
  | TruncateEvent
  | RenameEvent
  | LinkEvent
  | SymlinkEvent
  | UnlinkEvent
  | ChdirEvent
  | CloneStartEvent
  | CloneEvent
  | ExecStartEvent
  | ExecEvent
  | ThreadExitEvent
  | LostEvent
  | NameMissingEvent
  | FdSeenEvent
  | BlindSpotEvent;

/**
 * Whether the event is one of a trace's events as the report counts them:
 * the calls that changed something. A failed call (name-missing, munmap-failed) changed
 * nothing, and an execve's entry is counted at its return.
 */
export function countedEvent(event: TraceEvent): boolean {
  return event.kind !== 'name-missing' && event.kind !== 'exec-start' && event.kind !== 'munmap-failed';
}

/**
 * Whether a counted event is about a file, an fd or a mapping: what a verdict
 * rests on. A trace of clones, exits and working directories alone (`strace -p`
 * without -f of a JVM's main thread: a futex, exit_group, and its exit) shows
 * nothing a mapping did (review 21: "no mapping outlived its file", exit 0).
 */
export function fileEvent(event: TraceEvent): boolean {
  const kind = event.kind;
  return kind !== 'clone-start' && kind !== 'clone' && kind !== 'thread-exit' && kind !== 'lost' && kind !== 'chdir' && kind !== 'blind-spot' && countedEvent(event);
}

export interface OpenEvent extends EventBase {
  kind: 'open';
  dir: DirRef;
  path: string;
  fd: number;
  cloexec: boolean;
  /** The -y annotation of the returned fd: the absolute path the kernel resolved. */
  resolvedHint?: string;
  inode?: Inode;
  /** O_TMPFILE was among the flags: `path` is a directory, and the fd a new file in it with no name. */
  tmpfile?: boolean;
  /**
   * O_CREAT|O_EXCL were among the flags: the open made a new file,
   * so `inode` is a number the kernel gave anew, never that of a file the
   * trace knew, whose inode was freed (review 51, A5).
   */
  created?: boolean;
  /**
   * O_TRUNC was among the flags: a file that was there lost its contents, a
   * size change of a file still mapped as much as an ftruncate to 0 is
   * (numpy's `mode='w+'` over a live memmap; review 55, M1).
   */
  truncated?: boolean;
  /**
   * With `truncated`: O_CREAT was among the flags too, so the open may have
   * made the name anew; without it, a file was at the name already.
   */
  mayCreate?: boolean;
  /** A memfd_create (strace): `path` is "/memfd:NAME", as -y prints it, and the fd a file no name leads to. */
  memfd?: boolean;
  /** `path` is as long as the tracer prints and was probably cut (PathCut). */
  pathCut?: PathCut;
  /** `path` ended in a symlink to the file, whose own name the tracer told only by a clue (bpftrace's dir=). */
  realName?: RealNameClue;
}

/**
 * What orphanmap.bt tells of the real name of a file opened through a symlink
 * to it: the directory that holds it (its path as the dir records gave it),
 * and the name's length in bytes and tag (nameTag in bpftrace-dirs.ts). A
 * later call that names a file of that directory whose name has that length
 * and tag names this file (Files.claimRealName).
 */
export interface RealNameClue {
  dir: string;
  bytes: number;
  tag: number;
}

/**
 * A path as long as the tracer prints one: bpftrace's str() cuts at
 * BPFTRACE_STRLEN-1 bytes, silently, so `…/00.index` and `…/00.log` can
 * both come out as the same bytes. Such a name is not matched with any other
 * (Files.cut): a file is tied to it by the inode its open reports, never by
 * the name. Set by the bpftrace reader, on the few events that have one.
 */
export type PathCut = true;

export interface CloseEvent extends EventBase {
  kind: 'close';
  fd: number;
  /**
   * Set only when strace printed "(deleted)" after the fd's -y annotation:
   * the path it printed, which the fd's file no longer has (review 22: a
   * file unlinked by a second spelling of its directory, a symlink).
   */
  goneName?: string;
  /** bpftrace: the link count of the fd's file at the close's entry (0: it had no name left), with its inode. */
  nlink?: number;
  inode?: Inode;
}

export interface CloseRangeEvent extends EventBase {
  kind: 'close-range';
  low: number;
  high: number;
  /** CLOSE_RANGE_CLOEXEC only marks the fds close-on-exec instead of closing them. */
  cloexecOnly: boolean;
  /** CLOSE_RANGE_UNSHARE: the caller's fd table is unshared first. */
  unshare?: boolean;
}

/** dup, dup2, dup3 and fcntl(F_DUPFD/F_DUPFD_CLOEXEC): newFd now names oldFd's open file. */
export interface DupEvent extends EventBase {
  kind: 'dup';
  oldFd: number;
  newFd: number;
  cloexec: boolean;
  /** The -y annotation of the old fd (for an fd opened before the trace). */
  oldHint?: string;
  /** strace 6 printed "(deleted)" after that annotation: the fd's file no longer has that name. */
  oldDeleted?: boolean;
}

/**
 * A call on an fd followed only for its -y annotation, made only when that
 * says "(deleted)": the fd's file has lost that name. fcntl's other commands
 * (F_SETLKW and the other locks databases take around each write): a process
 * not traced may have removed or replaced the file under a process that
 * keeps it mapped (review 9: tdb, gdbm), which only the annotation shows.
 */
export interface FdSeenEvent extends EventBase {
  kind: 'fd-seen';
  fd: number;
  fdHint: string;
}

export interface SetCloexecEvent extends EventBase {
  kind: 'set-cloexec';
  fd: number;
  cloexec: boolean;
}

export interface MmapEvent extends EventBase {
  kind: 'mmap';
  /** The address mmap returned. */
  address: number;
  /** Bytes as passed to mmap (not page-rounded). */
  length: number;
  prot: number;
  flags: number;
  /** -1 for anonymous mappings. */
  fd: number;
  offset: number;
  /** The -y annotation of the fd argument. */
  fdHint?: string;
  /** strace 6 printed "(deleted)" after that annotation: the fd's file no longer has that name. */
  fdDeleted?: boolean;
  inode?: Inode;
  /** The link count of the fd's file when the tracer reports it (bpftrace): 0, the file has no name left. */
  nlink?: number;
}

export interface MunmapEvent extends EventBase {
  kind: 'munmap';
  address: number;
  length: number;
  /**
   * strace printed the call `<unfinished ...>`, and it is applied at its
   * entry (another thread's mmap printed before its resume may reuse the
   * range), before its return says whether it succeeded (MunmapFailedEvent).
   */
  atEntry?: true;
}

/**
 * The resume of a munmap applied at its entry (MunmapEvent.atEntry) says it
 * failed: the kernel unmapped nothing (ENOMEM: the split would pass
 * vm.max_map_count; EPERM: a sealed mapping), and what the entry took is
 * still mapped. A failed call: counted as no event.
 */
export interface MunmapFailedEvent extends EventBase {
  kind: 'munmap-failed';
  address: number;
  length: number;
  /** The error name strace printed: ENOMEM, EPERM. */
  error: string;
}

/**
 * madvise(MADV_DONTFORK) or madvise(MADV_DOFORK) that succeeded: a fork's
 * child gets no copy of the range, or gets one again. Other advice changes
 * nothing orphanmap follows and is no event.
 */
export interface MadviseEvent extends EventBase {
  kind: 'madvise';
  address: number;
  length: number;
  dontFork: boolean;
}

/** madvise's advice values that decide what a fork copies (uapi/asm-generic/mman-common.h). */
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;

export interface MremapEvent extends EventBase {
  kind: 'mremap';
  oldAddress: number;
  oldLength: number;
  newLength: number;
  flags: number;
  newAddress: number;
}

/** ftruncate (fd set) or truncate (path set): the file's size changed. */
export interface TruncateEvent extends EventBase {
  kind: 'truncate';
  fd?: number;
  fdHint?: string;
  /** strace 6 printed "(deleted)" after the fd's annotation: the fd's file no longer has that name. */
  fdDeleted?: boolean;
  path?: string;
  dir?: DirRef;
  length: number;
  inode?: Inode;
  /** ftruncate: the link count of the fd's file when the tracer reports it (bpftrace): 0, the file has no name left. */
  nlink?: number;
  pathCut?: PathCut;
}

export interface RenameEvent extends EventBase {
  kind: 'rename';
  oldDir: DirRef;
  oldPath: string;
  newDir: DirRef;
  newPath: string;
  /** RENAME_EXCHANGE swaps the two names. */
  exchange: boolean;
  /** RENAME_NOREPLACE (coreutils mv): the call succeeds only when nothing had the new name, so it replaced no file. */
  noReplace?: true;
  inode?: Inode;
  oldPathCut?: PathCut;
  newPathCut?: PathCut;
}

export interface LinkEvent extends EventBase {
  kind: 'link';
  oldDir: DirRef;
  oldPath: string;
  newDir: DirRef;
  newPath: string;
  /** linkat's AT_SYMLINK_FOLLOW (`ln -L`): a symlink at the old name is followed, and its target gets the new name. */
  followsSymlink?: boolean;
  oldPathCut?: PathCut;
  newPathCut?: PathCut;
}

/**
 * symlink, symlinkat: a symlink at `path` (in `dir`) whose content is
 * `target`, as given: a relative target is read from the symlink's directory
 * wherever the symlink is then.
 */
export interface SymlinkEvent extends EventBase {
  kind: 'symlink';
  target: string;
  dir: DirRef;
  path: string;
  /** The name or the target is as long as bpftrace prints one, and was probably cut: where the name leads is unknown. */
  pathCut?: PathCut;
}

export interface UnlinkEvent extends EventBase {
  kind: 'unlink';
  dir: DirRef;
  path: string;
  /** unlinkat(…, AT_REMOVEDIR) is rmdir. */
  removeDir: boolean;
  inode?: Inode;
  /** Link count after the unlink when the tracer reports it (bpftrace). */
  nlinkAfter?: number;
  pathCut?: PathCut;
}

export interface ChdirEvent extends EventBase {
  kind: 'chdir';
  /** chdir(path) */
  path?: string;
  /** fchdir(fd) */
  fd?: number;
  fdHint?: string;
  pathCut?: PathCut;
}

/**
 * A clone/fork/vfork has been entered but has not returned yet. Under strace -f
 * the child's first calls can be printed before the parent's clone returns;
 * this lets the engine place such a child correctly (same address space or a copy).
 */
export interface CloneStartEvent extends EventBase {
  kind: 'clone-start';
  flags: number;
}

/** clone, clone3, fork, vfork: a new task (childTid -1 when the call failed). */
export interface CloneEvent extends EventBase {
  kind: 'clone';
  childTid: number;
  flags: number;
  /**
   * Set only by strace's clone with CLONE_UNTRACED: the kernel attaches no
   * tracer to that child, so `strace -f` follows neither it nor what it
   * starts (review 22). bpftrace's records are the kernel's, for every task.
   */
  untracedChild?: true;
}

/**
 * An execve/execveat entered that strace printed `<unfinished ...>`: its
 * return comes later, and another process's unlink or rename of the
 * program's name may be printed in between, though the kernel had opened the
 * file first. The path names the file the call runs if it returns 0 (ExecEvent).
 */
export interface ExecStartEvent extends EventBase {
  kind: 'exec-start';
  path: string;
  pathCut?: PathCut;
}

/** A successful execve/execveat: the caller's address space is replaced. */
export interface ExecEvent extends EventBase {
  kind: 'exec';
  path: string;
  /** For an exec by a non-leader thread: the TID the thread had before it took over the leader's. */
  formerTid?: number;
  pathCut?: PathCut;
}

/** A thread ended (`+++ exited with N +++`, `+++ killed by SIG +++`, bpftrace exit). */
export interface ThreadExitEvent extends EventBase {
  kind: 'thread-exit';
  /** "exited with 0", "killed by SIGKILL", … as the trace says it. */
  how: string;
  /** The tracer says the whole thread group is gone (bpftrace group_dead=1). */
  groupDead?: boolean;
}

/** The tracer lost events here (bpftrace "Lost N events"): later conclusions are uncertain. */
export interface LostEvent extends EventBase {
  kind: 'lost';
  count: number;
}

/**
 * An open or unlink that failed with ENOENT: the name was not there. When the
 * trace still knows it as a mapped file's, something it does not follow
 * removed it (Files.nameMissing).
 */
export interface NameMissingEvent extends EventBase {
  kind: 'name-missing';
  call: string;
  dir: DirRef;
  path: string;
}

/**
 * A call after which the trace cannot say what happens to files: chroot,
 * pivot_root, setns into a mount namespace, mount, move_mount, umount2,
 * open_tree (OPEN_TREE_CLONE) and fsmount change which file a name means where no later call shows it; io_uring_setup
 * makes a ring whose opens, closes, unlinks and renames run with no system
 * call (review 23: a leak hidden behind either read as clean). Succeeded.
 */
export interface BlindSpotEvent extends EventBase {
  kind: 'blind-spot';
  /** The system call's name. */
  call: string;
  /**
   * What the trace missed, when not the file operations a call stands for:
   * 'name', bpftrace printed the name of the call, which succeeded, empty (its
   * read of the name failed, and which file it meant is not known); 'calls',
   * bpftrace's maps were full, and calls of a thread (`stash`) or of a new
   * process (`track`) were not printed.
   */
  missed?: 'name' | 'calls';
}

/** A line that could not be read: counted and kept as a sample, never thrown. */
export interface Diagnostic {
  place: Place;
  text: string;
  reason: string;
}

/** A diagnostic's text cut to `max` characters, with a note of its length: `… (1234 characters)`. */
export function cutSampleText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** The note cutSampleText adds, where it ends a text. */
export const SAMPLE_CUT_NOTE = /… \(\d+ characters\)$/;

// Constants as the x86_64 kernel defines them (the values strace and bpftrace print; docs/trace-formats.md).
export const O_CLOEXEC = 0x80000;
/** __O_TMPFILE | O_DIRECTORY: strace prints it as O_TMPFILE, bpftrace as flags=0x410002 (with O_RDWR). */
export const O_TMPFILE = 0x410000;
export const O_TRUNC = 0x200;
/** O_CREAT | O_EXCL: an open with both that succeeds made a new file. */
export const O_CREAT_EXCL = 0xc0;
export const O_CREAT = 0x40;
export const MAP_SHARED = 0x1;
export const MAP_PRIVATE = 0x2;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MREMAP_MAYMOVE = 0x1;
export const MREMAP_FIXED = 0x2;
export const MREMAP_DONTUNMAP = 0x4;
export const CLONE_VM = 0x100;
export const CLONE_FS = 0x200;
export const CLONE_FILES = 0x400;
export const CLONE_VFORK = 0x4000;
export const CLONE_THREAD = 0x10000;
export const RENAME_EXCHANGE = 0x2;
/** renameat2's RENAME_NOREPLACE. */
export const RENAME_NOREPLACE = 0x1;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const CLOSE_RANGE_CLOEXEC = 0x4;
export const CLOSE_RANGE_UNSHARE = 0x2;

/** Exhaustiveness check for switches over discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
