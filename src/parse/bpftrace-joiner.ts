// Physical lines in, logical lines out: bpftrace prints strings raw, so a
// newline inside a path splits a record over several lines. Pure.
import { EVENT_NAMES, RECORD_HEAD, type LogicalLine } from './bpftrace-line.js';
import { ATTACHING, LOST } from './bpftrace-markers.js';

/**
 * Rebuilds records split by newlines inside paths. bpftrace prints strings raw,
 * so `path=new\nline.bin` arrives as `…path=new` and `line.bin`. A physical line
 * continues the previous record when that record ends in a string field and the
 * line is not itself a record, a header or a bpftrace message. A blank line
 * always ends a record (0.17 prints blank lines at exit), so a path that ends in
 * a newline loses it; a path line that happens to look like a record is taken
 * for one.
 */
export class ContinuationJoiner {
  private held: LogicalLine | null = null;
  private heldTakesContinuation = false;
  /** The held line has already seen one idle moment without a line after it. */
  private heldThroughIdle = false;

  /** Feed one physical line; returns the logical lines that are now complete. */
  push(text: string, lineNo: number): LogicalLine[] {
    const done: LogicalLine[] = [];
    this.heldThroughIdle = false;
    if (this.held !== null && this.heldTakesContinuation && !startsRecord(text)) {
      this.held.text += `\n${text}`;
      this.held.lines.push(lineNo);
      return done;
    }
    if (this.held !== null) done.push(this.held);
    this.held = { text, lines: [lineNo] };
    this.heldTakesContinuation = endsInString(text);
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

function endsInString(text: string): boolean {
  const head = RECORD_HEAD.exec(text);
  return head !== null && EVENT_NAMES.get(head[5]!) === true && text.includes('path=');
}
