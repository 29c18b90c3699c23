// A large unfiltered trace file read by two threads at once. Most of its
// lines are calls nobody follows, and deciding that, line by line, is most
// of the work (bench/results.md, steps 9–11): this thread reads, parses and
// applies the file's head while a second one (read-worker.ts) decides the
// rest, so that when this thread gets there only the lines that matter are
// left. The lines, their numbers and places, what was skipped and the hash
// are the ones fileSource gives: only where the work runs changes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError, NotATraceError, OrphanmapError } from '../errors.js';
import { ignoredCall, ResumeMarkers } from '../parse/strace-skip.js';
import { Sniffer } from './file-read.js';
import { CAPTURE_ADVICE } from './formats.js';
import { filteringSink } from './line-filter.js';
import { fileSource, LineSplitter, type LineSource, readFileChunks, shrankWhileRead } from './lines.js';
import { CONTROL, CONTROL_SLOTS, PENDING_BYTES, RECORD, type ReaderMessage, type ReaderRequest } from './read-protocol.js';

const WORKER = new URL('./read-worker.js', import.meta.url);

/**
 * Files from this size on are read by two threads. Below it the second
 * thread costs what it saves (it adds 0.3–0.5 s of CPU: Node started in a
 * thread, and its code compiled again there): 30 MB unfiltered, 0.79 s with
 * two against 0.75 s with one; 100 MB 1.43 against 1.52; 300 MB 2.86 against
 * 3.64 (bench/results.md, step 11).
 */
export const THREADED_MIN_BYTES = 64 * 1024 * 1024;

/**
 * The share of the file this thread reads in full. The second thread starts
 * up, hashes this head and decides the rest's lines about as fast as this
 * one parses the lines it leaves: a smaller head leaves this thread waiting,
 * a larger one leaves it more to do (main thread CPU on u100: 0.64–0.69 s
 * at 0.1, 0.76 at 0.2, 0.74–0.82 at 0.3; bench/results.md, step 11).
 */
export const HEAD_SHARE = 0.2;

/**
 * Whether the second thread can be started: its module is compiled next to
 * this one (not so when the sources run under a test runner).
 */
export function canReadInThread(): boolean {
  return existsSync(fileURLToPath(WORKER));
}

/**
 * Where a trace file is read: `auto` by two threads from THREADED_MIN_BYTES
 * on, when the second can be started, a core is free for it (aCoreIsFree) and
 * most lines are calls nobody follows (mostlyIgnored); `always` and `never`
 * are for tests and benchmarks.
 */
export type ReadThread = 'auto' | 'always' | 'never';

/**
 * ORPHANMAP_READ_THREAD=never|always|auto: the choice for a whole run, for
 * benchmarks (bench/read-thread.sh) and for a machine where the second thread
 * does not pay. Anything else is `auto`.
 */
export function readThreadFromEnv(value = process.env.ORPHANMAP_READ_THREAD): ReadThread {
  return value === 'never' || value === 'always' ? value : 'auto';
}

/**
 * The trace file open as `fd` since it was checked, read through it (the
 * second thread and evidence reopen /proc/self/fd/N, the same file, whatever
 * is put at its name since), and named `name`, the path the user knows it by.
 * The descriptor must stay open while the source may be read: a report reads
 * evidence lines again until its end.
 */
export async function openedTraceSource(fd: number, name: string, readThread?: ReadThread): Promise<LineSource> {
  const through = `/proc/self/fd/${fd}`;
  const source = await traceFileSource(through, readThread);
  const renamed = (error: unknown): never => {
    // The reader names the file it opened: the user knows it by its path.
    if (error instanceof OrphanmapError && error.file === through) {
      Object.defineProperty(error, 'file', { value: name });
      error.message = error.message.replaceAll(through, name);
    }
    throw error;
  };
  return {
    name,
    get size() {
      return source.size;
    },
    reread: source.reread,
    bytesRead: () => source.bytesRead(),
    sha256: () => source.sha256(),
    each: (onLine, onLongLine, onIdle, skipping) => source.each(onLine, onLongLine, onIdle, skipping).catch(renamed),
  };
}

