// Reading a file's bytes for the line sources (lines.ts, threaded-source.ts,
// read-worker.ts): a look at its first bytes to refuse binary data early, and
// reads a chunk ahead.
import { open } from 'node:fs/promises';
import { NotATraceError } from '../errors.js';
import { CAPTURE_ADVICE, describeBinary, SNIFF_BYTES } from './formats.js';

/**
 * Looks at an input's first bytes (SNIFF_BYTES, or all of a shorter input):
 * binary data or an endless stream of NULs (/dev/zero) is not a trace, and is
 * refused as soon as that is clear instead of being read to its end, if any.
 */
export class Sniffer {
  private readonly pieces: Buffer[] = [];
  private bytes = 0;
  private decided = false;

  constructor(private readonly name: string) {}

  /** Throws NotATraceError once the first bytes are binary. */
  see(chunk: Buffer): void {
    if (this.decided) return;
    // A copy: a file's chunks are read into the same buffers again.
    const piece = Buffer.from(chunk.subarray(0, Math.min(chunk.length, SNIFF_BYTES - this.bytes)));
    this.pieces.push(piece);
    this.bytes += piece.length;
    if (this.bytes >= SNIFF_BYTES) this.decide();
  }

  end(): void {
    if (!this.decided) this.decide();
  }

  private decide(): void {
    this.decided = true;
    const looksLike = describeBinary(Buffer.concat(this.pieces));
    this.pieces.length = 0;
    if (looksLike !== null) throw new NotATraceError(looksLike, CAPTURE_ADVICE, this.name);
  }
}

/** Bytes asked of the file at a time. */
const READ_CHUNK = 256 * 1024;

/**
 * Reads a file a chunk at a time, the next read already in flight while a
 * chunk is handled: the file system's thread reads while this one parses
 * (a stream reads only once its last chunk was handled, and the thread
 * waits). `onChunk` must be done with its chunk when it returns: the buffer
 * is read into again. With `limit`, reads no further than that many bytes.
 */
export async function readAhead(path: string, onChunk: (chunk: Buffer) => void, limit = Number.POSITIVE_INFINITY): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
    let turn = 0;
    // Bytes read and asked for so far: a read may return fewer than it was asked.
    let wanted = Math.min(READ_CHUNK, limit);
    let asked = wanted;
    let next = handle.read(buffers[0]!, 0, wanted, null);
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) return;
      asked -= wanted - bytesRead;
      const chunk = buffers[turn]!.subarray(0, bytesRead);
      turn ^= 1;
      wanted = Math.min(READ_CHUNK, limit - asked);
      asked += wanted;
      next = wanted > 0 ? handle.read(buffers[turn]!, 0, wanted, null) : Promise.resolve({ bytesRead: 0, buffer: buffers[turn]! });
      try {
        onChunk(chunk);
      } catch (error) {
        // The read in flight still owns its buffer: let it land before the handle closes.
        await next.catch(() => undefined);
        throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

/**
 * Files of strace -ff sets that inputs.ts opened and checked, by the name they
 * are reported under. run.ts merges a set by its files' names
 * (fileLineCursor), and what it reads must be the file checked, never what
 * the name leads to by then (a link put in its place). A queue per name: a
 * file named twice was opened twice, and is read twice.
 */
const openedMembers = new Map<string, number[]>();

/** `fd` is the file `name` was opened as: fileLineCursor reads it through `fd`, and closes it. */
export function keepOpenedMember(name: string, fd: number): void {
  const queue = openedMembers.get(name);
  if (queue === undefined) openedMembers.set(name, [fd]);
  else queue.push(fd);
}

/** The descriptor `name` was opened as (keepOpenedMember), now the caller's to read and close; undefined when none was kept. */
export function takeOpenedMember(name: string): number | undefined {
  const queue = openedMembers.get(name);
  const fd = queue?.shift();
  if (queue?.length === 0) openedMembers.delete(name);
  return fd;
}
