// Where a report goes: stdout, or `--out FILE`. Every byte is accounted for:
// a write that fails or comes up short (a full disk, a read-only file, a file
// in /proc) is an OutputError naming the path (exit 2), never a truncated
// report with exit 0. `--out` is written to a temporary file beside it,
// synced and renamed over it at the end, so the file holds the previous
// report or the new one, whole: a run that fails (its input is missing, the
// disk fills up) leaves the previous report as it was.
//
// Node's process.stdout is not used for reports: for a regular file it is a
// SyncWriteStream, which ignores the byte count of each write(2), so a write
// cut short by a full disk loses the rest of the report without an error.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, renameSync, type Stats, statSync, unlinkSync, writeSync } from 'node:fs';
import { describeSystemError, InputError, OutputError } from '../errors.js';
import { PathRefused, type PathWalk, through, walkToParentOf } from './safe-path.js';
import { inDoubtText, mayBeFalseText } from '../report/finding-view.js';
import type { Report } from '../report/report.js';
import { escapeControl } from '../report/sanitize.js';

export interface ReportOutput {
  /** The name used in messages: the --out path, or "stdout". */
  readonly name: string;
  /**
   * Queue text to write, in order: written once 1 MiB has gathered, and when
   * the current task is over, so a stream (NDJSON of a trace still being
   * written) holds no finding back until more come. A failure is kept and thrown by close().
   */
  write(text: string): void;
  /** Everything written and on disk (--out renamed into place). Throws OutputError. */
  close(): Promise<void>;
  /** The run failed: drop what was written; --out keeps its previous content. */
  abort(): void;
}

/**
 * Opens the report's destination before anything is read, so a bad --out is
 * reported at once. `undefined` is stdout.
 */
export function openReportOutput(out: string | undefined): ReportOutput {
  return out === undefined || out === '-' ? new FdOutput(1, 'stdout', false) : openFileOutput(out);
}

/**
 * Writes what it can of `buffer` to `fd` now; the number of bytes written,
 * short only when a non-blocking pipe is full (EAGAIN).
 */
function writeNow(fd: number, buffer: Buffer): number {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      break;
    }
  }
  return offset;
}

/** Writes all of `buffer` to `fd`, waiting while a non-blocking pipe is full. */
async function writeAll(fd: number, buffer: Buffer): Promise<void> {
  let offset = writeNow(fd, buffer);
  while (offset < buffer.length) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    offset += writeNow(fd, buffer.subarray(offset));
  }
}

/**
 * Text is encoded into one buffer of this size and written when it is full
 * or the task ends: a report of 1,887 findings was a Buffer and a write(2)
 * each (f20: 0.15 s of CPU), and its NDJSON a write(2) for each of 4,513
 * lines; and a 138 MB report as one string must never also exist as one
 * 138 MB Buffer (issue #14, goal 3).
 */
const BATCH_BYTES = 1 << 20;
const utf8 = new TextEncoder();

class FdOutput implements ReportOutput {
  private chain: Promise<void> = Promise.resolve();
  /** Writes waiting behind a full pipe: later text queues behind them, in order. */
  private queued = 0;
  private failure: unknown = null;
  /** The reader went away (`orphanmap … | head`): its choice, not an error. */
  private readerGone = false;
  /** Text encoded and not yet written, in [0, batched). */
  private readonly batch = Buffer.allocUnsafe(BATCH_BYTES);
  private batched = 0;
  private flushScheduled = false;

  constructor(
    protected readonly fd: number,
    readonly name: string,
    /** Sync before close: only for files this process owns. */
    private readonly mustSync: boolean,
  ) {}

