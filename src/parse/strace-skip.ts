// Calls nobody follows (futex, read, epoll_wait…: most lines of a real trace),
// recognised on the input's text before a line becomes a string of its own.
// One decision, used by StraceReader on each line it is given and by the
// filter the line source runs ahead of it (ingest/line-filter.ts): skipping a
// line must change nothing but the time it takes. Pure: no I/O.
import { FOLLOWED_SYSCALLS } from './strace-decode.js';
import { plainPrefixTid, prefixTidOutOfRange } from './strace-line.js';
import { FOLLOWED_SHAPES, hasResult, isNameChar } from './strace-scan.js';

/** The line is a call or a resume the engine does not follow. */
export const IGNORED = 1;
/** …and unmistakably strace output (StraceShape.traceLines). */
export const TRACE_LINE = 2;
/** …and a call (not a resume): it sets whether the last call left unfinished was ignored. */
export const CALL = 4;
/** …and that call is `<unfinished ...>`. */
export const UNFINISHED = 8;

/**
 * Where the next "<... " of a text is: found once and kept until the lines
 * pass it. Looking from every line of an input's text for one that may be
 * thousands of lines on would be quadratic.
 */
export class ResumeMarkers {
  private text = '';
  private from = 0;
  private at = -1;

  /** The first "<... " at or after `from` (Infinity: none). */
  next(text: string, from: number): number {
    // Strings compare by content: the same text again (two equal chunks) starts from its beginning.
    if (text !== this.text || from < this.from || this.at < from) {
      const at = text.indexOf('<... ', from);
      this.text = text;
      this.at = at < 0 ? Number.POSITIVE_INFINITY : at;
    }
    this.from = from;
    return this.at;
  }
}

/**
 * Whether the line `text[start, end)` is a call the engine does not follow,
 * as flags (0: it may be followed, or is no call: read it in full).
 *
 *   11051 1795606335.397642 futex(0x7f…, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
 *                           ^^^^^ name, between the prefix and "("
 *   11051 1795606335.397739 <... futex resumed>) = 0
 */
export function ignoredCall(text: string, start: number, end: number, markers: ResumeMarkers): number {
  let paren = text.indexOf('(', start);
  if (paren >= end) paren = -1;
  // A resume's marker comes before any "(": one after it is inside a call's arguments.
  const marker = markers.next(text, start);
  if (marker < end && (paren < 0 || marker < paren)) {
    const close = text.indexOf(' resumed>', marker);
    const ignored = marker - start < 64 && close >= 0 && close + 9 <= end && !FOLLOWED_SYSCALLS.has(text.slice(marker + 5, close));
    return ignored ? IGNORED | TRACE_LINE : 0;
  }
  if (paren <= start) return 0;
  let name = paren;
  while (name > start && isNameChar(text.charCodeAt(name - 1))) name--;
  const first = text.charCodeAt(name);
  if (name === paren || (name > start && text.charCodeAt(name - 1) !== 32) || (first >= 48 && first <= 57)) return 0;
  // Most names are ruled out by length and first letter, without a slice.
  if (FOLLOWED_SHAPES.has((paren - name) * 128 + first) && FOLLOWED_SYSCALLS.has(text.slice(name, paren))) return 0;
  if (text.endsWith(' <unfinished ...>', end)) return IGNORED | CALL | UNFINISHED | TRACE_LINE;
  // "see printf(3)" in a README is a name and a parenthesis too; a call has a result.
  return hasResult(text, paren, end) ? IGNORED | CALL | TRACE_LINE : IGNORED | CALL;
}

/** Lines skipped since the last line passed on, to note in the reader (StraceReader.noteSkipped). */
export interface SkippedLines {
  lines: number;
  traceLines: number;
  /** Whether the last ignored call among them was left unfinished: 1 or 0; -1 when none was a call. */
  unfinished: number;
  /** The lowest thread id of their "N " prefixes; 0 when none had one (StraceReader.lowestSkippedTid). */
  lowestTid: number;
}

/** What the reader must have seen before lines may be skipped for it (StraceReader.skipPolicy). */
export interface SkipPolicy {
  /** Lines without a pid prefix are one process's (stderr): every `[pid N]` prefix must reach the reader. */
  stderrPrefixes: boolean;
}

/** See IgnoredLineFilter: how many lines in a row not taken make it rest, and for how many lines. */
const REST_AFTER = 64;
const REST_FOR = 4096;

/**
 * The filter the line reader runs once the reader has given its policy:
 * takes a line when StraceReader.push would ignore it, and counts it. It
 * sees lines in order and refuses any line it cannot be sure of: the first
 * after a line it was not shown (too long, split across reads) or after one
 * that may end in a strace message (which the reader joins to the next), a
 * line with a `\r` or a stderr `[pid N]` prefix.
 *
 * In a filtered capture (`-e trace=…`) it would take nothing, and each line
 * would be decided twice (here, then by the reader): after REST_AFTER lines
 * in a row that it had to look at and did not take, it rests for REST_FOR
 * lines, and the reader alone decides them.
 */
export class IgnoredLineFilter {
  private readonly markers = new ResumeMarkers();
  private lastLine = -1;
  private lastMayJoin = true;
  private notTakenInARow = 0;
  private restUntil = -1;
  private skipped: SkippedLines = { lines: 0, traceLines: 0, unfinished: -1, lowestTid: 0 };

  constructor(private readonly policy: SkipPolicy) {}

  /** True when the line `text[start, end)`, number `lineNo`, is skipped (and counted). */
  take(text: string, start: number, end: number, lineNo: number): boolean {
    // A short line (an empty one) leaves the line after it unsure: the reader
    // joins a line cut by a strace message to the next one, whatever that is,
    // and the joined text may end in a second message.
    if (end - start < 4) return false;
    const afterSeen = lineNo === this.lastLine + 1 && !this.lastMayJoin;
    const last = text.charCodeAt(end - 1);
    this.lastLine = lineNo;
    // "…strace: Process N attached" ends in d, "…with N threads" in s.
    this.lastMayJoin = last === 100 /* d */ || last === 115 /* s */ || last === 13; /* \r */
    if (!afterSeen || this.lastMayJoin || lineNo < this.restUntil) return false;
    if (this.policy.stderrPrefixes && text.charCodeAt(start) === 91 /* [ */) return false;
    // A pid no thread can have makes the line unreadable, whatever its call: the reader says so.
    if (prefixTidOutOfRange(text, start)) return false;
    const flags = ignoredCall(text, start, end, this.markers);
    if (flags === 0) {
      if (++this.notTakenInARow >= REST_AFTER) {
        this.notTakenInARow = 0;
        this.restUntil = lineNo + REST_FOR;
      }
      return false;
    }
    this.notTakenInARow = 0;
    const skipped = this.skipped;
    skipped.lines++;
    if ((flags & TRACE_LINE) !== 0) skipped.traceLines++;
    if ((flags & CALL) !== 0) skipped.unfinished = (flags & UNFINISHED) !== 0 ? 1 : 0;
    const tid = plainPrefixTid(text, start);
    if (tid > 0 && (skipped.lowestTid === 0 || tid < skipped.lowestTid)) skipped.lowestTid = tid;
    return true;
  }

  /** The lines skipped since the last call, or null when none was. */
  drain(): SkippedLines | null {
    if (this.skipped.lines === 0) return null;
    const skipped = this.skipped;
    this.skipped = { lines: 0, traceLines: 0, unfinished: -1, lowestTid: 0 };
    return skipped;
  }
}
