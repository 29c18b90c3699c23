// What the reading thread (read-worker.ts) and the main thread
// (threaded-source.ts) say to each other.

/** workerData. */
export interface ReaderRequest {
  path: string;
  /** Int32Array over it, indexed by CONTROL. */
  control: SharedArrayBuffer;
}

export const CONTROL = {
  /** 0: no skipping yet; 1: the reader's SkipPolicy without stderr prefixes; 2: with them. Set by the main thread. */
  policy: 0,
  /** Batches posted and not yet handled by the main thread. */
  inFlight: 1,
} as const;
export const CONTROL_SLOTS = 2;

/** Batches the reading thread may post ahead of the main thread. */
export const MAX_IN_FLIGHT = 4;

/**
 * A batch holds records in order: `texts[k]` and the four numbers from
 * `numbers[4k]`, the first of which is the kind:
 *   line:    text, line number, byte offset, bytes (LineSink.line)
 *   long:    its head, line number, length in characters (LineSink.longLine)
 *   skipped: '', lines, trace lines, unfinished (SkippedLines)
 */
export const RECORD = { line: 0, long: 1, skipped: 2 } as const;

export type ReaderMessage =
  /** `chunk`: the bytes read, to hash; `bytes`: bytes read so far. */
  | { type: 'batch'; texts: string[]; numbers: Float64Array; chunk: Uint8Array; bytes: number }
  | { type: 'end'; bytes: number }
  /** `notATrace`: NotATraceError's looksLike; otherwise the words of an InputError. */
  | { type: 'error'; message: string; notATrace?: string };
