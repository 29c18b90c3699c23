// A large trace file read by a second thread (read-worker.ts): reading,
// hashing, decoding and splitting lines, and skipping the lines of calls
// nobody follows (most of an unfiltered trace), happen there while this
// thread parses and applies the lines that matter. The result is the one
// fileSource gives, line for line: only the thread that does the work moves.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InputError, NotATraceError } from '../errors.js';
import { ignoredCall, ResumeMarkers } from '../parse/strace-skip.js';
import { CAPTURE_ADVICE } from './formats.js';
import { fileSource, type LineSource } from './lines.js';
import { CONTROL, CONTROL_SLOTS, RECORD, type ReaderMessage, type ReaderRequest } from './read-protocol.js';

const WORKER = new URL('./read-worker.js', import.meta.url);

/**
 * Files from this size on are read by a second thread. Starting one costs
 * about 0.1 s of CPU (Node's own start-up in the thread, measured), which
 * reading 32 MiB of an unfiltered trace in one thread takes too.
 */
export const THREADED_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Whether the reading thread can be started: its module is compiled next to
 * this one (not so when the sources run under a test runner).
 */
export function canReadInThread(): boolean {
  return existsSync(fileURLToPath(WORKER));
}

/**
 * Where a trace file is read: `auto` in a second thread from
 * THREADED_MIN_BYTES on, when the thread can be started, the machine has a
 * second core for it and most lines are calls nobody follows (mostlyIgnored);
 * `always` and `never` are for tests and benchmarks.
 */
export type ReadThread = 'auto' | 'always' | 'never';

/** A trace file's lines, read by this thread or a second one (ReadThread). */
export async function traceFileSource(path: string, readThread: ReadThread = 'auto'): Promise<LineSource> {
  if (readThread !== 'never' && canReadInThread()) {
    const info = await stat(path).catch(() => null);
    if (info?.isFile() === true) {
      if (readThread === 'always') return threadedFileSource(path, info.size);
      if (info.size >= THREADED_MIN_BYTES && availableParallelism() >= 2 && (await mostlyIgnored(path))) return threadedFileSource(path, info.size);
    }
  }
  return fileSource(path);
}

/** How much of a file's head mostlyIgnored looks at. */
const SAMPLE_BYTES = 1024 * 1024;

/**
 * Whether most lines of the file's first MiB are calls nobody follows: an
 * unfiltered strace capture. Only then does the second thread pay: it takes
 * those lines off this one. In a filtered capture (`-e trace=…`) or
 * bpftrace's output every line matters, this thread does the work anyway,
 * and the second one would only add its memory (about 15 MiB, measured).
 */
export async function mostlyIgnored(path: string): Promise<boolean> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, 'r');
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    const text = buffer.toString('utf8', 0, bytesRead);
    const markers = new ResumeMarkers();
    let lines = 0;
    let ignored = 0;
    for (let start = 0, end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
      lines++;
      if (ignoredCall(text, start, end, markers) !== 0) ignored++;
    }
    return ignored * 2 > lines;
  } catch {
    return false; // fileSource says what is wrong with the file
  } finally {
    await handle?.close();
  }
}

/** `path` must be a regular file. */
export function threadedFileSource(path: string, size: number): LineSource {
  let bytes = 0;
  const hash = createHash('sha256');
  let digest: string | null = null;
  return {
    name: path,
    size,
    reread: path,
    bytesRead: () => bytes,
    sha256: () => {
      if (digest === null) throw new Error(`${path}: the hash is known once the file is read`);
      return digest;
    },
    each(onLine, onLongLine = () => undefined, _onIdle, skipping) {
      return new Promise((resolve, reject) => {
        const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
        const worker = new Worker(WORKER, { workerData: { path, control: control.buffer as SharedArrayBuffer } satisfies ReaderRequest });
        let settled = false;
        let policySent = skipping === undefined;
        const settle = (error?: unknown) => {
          if (settled) return;
          settled = true;
          if (error === undefined) resolve();
          else {
            void worker.terminate();
            reject(error);
          }
        };
        const sendPolicy = () => {
          const policy = skipping!.policy();
          if (policy === null) return;
          Atomics.store(control, CONTROL.policy, policy.stderrPrefixes ? 2 : 1);
          policySent = true;
        };
        const batch = (texts: string[], numbers: Float64Array) => {
          for (let k = 0; k < texts.length; k++) {
            const at = 4 * k;
            const kind = numbers[at]!;
            if (kind === RECORD.line) onLine(texts[k]!, numbers[at + 1]!, numbers[at + 2]!, numbers[at + 3]!);
            else if (kind === RECORD.long) onLongLine(numbers[at + 1]!, texts[k]!, numbers[at + 2]!);
            else skipping!.skipped({ lines: numbers[at + 1]!, traceLines: numbers[at + 2]!, unfinished: numbers[at + 3]! });
            if (!policySent) sendPolicy();
          }
        };
        worker.on('message', (message: ReaderMessage) => {
          if (settled) return;
          try {
            switch (message.type) {
              case 'batch':
                hash.update(message.chunk);
                bytes = message.bytes;
                batch(message.texts, message.numbers);
                // The next batch is asked for once the event loop has turned: a port
                // delivers what is queued without one, and a reading thread that
                // always has the next batch ready would starve timers, keys and
                // the screen of `analyze --tui` for as long as the file lasts.
                setImmediate(() => {
                  Atomics.sub(control, CONTROL.inFlight, 1);
                  Atomics.notify(control, CONTROL.inFlight);
                });
                return;
              case 'end':
                bytes = message.bytes;
                digest = hash.digest('hex');
                settle();
                return;
              case 'error':
                settle(message.notATrace === undefined ? new InputError(message.message, path) : new NotATraceError(message.notATrace, CAPTURE_ADVICE, path));
                return;
            }
          } catch (error) {
            // The line handlers' own errors (a bug, or a stop asked by the caller).
            settle(error);
          }
        });
        worker.on('messageerror', (error) => settle(new InputError(`a batch of lines from the reading thread could not be read: ${error.message}`, path, { cause: error })));
        worker.on('error', (error) => settle(new InputError(`the reading thread failed: ${error.message}`, path, { cause: error })));
        worker.on('exit', (code) => settle(new InputError(`the reading thread stopped (exit code ${code}) before the end of the file`, path)));
      });
    },
  };
}
