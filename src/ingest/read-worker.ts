// The reading thread of a large trace file (threaded-source.ts): reads,
// sniffs and splits the file, lets the reader's filter take the
// lines it would ignore, and posts the rest to the main thread in batches,
// one per chunk read, while the main thread parses and applies the batch
// before. At most MAX_IN_FLIGHT batches wait there: memory stays bounded
// when the main thread is the slower one.
import { parentPort, workerData } from 'node:worker_threads';
import { InputError, NotATraceError } from '../errors.js';
import type { SkipPolicy } from '../parse/strace-skip.js';
import { readAhead, Sniffer } from './file-read.js';
import { filteringSink } from './line-filter.js';
import { LineSplitter, readFailure } from './lines.js';
import { CONTROL, MAX_IN_FLIGHT, RECORD, type ReaderMessage, type ReaderRequest } from './read-protocol.js';

const { path, control: shared } = workerData as ReaderRequest;
const control = new Int32Array(shared);
const port = parentPort!;

let texts: string[] = [];
let numbers: number[] = [];
let bytes = 0;

function record(kind: number, text: string, a: number, b: number, c: number): void {
  texts.push(text);
  numbers.push(kind, a, b, c);
}

/** The reader's policy, once the main thread has put it in `control`. */
function policy(): SkipPolicy | null {
  const value = Atomics.load(control, CONTROL.policy);
  return value === 0 ? null : { stderrPrefixes: value === 2 };
}

/** @param chunk a copy of the bytes the batch was split from, for the main thread to hash (it waits for this thread otherwise) */
function post(chunk: Uint8Array): void {
  const message: ReaderMessage = { type: 'batch', texts, numbers: Float64Array.from(numbers), chunk, bytes };
  texts = [];
  numbers = [];
  Atomics.add(control, CONTROL.inFlight, 1);
  port.postMessage(message, [message.numbers.buffer as ArrayBuffer, chunk.buffer as ArrayBuffer]);
  // Wait for the main thread rather than fill its queue.
  for (let waiting = Atomics.load(control, CONTROL.inFlight); waiting >= MAX_IN_FLIGHT; waiting = Atomics.load(control, CONTROL.inFlight)) {
    Atomics.wait(control, CONTROL.inFlight, waiting);
  }
}

async function read(): Promise<void> {
  const sniffer = new Sniffer(path);
  const filtering = filteringSink(
    (text, lineNo, offset, length) => record(RECORD.line, text, lineNo, offset, length),
    (lineNo, head, length) => record(RECORD.long, head, lineNo, length, 0),
    { policy, skipped: (skipped) => record(RECORD.skipped, '', skipped.lines, skipped.traceLines, skipped.unfinished) },
  );
  const splitter = new LineSplitter(filtering.sink);
  await readAhead(path, (chunk) => {
    bytes += chunk.length;
    sniffer.see(chunk);
    splitter.write(chunk);
    post(new Uint8Array(chunk));
  });
  sniffer.end();
  splitter.end();
  filtering.end();
  post(new Uint8Array(0));
  port.postMessage({ type: 'end', bytes } satisfies ReaderMessage);
}

read().catch((error: unknown) => {
  const message: ReaderMessage =
    error instanceof NotATraceError
      ? { type: 'error', notATrace: error.looksLike, message: error.message }
      : { type: 'error', message: error instanceof InputError ? error.message : readFailure(error) };
  port.postMessage(message);
});
