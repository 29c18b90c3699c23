// Line sources on split2: a file, stdin, or any readable stream, with the
// bytes hashed on the way through (a report names its inputs by SHA-256).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import split2 from 'split2';
import { describeSystemError, InputError } from '../errors.js';

export interface LineSource {
  /** The name used in places and messages ("-" is stdin). */
  name: string;
  /** Called once per line, in order, with 1-based numbers. Returning is enough: no await per line. */
  each(onLine: (text: string, lineNo: number) => void): Promise<void>;
  /** Hex SHA-256 of the bytes read, once `each` has finished. */
  sha256(): string;
  /** Bytes read so far, for progress. */
  bytesRead(): number;
  /** Size in bytes when known (files), for progress. */
  size: number | null;
}

/** A source over a readable stream of bytes. */
export function streamSource(name: string, open: () => Readable, size: number | null = null): LineSource {
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  let digest: string | null = null;
  return {
    name,
    size,
    bytesRead: () => bytes,
    sha256: () => (digest ??= hash.digest('hex')),
    each(onLine) {
      return new Promise((resolve, reject) => {
        const input = open();
        let lineNo = 0;
        const fail = (error: Error & { code?: string }) => {
          reject(new InputError(readFailure(error), name, { cause: error }));
        };
        input.on('error', fail);
        input.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        const lines = input.pipe(split2());
        lines.on('data', (text: string) => {
          lineNo++;
          onLine(text, lineNo);
        });
        lines.on('error', fail);
        lines.on('end', () => resolve());
      });
    },
  };
}

export async function fileSource(path: string): Promise<LineSource> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputError(readFailure(error), path, { cause: error });
  });
  if (info.isDirectory()) throw new InputError('is a directory but not a capture bundle (no meta.json)', path);
  return streamSource(path, () => createReadStream(path, { highWaterMark: 256 * 1024 }), info.size);
}

export function stdinSource(): LineSource {
  return streamSource('-', () => process.stdin);
}

/** Why an input could not be read, in words: `no such file`, `permission denied`, … */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === undefined) return `cannot read: ${error instanceof Error ? error.message : String(error)}`;
  const words = describeSystemError(error);
  return words === (error as Error).message ? `cannot read: ${words}` : words;
}

/**
 * Pull lines one at a time from a file, with backpressure: for merging
 * several files (strace -ff) without holding any of them in memory.
 */
export function fileLineCursor(path: string): { next(): Promise<string | null>; sha256(): string } {
  const hash: Hash = createHash('sha256');
  let digest: string | null = null;
  const input = createReadStream(path, { highWaterMark: 256 * 1024 });
  const lines = input.pipe(split2());
  input.on('data', (chunk: string | Buffer) => {
    hash.update(chunk);
  });
  input.on('error', (error: Error & { code?: string }) => lines.destroy(new InputError(readFailure(error), path, { cause: error })));
  const iterator = lines[Symbol.asyncIterator]() as AsyncIterator<string>;
  return {
    sha256: () => (digest ??= hash.digest('hex')),
    async next() {
      const result = await iterator.next();
      return result.done === true ? null : result.value;
    },
  };
}
