// Follow a trace file while a tracer writes it (live mode). The tracer writes
// the file itself, so the raw trace is on disk whatever happens to orphanmap;
// this only reads what has been flushed, a whole line at a time.
import { open, type FileHandle } from 'node:fs/promises';
import { LineSplitter, type LineSink } from './lines.js';

export interface TailOptions {
  /** Resolves when the writer is done: the tail then drains what is left and stops. */
  writerDone: Promise<unknown>;
  /** How often to look for new bytes. */
  pollMs?: number;
  /** A line over MAX_LINE_CHARS, in place of `onLine` (default: dropped). */
  onLongLine?: LineSink['longLine'];
  /** Called whenever everything written so far has been read, before waiting for more. */
  onIdle?: () => void;
  /** Called after each read that got bytes, before their lines are given: what was written before those bytes can be looked at now. */
  afterRead?: () => void;
}

/** Calls `onLine` for every complete line of `path`, as it is written. */
export async function tailFile(path: string, onLine: LineSink['line'], options: TailOptions): Promise<{ lines: number; bytes: number }> {
  const pollMs = options.pollMs ?? 25;
  let done = false;
  void options.writerDone.then(
    () => (done = true),
    () => (done = true),
  );
  const handle = await waitForFile(path, () => done, pollMs);
  const buffer = Buffer.alloc(1024 * 1024);
  let position = 0;
  const splitter = new LineSplitter({ line: onLine, longLine: options.onLongLine ?? (() => undefined) }, path);
  try {
    for (;;) {
      const finishing = done;
      let read: number;
      do {
        ({ bytesRead: read } = await handle.read(buffer, 0, buffer.length, position));
        position += read;
        if (read > 0) options.afterRead?.();
        // The splitter decodes at once: the buffer is read into again.
        if (read > 0) splitter.write(buffer.subarray(0, read));
      } while (read > 0);
      if (finishing) break;
      options.onIdle?.();
      await sleep(pollMs);
    }
    splitter.end();
  } finally {
    await handle.close();
  }
  return { lines: splitter.lines, bytes: position };
}

async function waitForFile(path: string, givenUp: () => boolean, pollMs: number): Promise<FileHandle> {
  for (;;) {
    try {
      return await open(path, 'r');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT' || givenUp()) throw error;
      await sleep(pollMs);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