/** A trace file's lines, read by one thread or two (ReadThread). */
export async function traceFileSource(path: string, readThread: ReadThread = readThreadFromEnv()): Promise<LineSource> {
  if (readThread !== 'never' && canReadInThread()) {
    const info = await stat(path).catch(() => null);
    if (info?.isFile() === true) {
      if (readThread === 'always') return threadedFileSource(path, info.size);
      if (info.size >= THREADED_MIN_BYTES && aCoreIsFree() && (await mostlyIgnored(path))) return threadedFileSource(path, info.size);
    }
  }
  return fileSource(path);
}

/**
 * How many tasks of other processes are running or ready to run now: the
 * kernel's count (/proc/loadavg's fourth field) less this process's running
 * threads, the least of three looks (a task that only passes by is not
 * load). Null where /proc does not say (not Linux).
 */
export function othersRunning(): number | null {
  try {
    let least = Number.POSITIVE_INFINITY;
    for (let look = 0; look < 3; look++) {
      const running = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0]);
      let mine = 0;
      for (const tid of readdirSync('/proc/self/task')) {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        // "1234 (node) R …": the state after the name, whose own ")" may repeat.
        if (stat.charCodeAt(stat.lastIndexOf(')') + 2) === 82 /* R */) mine++;
      }
      if (!Number.isFinite(running)) return null;
      least = Math.min(least, Math.max(0, running - mine));
    }
    return least;
  } catch {
    return null;
  }
}

/**
 * Whether a core is left for the second thread: the machine has two or more,
 * and the tasks of other processes running now leave one idle (or, where the
 * kernel does not say, the last minute's load does). On a busy host (a
 * broker) the second thread would take turns with this one, and it costs a
 * quarter more CPU than reading in one thread (bench/results.md, step 11).
 * Not the load average alone: it still counts the run before this one for a
 * minute.
 */
export function aCoreIsFree(cores = availableParallelism(), others: number | null = othersRunning(), load = loadavg()[0]!): boolean {
  if (cores < 2) return false;
  return others === null ? load <= cores - 1 : others <= cores - 2;
}

/** How much of a file's head mostlyIgnored looks at. */
const SAMPLE_BYTES = 1024 * 1024;

/**
 * Whether most lines of the file's first MiB are calls nobody follows: an
 * unfiltered strace capture. Only then does the second thread pay. In a
 * filtered capture (`-e trace=…`) or bpftrace's output every line matters,
 * and deciding lines is not where the time goes.
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

/** How far past the head's end a line's start is looked for. */
const LINE_START_WINDOW = 1024 * 1024;

/** The first line start at or after `from` (0 < from), or null: none within LINE_START_WINDOW, or the file ends first. */
async function lineStartFrom(path: string, from: number): Promise<number | null> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(LINE_START_WINDOW);
    // From the byte before: `from` is a line start when that byte is a newline.
    const { bytesRead } = await handle.read(buffer, 0, LINE_START_WINDOW, from - 1);
    const newline = buffer.subarray(0, bytesRead).indexOf(10);
    return newline < 0 || newline + 1 >= bytesRead ? null : from + newline;
  } finally {
    await handle.close();
  }
}

/**
 * `path` must be a regular file of `size` bytes (as it was when looked at).
 * `pendingLimit`: what the second thread may post ahead (PENDING_BYTES; less in tests).
 */
