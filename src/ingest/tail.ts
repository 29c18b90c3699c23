// Follow a trace file while a tracer writes it (live mode). The tracer writes
// the file itself, so the raw trace is on disk whatever happens to orphanmap;
// this only reads what has been flushed, a whole line at a time.
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export interface TailOptions {
  /** Resolves when the writer is done: the tail then drains what is left and stops. */
  writerDone: Promise<unknown>;
  /** How often to look for new bytes. */
  pollMs?: number;
}

/** Calls `onLine` for every complete line of `path`, as it is written. */
export async function tailFile(path: string, onLine: (text: string, lineNo: number) => void, options: TailOptions): Promise<{ lines: number; bytes: number }> {
  const pollMs = options.pollMs ?? 100;
  let done = false;
  void options.writerDone.then(
    () => (done = true),
    () => (done = true),
  );
  const handle = await waitForFile(path, () => done, pollMs);
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.alloc(1024 * 1024);
  let position = 0;
  let partial = '';
  let lineNo = 0;
  try {
    for (;;) {
      const finishing = done;
      let read: number;
      do {
        ({ bytesRead: read } = await handle.read(buffer, 0, buffer.length, position));
        position += read;
        if (read > 0) {
          const lines = (partial + decoder.write(buffer.subarray(0, read))).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line, ++lineNo);
        }
      } while (read > 0);
      if (finishing) break;
      await sleep(pollMs);
    }
    const rest = partial + decoder.end();
    if (rest.length > 0) onLine(rest, ++lineNo);
  } finally {
    await handle.close();
  }
  return { lines: lineNo, bytes: position };
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
