// strace -ff sets: one file per thread, PREFIX.<tid>.
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Place } from '../parse/events.js';
import { InputError } from '../errors.js';

/** The files of one strace -ff set: PREFIX.<tid>, one per thread it followed. */
export interface FfSet {
  prefix: string;
  tids: ReadonlySet<number>;
}

/** How many missing members a warning names. */
const NAMED = 10;

/**
 * strace -ff writes one file per thread, PREFIX.<tid>, and each clone in one
 * file names the tid of the next. A file of the set that was deleted or not
 * copied leaves no trace of its own, but the clone that created its thread
 * does: a child tid with no file is a member missing, and its calls (maybe
 * its leaks) are not in the analysis.
 */
export class FfMembers {
  /** The lowest tids with no file, with the clone that created each, in tid order: the ones a warning names. */
  private readonly named: [number, Place][] = [];
  /** How many more: a trace of a million short-lived threads must not keep a million places. */
  private more = 0;
  /** The set's tids a clone created, each with that clone and whether a line of the tid came since. */
  private readonly lives = new Map<number, { createdAt: Place; seen: boolean }>();
  /** The first tid created again before any line of its earlier life (reused), and how many such. */
  private lostLife: { tid: number; first: Place; again: Place } | null = null;
  private lostLives = 0;

  constructor(private readonly set: FfSet) {}

  /** A line of thread `tid`: the life a clone gave it is in its file. */
  seen(tid: number): void {
    const life = this.lives.get(tid);
    if (life !== undefined) life.seen = true;
  }

  created(tid: number, place: Place): void {
    if (this.set.tids.has(tid)) {
      // strace -ff opens PREFIX.<tid> anew for each thread of that tid (without -A): a tid created again, none of
      // whose lines came since the first clone, left only the later life in its file (review 33 exactness, 5: pid
      // reuse in a pid namespace, and a leak read as clean).
      const life = this.lives.get(tid);
      if (life !== undefined && !life.seen && this.lostLives++ === 0) this.lostLife = { tid, first: life.createdAt, again: { file: place.file, line: place.line } };
      this.lives.set(tid, { createdAt: { file: place.file, line: place.line }, seen: false });
      return;
    }
    if (this.named.some(([known]) => known === tid)) return;
    if (this.named.length === NAMED && tid > this.named[NAMED - 1]![0]) {
      // A tid reused after pid_max wrapped is counted again: it is another thread.
      this.more++;
      return;
    }
    let at = this.named.length;
    while (at > 0 && this.named[at - 1]![0] > tid) at--;
    this.named.splice(at, 0, [tid, { file: place.file, line: place.line }]);
    if (this.named.length > NAMED) {
      this.named.pop();
      this.more++;
    }
  }

  async warnings(): Promise<string[]> {
    const warnings: string[] = [];
    for (const [tid, place] of this.named) {
      const file = `${this.set.prefix}.${tid}`;
      const exists = await access(file).then(
        () => true,
        () => false,
      );
      warnings.push(
        exists
          ? `${file} was not read: ${place.file}:${place.line} created thread ${tid}, whose calls are in that file of the strace -ff set; name the directory, or every ${basename(this.set.prefix)}.* file`
          : `${file} is missing from the strace -ff set: ${place.file}:${place.line} created thread ${tid}, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis`,
      );
    }
    if (this.more > 0) warnings.push(`${this.more} more threads of the strace -ff set ${this.set.prefix}.* have no file`);
    const lost = this.lostLife;
    if (lost !== null) {
      const more = this.lostLives > 1 ? ` (and ${this.lostLives - 1} more tids like it)` : '';
      warnings.push(
        `${this.set.prefix}.${lost.tid} holds only the last of the threads that had tid ${lost.tid}: ${lost.first.file}:${lost.first.line} created one, and ${lost.again.file}:${lost.again.line} ` +
          `another (the tid used again) before any line of the first, as strace -ff opens the file anew for each (without -A)${more}: the first one's calls (and any mapping it leaked) are not in the analysis. ` +
          'Capture with -ff -A, or -f -o FILE (one file)',
      );
    }
    return warnings;
  }
}

/** How a file of an -ff set times its lines, from its first line: what merging the set needs. */
export type FfClock = 'absolute' | 'whole-seconds' | 'relative' | 'none' | 'empty';

/**
 * An -ff set is merged by its lines' times, one file per thread, and only
 * absolute times with a fraction (-tt, -ttt) order lines across files.
 * `-t` (and `--timestamps=…,s`) prints whole seconds: a thousand calls share
 * one. `-r` prints each line's time since the file's line before, which no
 * other file shares; and without times there is nothing to order by. Merged
 * in a wrong order, a fork child's calls go before the clone that made it, a
 * thread's unlink before another's mmap: findings are lost or made up. Rather
 * than report that, the set is refused, with its files named. `clocks`: each
 * file's, from its first line.
 */
