// What the second reading thread (read-worker.ts) and the main thread
// (threaded-source.ts) say to each other.

/** workerData. */
export interface ReaderRequest {
  path: string;
  /** Where the thread's lines start: a line's first byte. The bytes before it are only hashed. */
  start: number;
  /** The file's size when it was opened: reading fewer bytes is an error, as in fileSource. */
  size: number;
  /** PENDING_BYTES, or less in tests. */
  pendingLimit: number;
  /** Int32Array over it, indexed by CONTROL. */
  control: SharedArrayBuffer;
}

export const CONTROL = {
  /** 0: no skipping yet; 1: the reader's SkipPolicy without stderr prefixes; 2: with them. Set by the main thread. */
  policy: 0,
  /** What the records posted and not yet handled by the main thread hold, in bytes (recordBytes). */
  pendingBytes: 1,
} as const;
export const CONTROL_SLOTS = 2;

/**
 * What the reading thread may post ahead of the main thread, in bytes. Its
 * lines are mostly skipped (an unfiltered capture): this lets it run about
 * 150 MB of such a file ahead, and bounds its memory where they are not
 * (1 GB unfiltered: peak RSS 168 MiB with 16 MiB, 185 with 32).
 */
export const PENDING_BYTES = 16 * 1024 * 1024;

/**
 * About what a record costs the main thread until it is handled: its text
 * and its four numbers, slots and string header. An empty line is not free
 * (found by review: a file of empty lines grew the main thread to 1.8 GiB).
 */
export function recordBytes(text: string): number {
  return text.length + 64;
}

/**
 * A batch holds records in order: `texts[k]` and the four numbers from
 * `numbers[4k]`, the first of which is the kind. Line numbers count from the
 * thread's first line (1) and offsets from its start:
 *   line:    text, line number, byte offset, bytes (LineSink.line)
 *   long:    its head, line number, length in characters (LineSink.longLine)
 *   skipped: '', lines, trace lines, unfinished (SkippedLines)
 *   cut:     '', line number of the last line, which has no newline (LineSink.cut)
 *   skippedTid: '', the lowest "N " prefix among the skipped lines before it (SkippedLines.lowestTid), 0, 0
 */
export const RECORD = { line: 0, long: 1, skipped: 2, cut: 3, skippedTid: 4 } as const;

export type ReaderMessage =
  /** `end`: where in the file the bytes the batch was split from end; `bytes`: its records' recordBytes, for CONTROL.pendingBytes. */
  | { type: 'batch'; texts: string[]; numbers: Float64Array; end: number; bytes: number }
  /** The file's end: its size as read and the SHA-256 of all its bytes, the head's included. */
  | { type: 'end'; bytes: number; sha256: string }
  /** `notATrace`: NotATraceError's looksLike (the file's first bytes are binary); otherwise the words of an InputError. */
  | { type: 'error'; message: string; notATrace?: string };
