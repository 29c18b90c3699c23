// Physical lines in, logical lines out: bpftrace prints strings raw, so a
// newline inside a path splits a record over several lines. Pure.
import { EVENT_NAMES, headName, scanRecordHead, type LogicalLine } from './bpftrace-line.js';
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

/** What a line completes when it completes nothing: one array for all (a keyed capture's path lines, mostly). */
const NONE: readonly LogicalLine[] = Object.freeze([]);

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
  /**
   * Format 2: the capture's key and a blank, which start every line the
   * script prints (its header's first word); null for format 1, and until
   * the header is read.
   */
  private keyPrefix: string | null = null;
  /** Format 2: a blank and the key, which end every record with a path: its path runs up to them. */
  private keySuffix = '';
  /** A header was read: a later line shaped like one names no key (it is a forgery in a file name). */
  private headerRead = false;
  /** Format 2: a record with a path whose closing key has not come yet, and the characters of its path so far. */
  private openPath: LogicalLine | null = null;
  private openPathChars = 0;
  private held: LogicalLine | null = null;
  private heldTakesContinuation = false;
  /** Characters of the held record's path so far, its newlines included. */
  private heldPathChars = 0;
  /** The held line has already seen one idle moment without a line after it. */
  private heldThroughIdle = false;

  /** The capture's key (format 2), once its header is read; null for format 1. */
  get key(): string | null {
    return this.keyPrefix === null ? null : this.keyPrefix.slice(0, -1);
  }

  /** Feed one physical line; returns the logical lines that are now complete. */
  push(text: string, lineNo: number): readonly LogicalLine[] {
    this.heldThroughIdle = false;
    if (!this.headerRead) this.readKey(text);
    if (this.keyPrefix !== null) return this.pushKeyed(text, lineNo);
    const done: LogicalLine[] = [];
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

  /** The key, from the first header (format 2's starts with it); format 1's header has none, and then no line sets one. */
  private readKey(text: string): void {
    const keyed = KEYED_HEADER.exec(text);
    if (keyed !== null) {
      this.keyPrefix = `${keyed[1]} `;
      this.keySuffix = ` ${keyed[1]}`;
    }
    if (keyed !== null || text.startsWith('orphanmap-bt ')) this.headerRead = true;
  }

  /**
   * Format 2: a line that starts with the key is the script's, read without
   * it. A record with a path ends with a blank and the key, and every line
   * from its `path=` to the one that ends so is that path, newlines and all,
   * whatever the lines hold: blank ones, "Lost 1 events", one shaped like a
   * record (review 27: a name ending in a newline, or holding bpftrace's own
   * messages, lost its end). bpftrace writes a record whole, so no line of
   * its own falls inside one. Any other line without the key is bpftrace's
   * own, or no line of the script's at all.
   */
  private pushKeyed(text: string, lineNo: number): readonly LogicalLine[] {
    const keyed = text.startsWith(this.keyPrefix!);
    if (this.openPath !== null) {
      if (!keyed) return this.continuePath(text, lineNo);
      // A line of the script's before the path's end: the record was cut short (bpftrace killed as it wrote).
      const cut = this.unclosed();
      const next = this.keyedLine(text, lineNo);
      return next === null ? [cut] : [cut, next];
    }
    if (keyed) {
      const line = this.keyedLine(text, lineNo);
      return line === null ? NONE : [line];
    }
    if (text === '' || text === '\r' || isBpftraceMessage(text)) return [{ text, lines: [lineNo] }];
    // Not the script's: no key, and no path open whose line it can be.
    return [{ text, lines: [lineNo], unkeyed: true }];
  }

  /** A line that starts with the key, read without it: a record complete on it, or null when its path goes on (openPath). */
  private keyedLine(text: string, lineNo: number): LogicalLine | null {
    const body = text.slice(this.keyPrefix!.length);
    const pathAt = pathStart(body);
    if (pathAt < 0) return { text: body, lines: [lineNo] };
    if (body.endsWith(this.keySuffix)) return { text: body.slice(0, -this.keySuffix.length), lines: [lineNo] };
    this.openPath = { text: body, lines: [lineNo] };
    this.openPathChars = body.length - pathAt;
    return null;
  }

  /** A line of the open record's path; the record, once the line ends with the key. */
  private continuePath(text: string, lineNo: number): readonly LogicalLine[] {
    const open = this.openPath!;
    const closed = text.endsWith(this.keySuffix);
    const part = closed ? text.slice(0, -this.keySuffix.length) : text;
    open.text += `\n${part}`;
    open.lines.push(lineNo);
    this.openPathChars += 1 + part.length;
    if (closed) {
      this.openPath = null;
      return [open];
    }
    // No call that succeeded takes a longer path: the record's end is not coming.
    return this.openPathChars > PATH_CHARS_MAX ? [this.unclosed()] : NONE;
  }

  /** The open record, its path never ended: an unreadable line. */
  private unclosed(): LogicalLine {
    const open = this.openPath!;
    this.openPath = null;
    open.unclosed = true;
    return open;
  }

  /** The held line, complete. */
  private release(): LogicalLine[] {
    const done = this.held === null ? [] : [this.held];
    this.held = null;
    return done;
  }

  /**
   * Live input caught up with its writer. A held line that cannot continue is
   * complete; one ending in a path is complete once a second idle moment
   * passes with nothing after it (orphanmap.bt writes a record, newlines in
   * its path included, with one write: its continuation would have come with it).
   */
  idle(): LogicalLine[] {
    // A keyed record's path ends with the key: until it comes, the record waits, however long.
    if (this.keyPrefix !== null) return [];
    if (this.held === null) return [];
    if (this.heldTakesContinuation && !this.heldThroughIdle) {
      this.heldThroughIdle = true;
      return [];
    }
    return this.end();
  }

  /** The last logical line, at end of input. */
  end(): LogicalLine[] {
    return this.openPath === null ? this.release() : [this.unclosed()];
  }
}

// 3f0c5e9a1b2d4c67 orphanmap-bt 2 begin ns=1498737093204 …
// ^^^^^^^^^^^^^^^^ the key
const KEYED_HEADER = /^([0-9a-f]{16}) orphanmap-bt \d+ begin /;

/** What bpftrace prints itself, between the script's lines: no key. */
function isBpftraceMessage(text: string): boolean {
  return ATTACHING.test(text) || LOST.test(text) || text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED';
}

function startsRecord(text: string): boolean {
  if (text === '' || text === '\r') return true;
  const head = scanRecordHead(text);
  if (head !== null && EVENT_NAMES.has(headName(text, head))) return true;
  return text.startsWith('orphanmap-bt ') || ATTACHING.test(text) || LOST.test(text) || text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED';
}

/** Why `text`, after a path of `pathChars` characters, cannot be the rest of it; undefined when it can. */
function notRestOfPath(text: string, pathChars: number): string | undefined {
  if (scanRecordHead(text) !== null) return 'it starts like a record, with an event the script does not print';
  if (text.includes('\0')) return 'it holds a NUL byte, which ends a string';
  if (pathChars + 1 + text.length > PATH_CHARS_MAX) return `that path would be longer than ${PATH_CHARS_MAX} bytes, more than a call takes`;
  return undefined;
}

/** Where the path of a record that ends in one starts (after `path=`); -1 for any other line. */
function pathStart(text: string): number {
  const head = scanRecordHead(text);
  if (head === null || EVENT_NAMES.get(headName(text, head)) !== true) return -1;
  const at = text.indexOf(' path=', head.end - 1);
  return at < 0 ? -1 : at + 6;
}
