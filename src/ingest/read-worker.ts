// The second reading thread of a large trace file (threaded-source.ts). The
// main thread reads the file's head itself while this one reads the rest:
// it hashes every byte of the file (the head's too, so that the hash is
// computed in order), decodes and splits the lines from `start` on, lets
// the reader's filter take those it would ignore (most of an unfiltered
// capture), and posts the rest in batches, one per chunk read. What waits in
// the main thread is bounded by `pendingLimit` (PENDING_BYTES).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { InputError, NotATraceError } from '../errors.js';
import type { SkipPolicy } from '../parse/strace-skip.js';
import { readAhead, Sniffer } from './file-read.js';
import { filteringSink } from './line-filter.js';
import { LineSplitter, readFailure, shrankWhileRead } from './lines.js';
import { CONTROL, RECORD, type ReaderMessage, type ReaderRequest, recordBytes } from './read-protocol.js';

const { path, start, size, pendingLimit, control: shared } = workerData as ReaderRequest;
const control = new Int32Array(shared);
const port = parentPort!;

let texts: string[] = [];
let numbers: number[] = [];
let pending = 0;
/** Where in the file the chunk being split starts: a batch posted before its end says so. */
let chunkAt = 0;

/**
 * A batch is posted at the end of each chunk, or sooner once its records
 * hold this much: a chunk of short lines (empty ones) makes many records.
 */
const BATCH_BYTES = 256 * 1024;

function record(kind: number, text: string, a: number, b: number, c: number): void {
  texts.push(text);
  pending += recordBytes(text);
  numbers.push(kind, a, b, c);
  if (pending >= BATCH_BYTES) post(chunkAt);
}

/** The reader's policy, once the main thread has put it in `control`. */
function policy(): SkipPolicy | null {
  const value = Atomics.load(control, CONTROL.policy);
  return value === 0 ? null : { stderrPrefixes: value === 2 };
}

function post(end: number): void {
  const message: ReaderMessage = { type: 'batch', texts, numbers: Float64Array.from(numbers), end, bytes: pending };
  Atomics.add(control, CONTROL.pendingBytes, pending);
  texts = [];
  numbers = [];
  pending = 0;
  port.postMessage(message, [message.numbers.buffer as ArrayBuffer]);
  // Wait for the main thread rather than fill its memory.
  for (let waiting = Atomics.load(control, CONTROL.pendingBytes); waiting > pendingLimit; waiting = Atomics.load(control, CONTROL.pendingBytes)) {
    Atomics.wait(control, CONTROL.pendingBytes, waiting);
  }
}

async function read(): Promise<void> {
  const hash = createHash('sha256');
  const filtering = filteringSink(
    (text, lineNo, offset, length) => record(RECORD.line, text, lineNo, offset, length),
    (lineNo, head, length) => record(RECORD.long, head, lineNo, length, 0),
    {
      policy,
      skipped: (skipped) => {
        record(RECORD.skipped, '', skipped.lines, skipped.traceLines, skipped.unfinished);
        // A record of its own, and only for lines that had one: most batches are one thread's.
        if (skipped.lowestTid > 0) record(RECORD.skippedTid, '', skipped.lowestTid, 0, 0);
      },
      cut: (lineNo) => record(RECORD.cut, '', lineNo, 0, 0),
    },
  );
  const splitter = new LineSplitter(filtering.sink, path);
  const sniffer = new Sniffer(path);
  let bytes = 0;
  await readAhead(path, (chunk) => {
    const at = bytes;
    bytes += chunk.length;
    hash.update(chunk);
    sniffer.see(chunk);
    if (bytes <= start) return;
    chunkAt = Math.max(at, start);
    splitter.write(at >= start ? chunk : chunk.subarray(start - at));
    post(bytes);
  });
  if (bytes < size) throw shrankWhileRead(path, size, bytes);
  sniffer.end();
  splitter.end();
  filtering.end();
  post(bytes);
  port.postMessage({ type: 'end', bytes, sha256: hash.digest('hex') } satisfies ReaderMessage);
}

read().catch((error: unknown) => {
  const message: ReaderMessage =
    error instanceof NotATraceError
      ? { type: 'error', notATrace: error.looksLike, message: error.message }
      : { type: 'error', message: error instanceof InputError ? error.message : readFailure(error) };
  port.postMessage(message);
});
