// What the second reading thread (read-worker.ts) and the main thread
// (threaded-source.ts) say to each other.

/** workerData. */
export interface ReaderRequest {
  path: string;
  /** Where the thread's lines start: a line's first byte. The bytes before it are only hashed. */
  start: number;
  /** Int32Array over it, indexed by CONTROL. */
  control: SharedArrayBuffer;
}

export const CONTROL = {
  /** 0: no skipping yet; 1: the reader's SkipPolicy without stderr prefixes; 2: with them. Set by the main thread. */
  policy: 0,
  /** Characters of line text posted and not yet handled by the main thread. */
  pendingChars: 1,
} as const;
export const CONTROL_SLOTS = 2;

/**
 * Text the reading thread may post ahead of the main thread. Its lines are
 * mostly skipped (an unfiltered capture): this lets it run a whole file
 * ahead there, and bounds its memory where they are not.
 */
export const MAX_PENDING_CHARS = 16 * 1024 * 1024;

/**
 * A batch holds records in order: `texts[k]` and the four numbers from
 * `numbers[4k]`, the first of which is the kind. Line numbers count from the
 * thread's first line (1) and offsets from its start:
 *   line:    text, line number, byte offset, bytes (LineSink.line)
 *   long:    its head, line number, length in characters (LineSink.longLine)
 *   skipped: '', lines, trace lines, unfinished (SkippedLines)
 */
export const RECORD = { line: 0, long: 1, skipped: 2 } as const;

export type ReaderMessage =
  /** `end`: where in the file the bytes the batch was split from end; `chars`: its texts' length, for CONTROL.pendingChars. */
  | { type: 'batch'; texts: string[]; numbers: Float64Array; end: number; chars: number }
  /** The file's end: its size as read and the SHA-256 of all its bytes, the head's included. */
  | { type: 'end'; bytes: number; sha256: string }
  /** `notATrace`: NotATraceError's looksLike (the file's first bytes are binary); otherwise the words of an InputError. */
  | { type: 'error'; message: string; notATrace?: string };
