// Physical lines in, logical lines out: bpftrace prints strings raw, so a
// newline inside a path splits a record over several lines. Pure.
import { EVENT_NAMES, RECORD_HEAD, type LogicalLine } from './bpftrace-line.js';
import { ATTACHING, LOST } from './bpftrace-markers.js';

/**
 * The most characters a path the script prints can have after `path=`. It
 * prints paths of calls that succeeded only, and the kernel takes at most
 * PATH_MAX (4096) bytes with the NUL; an exec's is the kernel's own name for
 * the file, which for execveat of a relative path is "/dev/fd/N/" and that
 * path, up to 19 more. A decoded line has at most as many UTF-16 code units as
 * it had bytes, so a longer join is never one path, whatever BPFTRACE_STRLEN.
 */
export const PATH_CHARS_MAX = 4095 + '/dev/fd/2147483647/'.length;

/**
 * Rebuilds records split by newlines inside paths. bpftrace prints strings raw,
 * so `path=new\nline.bin` arrives as `…path=new` and `line.bin`. A physical line
 * continues the previous record when that record ends in a string field and the
 * line is not itself a record, a header or a bpftrace message. A blank line
 * always ends a record (0.17 prints blank lines at exit), so a path that ends in
 * a newline loses it; a path line that happens to look like a record is taken
 * for one.
 *
 * A line there that cannot be the rest of what the script printed is a line
 * of its own, and is marked (LogicalLine.notPath) so that the reader says why
 * it is unreadable: one that starts like a record, `<ns> <cpu> <tgid> <tid>
 * <word>`, with an event the script does not print (the script never prints
 * one, and the same line anywhere else is an unknown event); one with a NUL
 * (str() ends a string at its first NUL); one that makes the path longer than
 * PATH_CHARS_MAX. Before, such lines were joined into the path and lost.
 */
export class ContinuationJoiner {
  private held: LogicalLine | null = null;
  private heldTakesContinuation = false;
  /** Characters of the held record's path so far, its newlines included. */
  private heldPathChars = 0;
  /** The held line has already seen one idle moment without a line after it. */
  private heldThroughIdle = false;

  /** Feed one physical line; returns the logical lines that are now complete. */
  push(text: string, lineNo: number): LogicalLine[] {
    const done: LogicalLine[] = [];
    this.heldThroughIdle = false;
    let notPath: string | undefined;
    if (this.held !== null && this.heldTakesContinuation && !startsRecord(text)) {
      notPath = notRestOfPath(text, this.heldPathChars);
      if (notPath === undefined) {
        this.held.text += `\n${text}`;
        this.held.lines.push(lineNo);
        this.heldPathChars += 1 + text.length;
        return done;
      }
    }
    if (this.held !== null) done.push(this.held);
    this.held = { text, lines: [lineNo] };
    if (notPath !== undefined) this.held.notPath = notPath;
    const pathAt = pathStart(text);
    this.heldTakesContinuation = pathAt >= 0;
    this.heldPathChars = pathAt >= 0 ? text.length - pathAt : 0;
    return done;
  }

  /**
   * Live input caught up with its writer. A held line that cannot continue is
   * complete; one ending in a path is complete once a second idle moment
   * passes with nothing after it (orphanmap.bt writes a record, newlines in
   * its path included, with one write: its continuation would have come with it).
   */
  idle(): LogicalLine[] {
    if (this.held === null) return [];
    if (this.heldTakesContinuation && !this.heldThroughIdle) {
      this.heldThroughIdle = true;
      return [];
    }
    return this.end();
  }

  /** The last logical line, at end of input. */
  end(): LogicalLine[] {
    const done = this.held === null ? [] : [this.held];
    this.held = null;
    return done;
  }
}

function startsRecord(text: string): boolean {
  if (text === '' || text === '\r') return true;
  const head = RECORD_HEAD.exec(text);
  if (head !== null && EVENT_NAMES.has(head[5]!)) return true;
  return text.startsWith('orphanmap-bt ') || ATTACHING.test(text) || LOST.test(text) || text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED';
}

/** Why `text`, after a path of `pathChars` characters, cannot be the rest of it; undefined when it can. */
function notRestOfPath(text: string, pathChars: number): string | undefined {
  if (RECORD_HEAD.test(text)) return 'it starts like a record, with an event the script does not print';
  if (text.includes('\0')) return 'it holds a NUL byte, which ends a string';
  if (pathChars + 1 + text.length > PATH_CHARS_MAX) return `that path would be longer than ${PATH_CHARS_MAX} bytes, more than a call takes`;
  return undefined;
}

/** Where the path of a record that ends in one starts (after `path=`); -1 for any other line. */
function pathStart(text: string): number {
  const head = RECORD_HEAD.exec(text);
  if (head === null || EVENT_NAMES.get(head[5]!) !== true) return -1;
  const at = text.indexOf(' path=', head[0].length - 1);
  return at < 0 ? -1 : at + 6;
}