export function threadedFileSource(path: string, size: number, headShare = HEAD_SHARE, pendingLimit = PENDING_BYTES): LineSource {
  let bytes = 0;
  let digest: string | null = null;
  /** Set when the file is read by this thread alone (its head is all of it, or has no line end). */
  let alone: LineSource | null = null;
  return {
    name: path,
    size,
    reread: path,
    bytesRead: () => alone?.bytesRead() ?? bytes,
    sha256: () => {
      if (alone !== null) return alone.sha256();
      if (digest === null) throw new Error(`${path}: the hash is known once the file is read`);
      return digest;
    },
    async each(onLine, onLongLine = () => undefined, onIdle, skipping) {
      const start = await lineStartFrom(path, Math.max(1, Math.floor(size * headShare))).catch(() => null);
      if (start === null) {
        alone = await fileSource(path);
        return alone.each(onLine, onLongLine, onIdle, skipping);
      }
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
      const worker = new Worker(WORKER, { workerData: { path, start, size, pendingLimit, control: control.buffer as SharedArrayBuffer } satisfies ReaderRequest });
      // `each` returns once the thread is gone, whichever way it ends.
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const messages: ReaderMessage[] = [];
      let failure: InputError | null = null;
      let wake: (() => void) | null = null;
      const arrived = () => {
        wake?.();
        wake = null;
      };
      worker.on('message', (message: ReaderMessage) => {
        messages.push(message);
        arrived();
      });
      worker.on('messageerror', (error) => {
        failure ??= new InputError(`a batch of lines from the reading thread could not be read: ${error.message}`, path, { cause: error });
        arrived();
      });
      worker.on('error', (error: NodeJS.ErrnoException) => {
        // An open-file limit too low for the thread to load its own code (it opens several files at once) is the
        // user's to raise, as src/cli.ts says of the main thread's (review 75, F3).
        const low = error.code === 'EMFILE' || error.code === 'ENFILE' ? '; the open-file limit is too low: raise it (ulimit -n 65536) and run again' : '';
        failure ??= new InputError(`the reading thread failed: ${error.message}${low}`, path, { cause: error });
        arrived();
      });
      worker.on('exit', (code) => {
        failure ??= new InputError(`the reading thread stopped (exit code ${code}) before the end of the file`, path);
        arrived();
      });
      let policySent = skipping === undefined;
      const sendPolicy = () => {
        const policy = skipping!.policy();
        if (policy === null) return;
        Atomics.store(control, CONTROL.policy, policy.stderrPrefixes ? 2 : 1);
        policySent = true;
      };
      let ended = false;
      try {
        // The head, as fileSource reads it.
        const sniffer = new Sniffer(path);
        const filtering = filteringSink(onLine, onLongLine, skipping);
        const splitter = new LineSplitter(filtering.sink, path);
        await readFileChunks(
          path,
          (chunk) => {
            bytes += chunk.length;
            sniffer.see(chunk);
            splitter.write(chunk);
            if (!policySent) sendPolicy();
          },
          start,
        );
        if (bytes < start) throw shrankWhileRead(path, size, bytes);
        // No sniffer.end(): a head shorter than the look for binary data leaves the decision to the second thread, which sees all of it.
        filtering.end();
        // The rest, as the second thread left it: its numbers count from the head's end.
        const linesBefore = splitter.lines;
        for (let next = 0; ; ) {
          if (next === messages.length) {
            if (failure !== null) throw failure;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            continue;
          }
          const message = messages[next]!;
          messages[next++] = undefined as unknown as ReaderMessage;
          if (message.type === 'error') throw message.notATrace === undefined ? new InputError(message.message, path) : new NotATraceError(message.notATrace, CAPTURE_ADVICE, path);
          if (message.type === 'end') {
            ended = true;
            bytes = message.bytes;
            digest = message.sha256;
            return;
          }
          const { texts, numbers } = message;
          for (let k = 0; k < texts.length; k++) {
            const at = 4 * k;
            const kind = numbers[at]!;
            if (kind === RECORD.line) onLine(texts[k]!, numbers[at + 1]! + linesBefore, numbers[at + 2]! + start, numbers[at + 3]!);
            else if (kind === RECORD.long) onLongLine(numbers[at + 1]! + linesBefore, texts[k]!, numbers[at + 2]!);
            else if (kind === RECORD.cut) skipping?.cut?.(numbers[at + 1]! + linesBefore);
            else if (kind === RECORD.skippedTid) skipping!.skipped({ lines: 0, traceLines: 0, unfinished: -1, lowestTid: numbers[at + 1]! });
            else skipping!.skipped({ lines: numbers[at + 1]!, traceLines: numbers[at + 2]!, unfinished: numbers[at + 3]!, lowestTid: 0 });
          }
          if (!policySent) sendPolicy();
          bytes = message.end;
          Atomics.sub(control, CONTROL.pendingBytes, message.bytes);
          Atomics.notify(control, CONTROL.pendingBytes);
          // Let the event loop turn between batches: the thread may be a whole
          // file ahead, and `analyze --tui` must keep drawing and reading keys.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        if (!ended) void worker.terminate();
        await exited;
      }
    },
  };
}