export function refuseUnordered(paths: readonly string[], clocks: readonly FfClock[]): void {
  if (paths.length < 2) return;
  const kinds: [Exclude<FfClock, 'absolute' | 'empty'>, string][] = [
    ['whole-seconds', 'whole-second times (-t)'],
    ['relative', 'relative times (-r)'],
    ['none', 'no times'],
  ];
  for (const [kind, what] of kinds) {
    const files = paths.filter((_, k) => clocks[k] === kind);
    if (files.length === 0) continue;
    const named = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
    const why =
      kind === 'whole-seconds'
        ? 'lines of different files in the same second cannot be put in order'
        : kind === 'relative'
          ? "each line's time is since the line before it in the same file, so lines of different files cannot be put in order"
          : 'nothing says in which order lines of different files came';
    throw new InputError(
      `strace -ff files with ${what}: ${named}. The files are merged in time order, and ${why}: the analysis would be wrong; capture again with -ff -tt or -ff -ttt (or -f -o FILE, one file in order), or analyze one file at a time`,
      paths[0],
    );
  }
}

/**
 * Calls that make an fd. The kernel picks the number inside the call, so
 * another thread's close of that number may be stamped after this call's
 * entry and still come first: in the merge such a call counts from its
 * return (entry + -T duration). A close counts from its entry, where the
 * number is already free.
 */
const FD_MAKERS: ReadonlySet<string> = new Set([
  'open',
  'openat',
  'openat2',
  'creat',
  'open_by_handle_at',
  'dup',
  'dup2',
  'dup3',
  'socket',
  'socketpair',
  'accept',
  'accept4',
  'pipe',
  'pipe2',
  'memfd_create',
  'eventfd',
  'eventfd2',
  'epoll_create',
  'epoll_create1',
  'inotify_init',
  'inotify_init1',
  'signalfd',
  'signalfd4',
  'timerfd_create',
  'userfaultfd',
  'pidfd_open',
  'pidfd_getfd',
  'perf_event_open',
  'fanotify_init',
  'io_uring_setup',
]);

/** What the merge of an -ff set learns from its lines: whether it can tell which thread's fd came first. */
export interface FfOrderSeen {
  /** Lines of calls that make an fd, with a -T duration: merged at their return. */
  returns: number;
  /** Calls that make an fd whose number carries a -y annotation (`= 5</path>`): the kernel names the file at each later call. */
  annotated: number;
}

/**
 * The time at which a call took effect, for the merge: its entry, or its
 * return for a call that makes an fd and shows its -T duration.
 * ```
 * 1796257751.598650 openat(AT_FDCWD</tmp>, "/d/t1-0", O_RDWR|O_CREAT, 0644) = 3</d/t1-0> <0.030368>
 * ^^^^^^^^^^^^^^^^^ entry                                                    ^^ -y         ^^^^^^^^ -T
 * ```
 */
export function effectSeconds(call: { name: string; body: string; status: string }, entry: number, seen: FfOrderSeen): number {
  if (call.status !== 'complete' || (!FD_MAKERS.has(call.name) && !isDupFcntl(call))) return entry;
  const body = call.body;
  const result = body.lastIndexOf(') = ');
  if (result >= 0) {
    let k = result + 4;
    while (k < body.length && body.charCodeAt(k) >= 48 && body.charCodeAt(k) <= 57) k++;
    if (k > result + 4 && body.charCodeAt(k) === 60 /* < */) seen.annotated++;
  }
  if (body.charCodeAt(body.length - 1) !== 62 /* > */) return entry;
  const open = body.lastIndexOf(' <');
  if (open < 0) return entry;
  const duration = Number(body.slice(open + 2, -1));
  if (!Number.isFinite(duration) || duration < 0 || !body.slice(open + 2, -1).includes('.')) return entry;
  seen.returns++;
  return entry + duration;
}

function isDupFcntl(call: { name: string; body: string }): boolean {
  return (call.name === 'fcntl' || call.name === 'fcntl64') && call.body.includes('F_DUPFD');
}

const DAY = 86_400;
const HALF_DAY = DAY / 2;

/**
 * -tt stamps are times of day: a set that runs past midnight goes from
 * 23:59:59 to 00:00:00. Within one file times never go back, and a capture
 * has lines in some file at least every 12 hours, so a time more than 12 h
 * before the merge's clock is of the next day. Where the merge begins: after
 * the longest gap between the files' first times on the 24 h circle (a set
 * whose threads start 23:59:59.9 and 00:00:00.1 begins at 23:59:59.9).
 */
export function dayStart(firstTimes: readonly number[]): number {
  const times = [...firstTimes].sort((a, b) => a - b);
  if (times.length === 0) return 0;
  let start = times[0]!;
  let longest = times[0]! + DAY - times[times.length - 1]!;
  for (let k = 1; k < times.length; k++) {
    if (times[k]! - times[k - 1]! > longest) {
      longest = times[k]! - times[k - 1]!;
      start = times[k]!;
    }
  }
  return start;
}

/** A time of day as seconds on the merge's clock: the first such time no more than 12 h before `clock`. */
export function onClock(timeOfDay: number, clock: number): number {
  const days = Math.ceil((clock - HALF_DAY - timeOfDay) / DAY);
  return days > 0 ? timeOfDay + days * DAY : timeOfDay;
}