  write(text: string): void {
    for (let start = 0; start < text.length; ) {
      // Whole characters only: a surrogate pair that does not fit waits for the next batch.
      const { read, written } = utf8.encodeInto(start === 0 ? text : text.slice(start), this.batch.subarray(this.batched));
      this.batched += written;
      start += read;
      if (start < text.length) this.flush();
    }
    if (this.batched === 0 || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Written at once while the destination takes it (a file always does), so a
   * report streamed in pieces is never held whole in memory; queued behind a
   * full non-blocking pipe.
   */
  private flush(): void {
    if (this.batched === 0) return;
    const bytes = this.batch.subarray(0, this.batched);
    this.batched = 0;
    this.writeBuffer(bytes);
  }

  private writeBuffer(buffer: Buffer): void {
    if (this.failure !== null || this.readerGone) return;
    let rest = buffer;
    if (this.queued === 0) {
      try {
        const written = writeNow(this.fd, buffer);
        if (written === buffer.length) return;
        rest = buffer.subarray(written);
      } catch (error) {
        this.failed(error);
        return;
      }
    }
    // A copy: the batch is filled again before the queue gets to it.
    rest = Buffer.from(rest);
    this.queued++;
    this.chain = this.chain.then(async () => {
      try {
        if (this.failure === null && !this.readerGone) await writeAll(this.fd, rest);
      } catch (error) {
        this.failed(error);
      } finally {
        // Only now may a later write go straight out: this one is done.
        this.queued--;
      }
    });
  }

  private failed(error: unknown): void {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE' && !this.mustSync) this.readerGone = true;
    else this.failure = error;
  }

  async close(): Promise<void> {
    this.flush();
    await this.chain;
    if (this.failure === null && !this.readerGone) this.sync();
    if (this.failure !== null) throw this.outputError(this.failure);
  }

  /** What was written stays written (stdout, a device): the text gathered goes out too, as it would have without the batch. */
  abort(): void {
    this.flush();
  }

  /** The text gathered is dropped, not written (the file it was for is gone). */
  protected discard(): void {
    this.batched = 0;
  }

  /** A regular file (stdout redirected to one, or our own) is synced: a late write error shows here. */
  private sync(): void {
    try {
      if (this.mustSync || fstatSync(this.fd).isFile()) fsyncSync(this.fd);
    } catch (error) {
      // fsync of a pipe or a terminal is EINVAL: nothing to sync.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') this.failure = error;
    }
  }

  protected outputError(error: unknown): OutputError {
    return new OutputError(`cannot write the report: ${describeSystemError(error)}`, this.name, error);
  }
}

/**
 * A temporary file in the directory of `--out`, renamed over it by close().
 * A destination that exists and is not a regular file (/dev/null, a FIFO,
 * /dev/stdout) is written directly: it cannot be replaced, only written to.
 *
 * orphanmap runs as root on hosts where others can write beside `--out`, or
 * above it: every component of the path, the last one too, is walked through
 * the descriptor of the directory before it, and a symbolic link is followed
 * only if it belongs to this user or to root (as /dev/stdout does), the rule
 * of the kernel's fs.protected_symlinks for sticky directories (safe-path.ts);
 * another user's link is refused, so that it cannot make the report replace
 * a file that user could not write. The temporary file is created in the
 * directory reached and renamed through its descriptor, never by walking the
 * path again.
 */
function openFileOutput(path: string): ReportOutput {
  let start: { walk: PathWalk; last: string };
  try {
    start = walkToParentOf(path);
  } catch (error) {
    throw asOutputError(error, path);
  }
  const { walk, last } = start;
  try {
    const info = lstatOrNull(through(walk.dirFd, last), path);
    if (info?.isSymbolicLink() === true) return followLastLink(walk, last, path);
    if (info === null || info.isFile()) return replaceFile(walk, last, info, path);
    refuseOthersPipe(info, path);
    return writeInPlace(through(walk.dirFd, last), constants.O_NOFOLLOW, path);
  } catch (error) {
    throw asOutputError(error, path);
  } finally {
    walk.close();
  }
}

/**
 * `path` ends in NAME, a link in the walk's directory: the report goes where
 * it leads, through as many links as it takes, each under the owner rule. A
 * link to nothing (yet) is replaced by the report, as a new file would be.
 */
function followLastLink(walk: PathWalk, name: string, path: string): ReportOutput {
  const named = walk.fork();
  try {
    let last = name;
    // What a link in /proc leads to (/dev/stdout is fd 1's file) must exist: a link there is not ours to replace.
    let mustExist = false;
    for (let itself = true; ; itself = false) {
      const shown = itself ? path : walk.shown(last);
      const link = walk.linkToFollow(last, shown, itself);
      if (link === null) break;
      const at = through(walk.dirFd, last);
      if (walk.inProc()) {
        const info = statOrNull(at, path);
        if (info === null) throw new PathRefused(`${shown} leads nowhere`, 'ENOENT');
        if (!info.isFile()) {
          refuseOthersPipe(info, path);
          return writeInPlace(at, 0, path);
        }
        mustExist = true;
      }
      try {
        last = walk.enterLinkTo(walk.readLink(last, link, shown));
      } catch (error) {
        if (error instanceof PathRefused && error.code === 'ENOENT' && !mustExist) return replaceFile(named, name, null, path);
        throw error;
      }
    }
    const info = lstatOrNull(through(walk.dirFd, last), path);
    if (info === null) {
      if (mustExist) throw new PathRefused('no such file', 'ENOENT');
      return replaceFile(named, name, null, path);
    }
    if (info.isFile()) return replaceFile(walk, last, info, path);
    refuseOthersPipe(info, path);
    return writeInPlace(through(walk.dirFd, last), constants.O_NOFOLLOW, path);
  } finally {
    named.close();
  }
}

function asOutputError(error: unknown, path: string): unknown {
  if (!(error instanceof PathRefused)) return error;
  return new OutputError(`cannot write the report: ${error.why}`, path, error.cause);
}

/**
 * A FIFO or socket of another user (not root) is refused: opening it waits
 * until that user reads, and then hands them the whole report. O_CREAT is
 * not asked for, so fs.protected_fifos does not step in (found by review).
 */
function refuseOthersPipe(info: Stats, path: string): void {
  if (!info.isFIFO() && !info.isSocket()) return;
  const me = process.geteuid?.() ?? info.uid;
  if (info.uid !== me && info.uid !== 0) {
    throw new OutputError(
      `cannot write the report: it is a ${info.isFIFO() ? 'FIFO' : 'socket'} of another user (uid ${info.uid}), which a report is never written into; name a file of your own`,
      path,
    );
  }
}

function lstatOrNull(path: string, shownAs: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OutputError(`cannot write the report: ${describeSystemError(error)}`, shownAs, error);
  }
}

function statOrNull(path: string, shownAs: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OutputError(`cannot write the report: ${describeSystemError(error)}`, shownAs, error);
  }
}

/** A device, a FIFO, a terminal (`at`, through its directory's descriptor): written as it is, and only if it is still not a regular file once open. */
function writeInPlace(at: string, flags: number, path: string): ReportOutput {
  const fd = openOrFail(at, constants.O_WRONLY | flags, path);
  let regular = true;
  try {
    regular = fstatSync(fd).isFile();
  } finally {
    if (regular) closeSync(fd);
  }
  if (regular) throw new OutputError('cannot write the report: it was replaced by a regular file while it was opened; nothing was written', path);
  return new InPlaceOutput(fd, path);
}

/** A device or FIFO opened for one report: closed after it, so that `scan --watch -o` does not keep one open per round. */
class InPlaceOutput extends FdOutput {
  private open = true;

  constructor(fd: number, name: string) {
    super(fd, name, false);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.closeFd();
    }
  }

  override abort(): void {
    super.abort();
    this.closeFd();
  }

  private closeFd(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

/** NAME in the walk's directory, replaced by a temporary file made and renamed through that directory's descriptor; `existing` is the file it replaces. */
function replaceFile(walk: PathWalk, name: string, existing: Stats | null, shownAs: string): ReportOutput {
  const dir = walk.shown('.');
  let dirFd: number;
  try {
    // A descriptor of its own, kept until the rename: the walk closes its one.
    dirFd = openSync(`/proc/self/fd/${walk.dirFd}`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    throw new OutputError(`cannot write the report: cannot open ${dir} (${describeSystemError(error)})`, shownAs, error);
  }
  const at = (file: string) => through(dirFd, file);
  const temp = at(`.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  } catch (error) {
    closeSync(dirFd);
    throw new OutputError(`cannot write the report: cannot create a file in ${dir} (${describeSystemError(error)})`, shownAs, error);
  }
  if (existing !== null) {
    // The report replaces the file: it keeps the file's permissions (not set-user-ID, set-group-ID or sticky).
    try {
      fchmodSync(fd, existing.mode & 0o777);
    } catch {
      // Best effort: the new file has the default mode.
    }
  }
  return new TempFileOutput(fd, shownAs, temp, at(name), dirFd);
}

function openOrFail(path: string, flags: number, shownAs: string): number {
  try {
    return openSync(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : describeSystemError(error);
    throw new OutputError(`cannot write the report: ${why}`, shownAs, error);
  }
}

/** Temporary files not yet renamed or removed, for a signal that ends the process. */
const pendingTemps = new Set<string>();
let signalsHooked = false;

function removeTempsOnSignal(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const temp of pendingTemps) removeQuietly(temp);
      pendingTemps.clear();
      // Then die of the signal as if we had not caught it (a shell sees 128+n).
      process.off(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

class TempFileOutput extends FdOutput {
  private open = true;

  constructor(
    fd: number,
    name: string,
    /** Both named through the directory's descriptor (/proc/self/fd/N/NAME). */
    private readonly temp: string,
    private readonly target: string,
    private readonly dirFd: number,
  ) {
    super(fd, name, true);
    pendingTemps.add(temp);
    removeTempsOnSignal();
  }

  override async close(): Promise<void> {
    try {
      await super.close();
      this.closeFd();
      renameSync(this.temp, this.target);
      pendingTemps.delete(this.temp);
      closeSync(this.dirFd);
    } catch (error) {
      this.abort();
      throw error instanceof OutputError ? error : this.outputError(error);
    }
  }

  override abort(): void {
    this.discard();
    try {
      this.closeFd();
    } catch {
      // The report is dropped anyway.
    }
    if (!pendingTemps.has(this.temp)) return;
    removeQuietly(this.temp);
    pendingTemps.delete(this.temp);
    closeSync(this.dirFd);
  }

  private closeFd(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

/** What an NDJSON stream leaves to stderr, at its end: the warnings, and how many lines could not be read. */
export function stderrSummary(report: Report): string {
  const lines = report.warnings.map((warning) => `orphanmap: warning: ${escapeControl(warning)}`);
  if (report.summary.unparsedLines > 0)
    lines.push(`orphanmap: ${report.summary.unparsedLines} unreadable lines (first: ${escapeControl(report.unparsedSamples[0]?.file ?? '')}:${report.unparsedSamples[0]?.line})`);
  return `${lines.join('\n')}\n`;
}

/**
 * What leaves a verdict with no failing finding undecided, an error rather
 * than a pass, said once the report is written (it is what the user reads
 * next): a trace that may lack what it needs (Analysis.undecided: a bundle
 * its capture did not finish, a child strace could not follow), or mappings
 * in doubt (Report.summary.mappingsInDoubt).
 */
export function refuseUndecided(verdict: { undecided: string | null; mappingsInDoubt: number; failingMayBeFalse: number }, why: string): void {
  if (verdict.undecided !== null) throw new InputError(`${verdict.undecided}, so ${why}`);
  if (verdict.failingMayBeFalse > 0) throw new InputError(`${mayBeFalseText(verdict.failingMayBeFalse)}, so ${why}`);
  if (verdict.mappingsInDoubt === 0) return;
  throw new InputError(`${inDoubtText(verdict.mappingsInDoubt)}; the report's warnings name each), so ${why}`);
}
