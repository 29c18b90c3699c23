// Line sources: a file, stdin, or any readable stream, split into lines with
// a bound on their length, with the bytes hashed on the way through (a report
// names its inputs by SHA-256).
import { isAscii } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { completeEnd, decodeEscaping, hasEscapedByte } from '../parse/byte-names.js';
import { flatCopy } from '../parse/flat-copy.js';
import { describeSystemError, InputError, NotATraceError } from '../errors.js';
import { readAhead, Sniffer, takeOpenedMember } from './file-read.js';
import { CAPTURE_ADVICE } from './formats.js';
import { filteringSink, type LineSkipping } from './line-filter.js';

/**
 * The longest line read, in characters: 1 MiB. strace bounds its own lines:
 * each string argument is cut at `-s` (capture uses -s 4096) and each -y path
 * at PATH_MAX (4096 bytes, up to 16 KiB once escaped as \ooo), so the longest
 * line of a followed call (rename: two paths, two annotated fds) is under
 * 70 KiB. A longer line is a cut trace, binary junk or an attack: it is
 * counted as unreadable, with its file and line number, and reading goes on
 * after it. The bound keeps memory flat on any input (one line held at most,
 * ~2 MiB as a JavaScript string) and the time linear.
 */
export const MAX_LINE_CHARS = 1024 * 1024;
/**
 * Bytes decoded into one string at a time. A string over 128 KiB is a large
 * object to V8, allocated and collected on its own: decoding a 256 KiB read
 * whole cost 100 ms per 100 MB, in pieces of this size 15-20 ms. Decoded,
 * a piece is at most 48 Ki UTF-16 units (96 KiB). Lines across two pieces
 * are joined as lines across two reads are.
 */
const DECODE_PIECE = 48 * 1024;
/** How much of a too-long line is kept to show. */
const LONG_LINE_HEAD = 200;
export const LONG_LINE_TAIL = 256;

/**
 * A line longer than this, with no newline yet, ends the reading: no tracer
 * writes one (strace's longest string, a 1 GiB buffer with -s, escapes to 4
 * characters a byte at most), and a sparse file's hole or a device of zeros
 * is read as one line for as long as it lasts (review 19's safety review, F4:
 * 200 KB of a trace, then `truncate -s 15T`, read for hours). A line up to
 * this long is one unreadable line, and reading goes on after it.
 */
export const RUNAWAY_LINE_CHARS = 4 * 1024 * 1024 * 1024;

export interface LineSink {
  /**
   * One line, in order, with its 1-based number, without its \n or \r\n; and
   * where its bytes lie in the input (byte offset and length, \r\n excluded),
   * so that it can be read again. `bytes` is -1 when reading those bytes again
   * as UTF-8 would not give `text` back: the line held bytes that are not
   * UTF-8, each read as U+DC00 plus the byte (parse/byte-names.ts).
   */
  line(text: string, lineNo: number, offset: number, bytes: number): void;
  /**
   * A line longer than the limit: not passed on; its first characters, its
   * length in characters, and its last LONG_LINE_TAIL characters (where a maps
   * line's deep path ends, " (deleted)" and all), where the reader keeps them.
   */
  longLine(lineNo: number, head: string, length: number, tail?: string): void;
  /**
   * Optional, the hot path of a trace whose lines are mostly calls nobody
   * follows: asked first about the line `text[start, end)` of the decoded
   * input (without its \n or \r\n). True means the sink has taken note of the
   * line itself: it is counted but never made a string of its own nor passed
   * to `line`. Not asked about a line split across reads or too long.
   */
  skip?: LineSkip;
  /**
   * Optional: the line numbered `lineNo`, passed next, is the input's last
   * and has no newline. strace ends every line with one: the line was cut
   * (the tracer killed mid-write, the file copied while written, `head -c`).
   */
  cut?(lineNo: number): void;
}

export type LineSkip = (text: string, start: number, end: number, lineNo: number) => boolean;

/**
 * Splits decoded text into lines, holding at most one line of `limit`
 * characters. Linear in the input whatever its shape: a line that grows past
 * the limit is dropped and only counted until its newline.
 */
export class LineSplitter {
  /** The bytes at the end of the last piece that may start a character the next one ends (completeEnd); null when none. */
  private carry: Buffer | null = null;
  private held: string[] = [];
  private heldChars = 0;
  private long: { head: string; length: number; tail: string } | null = null;
  private lineNo = 0;
  /** Bytes of the input before the chunk being split. */
  private chunkStart = 0;
  /** Where the line being split starts in the input. */
  private lineStart = 0;
  /** The chunk being split, to find each newline's byte; null when its characters are its bytes. */
  private chunk: Buffer | null = null;
  /** Where in `chunk` to look for the next newline. */
  private scan = 0;
  /** The line being held holds a byte that is not UTF-8 (U+DC00 plus the byte). */
  private replaced = false;
  /** The text being split holds bytes that are not UTF-8: a line may hold one. */
  private escaped = false;

  /**
   * @param name the input, for the error of a runaway line (RUNAWAY_LINE_CHARS)
   */
  constructor(
    private readonly sink: LineSink,
    private readonly name: string,
    private readonly limit = MAX_LINE_CHARS,
  ) {}

  get lines(): number {
    return this.lineNo;
  }

  write(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; at += DECODE_PIECE) this.writePiece(at === 0 && chunk.length <= DECODE_PIECE ? chunk : chunk.subarray(at, at + DECODE_PIECE));
  }

  private writePiece(chunk: Buffer): void {
    this.scan = 0;
    if (this.carry === null && isAscii(chunk)) {
      // The usual piece: ASCII, with nothing held from the one before, is a character a byte.
      this.chunk = null;
      this.escaped = false;
      this.feed(chunk.toString('latin1'));
    } else {
      // Bytes are decoded as byte-names.ts says, as every reader of names does: a byte that is not
      // UTF-8 is U+DC00 plus the byte, not U+FFFD (review 27, F5: "\377.map" and "\376.map" were one file).
      const bytes = this.carry === null ? chunk : Buffer.concat([this.carry, chunk]);
      const end = completeEnd(bytes);
      this.carry = end === bytes.length ? null : Buffer.from(bytes.subarray(end));
      let text = bytes.toString('utf8', 0, end);
      this.escaped = text.indexOf('\ufffd') >= 0;
      if (this.escaped) text = decodeEscaping(bytes, 0, end);
      // Newlines are found in the chunk itself: the bytes carried from the one before hold none.
      this.chunk = chunk;
      this.feed(text);
    }
    this.chunkStart += chunk.length;
  }

  /** The input ended: a last line without a newline is a line too. */
  end(): void {
    // Bytes carried that no read completed: each is no part of UTF-8.
    const text = this.carry === null ? '' : decodeEscaping(this.carry);
    this.carry = null;
    this.chunk = null;
    this.escaped = text.length > 0;
    this.feed(text);
    if (this.heldChars > 0 && this.long === null) this.sink.cut?.(this.lineNo + 1);
    if (this.heldChars > 0 || this.long !== null) this.finishLine(this.chunkStart);
  }

  /** Where in the input the newline at `index` of the text being split is. */
  private newlineByte(index: number): number {
    if (this.chunk === null) return this.chunkStart + index;
    // A newline is byte 10 in UTF-8 and never part of another character: the k-th of the text is the k-th of the chunk.
    const at = this.chunk.indexOf(10, this.scan);
    this.scan = at + 1;
    return this.chunkStart + at;
  }

  private feed(text: string): void {
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) {
        this.take(text, start, text.length);
        return;
      }
      const newlineAt = this.newlineByte(newline);
      if (this.heldChars === 0 && this.long === null && newline - start <= this.limit) {
        // The usual case: a whole line inside this piece of text.
        const end = text.charCodeAt(newline - 1) === 13 && newline > start ? newline - 1 : newline;
        if (this.sink.skip?.(text, start, end, this.lineNo + 1) === true) {
          this.lineNo++;
          this.lineStart = newlineAt + 1;
          start = newline + 1;
          continue;
        }
        const line = text.slice(start, end);
        const lineAt = this.lineStart;
        const bytes = this.escaped && hasEscapedByte(line) ? -1 : newlineAt - (newline - end) - lineAt;
        this.sink.line(line, ++this.lineNo, lineAt, bytes);
      } else {
        this.take(text, start, newline);
        this.finishLine(newlineAt);
      }
      this.lineStart = newlineAt + 1;
      start = newline + 1;
    }
  }

  private take(text: string, start: number, end: number): void {
    if (end <= start) return;
    if (this.long !== null) {
      this.long.length += end - start;
      this.long.tail = lastChars(this.long.tail, text, start, end);
      if (this.long.length > RUNAWAY_LINE_CHARS) {
        throw new NotATraceError(
          `a file whose line ${this.lineNo + 1} runs past ${RUNAWAY_LINE_CHARS / (1024 * 1024 * 1024)} GiB with no newline, which no tracer writes (a sparse file's hole, or a device of zeros): reading stopped there`,
          CAPTURE_ADVICE,
          this.name,
        );
      }
      return;
    }
    if (this.heldChars + (end - start) > this.limit) {
      const held = this.held.join('');
      const head = (held.slice(0, LONG_LINE_HEAD) + text.slice(start, Math.min(end, start + LONG_LINE_HEAD))).slice(0, LONG_LINE_HEAD);
      this.long = { head: flatCopy(head), length: this.heldChars + (end - start), tail: lastChars(held, text, start, end) };
      this.held = [];
      this.heldChars = 0;
      return;
    }
    const piece = text.slice(start, end);
    if (this.escaped && hasEscapedByte(piece)) this.replaced = true;
    this.held.push(piece);
    this.heldChars += end - start;
  }

  /** @param endByte where the line's newline is in the input (its end, for a last line without one) */
  private finishLine(endByte: number): void {
    this.lineNo++;
    const lineAt = this.lineStart;
    const replaced = this.replaced;
    this.replaced = false;
    if (this.long !== null) {
      const { head, length, tail } = this.long;
      this.long = null;
      this.sink.longLine(this.lineNo, head, length, tail);
      return;
    }
    let line = this.held.length === 1 ? this.held[0]! : this.held.join('');
    this.held = [];
    this.heldChars = 0;
    let end = endByte;
    if (line.charCodeAt(line.length - 1) === 13) {
      line = line.slice(0, -1);
      end--;
    }
    this.sink.line(line, this.lineNo, lineAt, replaced ? -1 : end - lineAt);
  }
}

/** The last LONG_LINE_TAIL characters of `before` followed by `text[start, end)`, as a string of its own. */
function lastChars(before: string, text: string, start: number, end: number): string {
  const from = Math.max(start, end - LONG_LINE_TAIL);
  const kept = before.slice(Math.max(0, before.length - (LONG_LINE_TAIL - (end - from)))) + text.slice(from, end);
  return flatCopy(kept.slice(-LONG_LINE_TAIL));
}

export interface LineSource {
  /** The name used in places and messages ("-" is stdin). */
  name: string;
  /**
   * Calls `onLine` once per line, in order, with 1-based numbers, and
   * `onLongLine` for a line over MAX_LINE_CHARS (not passed to `onLine`).
   * Returning is enough: no await per line. With `skipping`, lines the
   * reader would ignore may be counted instead of passed on.
   */
  each(onLine: LineSink['line'], onLongLine?: LineSink['longLine'], onIdle?: () => void, skipping?: LineSkipping): Promise<void>;
  /** Hex SHA-256 of the bytes read, once `each` has finished. */
  sha256(): string;
  /** Bytes read so far, for progress. */
  bytesRead(): number;
  /** Size in bytes when known (files), for progress. */
  size: number | null;
  /**
   * The regular file whose bytes these are, to read a line again by its
   * offset (evidence is kept as positions, issue #14); null when the input
   * cannot be read twice (stdin, a pipe).
   */
  reread: string | null;
}

/** A source over a readable stream of bytes. */
export function streamSource(name: string, open: () => Readable, size: number | null = null): LineSource {
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  let digest: string | null = null;
  return {
    name,
    size,
    reread: null,
    bytesRead: () => bytes,
    sha256: () => (digest ??= hash.digest('hex')),
    each(onLine, onLongLine = () => undefined, _onIdle, skipping) {
      return new Promise((resolve, reject) => {
        const input = open();
        const sniffer = new Sniffer(name);
        const filtering = filteringSink(onLine, onLongLine, skipping);
        const splitter = new LineSplitter(filtering.sink, name);
        let failed = false;
        // The line handlers' own errors (a bug, a stop asked by the caller) are passed on as they are.
        const fail = (error: unknown) => {
          if (failed) return;
          failed = true;
          input.destroy();
          reject(error);
        };
        input.on('error', (error) => fail(error instanceof InputError ? error : new InputError(readFailure(error), name, { cause: error })));
        input.on('data', (chunk: Buffer) => {
          if (failed) return;
          bytes += chunk.length;
          hash.update(chunk);
          try {
            sniffer.see(chunk);
            splitter.write(chunk);
          } catch (error) {
            fail(error);
          }
        });
        input.on('end', () => {
          if (failed) return;
          try {
            sniffer.end();
            splitter.end();
            filtering.end();
            resolve();
          } catch (error) {
            fail(error);
          }
        });
      });
    },
  };
}

export async function fileSource(path: string): Promise<LineSource> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputError(readFailure(error), path, { cause: error });
  });
  if (info.isDirectory()) throw new InputError('is a directory but not a capture bundle (no meta.json)', path);
  const hash: Hash = createHash('sha256');
  let bytes = 0;
  let digest: string | null = null;
  return {
    name: path,
    size: info.isFile() ? info.size : null,
    reread: info.isFile() ? path : null,
    bytesRead: () => bytes,
    sha256: () => (digest ??= hash.digest('hex')),
    async each(onLine, onLongLine = () => undefined, _onIdle, skipping) {
      const sniffer = new Sniffer(path);
      const filtering = filteringSink(onLine, onLongLine, skipping);
      const splitter = new LineSplitter(filtering.sink, path);
      await readFileChunks(path, (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
        sniffer.see(chunk);
        splitter.write(chunk);
      });
      if (info.isFile() && bytes < info.size) throw shrankWhileRead(path, info.size, bytes);
      sniffer.end();
      splitter.end();
      filtering.end();
    },
  };
}

/**
 * readAhead, where only the file's own errors become input errors: those
 * `onChunk` throws (a line handler's bug, a stop asked by the caller, binary
 * data) are passed on as they are. For fileSource and the head of
 * threadedFileSource.
 */
export async function readFileChunks(path: string, onChunk: (chunk: Buffer) => void, limit?: number): Promise<void> {
  let handling = false;
  try {
    await readAhead(
      path,
      (chunk) => {
        handling = true;
        onChunk(chunk);
        handling = false;
      },
      limit,
    );
  } catch (error) {
    throw handling || error instanceof InputError ? error : new InputError(readFailure(error), path, { cause: error });
  }
}

/**
 * A regular file that ends before the size it had when opened was cut while
 * it was read (a log rotation's copytruncate): what was read is not the
 * file, and a report of it would be of neither.
 */
export function shrankWhileRead(path: string, size: number, bytes: number): InputError {
  return new InputError(`the file became shorter while it was read (${size} bytes when opened, ${bytes} read): analyze a copy that nothing writes to`, path);
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
 * several files (strace -ff) without holding any of them in memory. A line
 * over MAX_LINE_CHARS comes out as `{ long }` in its place. A file inputs.ts
 * opened (keepOpenedMember) is read through that descriptor, else by `path`.
 */
export function fileLineCursor(path: string): { next(): Promise<CursorLine | null>; sha256(): string; cutLine(): number } {
  const hash: Hash = createHash('sha256');
  let digest: string | null = null;
  // A member inputs.ts opened and checked is read from that descriptor (from its start, closed at the end).
  const opened = takeOpenedMember(path);
  const input = opened === undefined ? createReadStream(path, { highWaterMark: 256 * 1024 }) : createReadStream('', { fd: opened, start: 0, highWaterMark: 256 * 1024 });
  const ready: CursorLine[] = [];
  let readAt = 0;
  const sniffer = new Sniffer(path);
  let cut = -1;
  const splitter = new LineSplitter(
    {
      line: (text) => ready.push(text),
      longLine: (_lineNo, head, length) => ready.push({ long: { head, length } }),
      cut: (lineNo) => (cut = lineNo),
    },
    path,
  );
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let ended = false;
  return {
    sha256: () => (digest ??= hash.digest('hex')),
    /** The number of the last line when it has no newline (LineSink.cut), once it is read; else -1. */
    cutLine: () => cut,
    async next() {
      while (readAt >= ready.length && !ended) {
        ready.length = 0;
        readAt = 0;
        let result: IteratorResult<Buffer>;
        try {
          result = await chunks.next();
        } catch (error) {
          throw new InputError(readFailure(error), path, { cause: error });
        }
        if (result.done === true) {
          ended = true;
          sniffer.end();
          splitter.end();
        } else {
          hash.update(result.value);
          sniffer.see(result.value);
          splitter.write(result.value);
        }
      }
      return readAt < ready.length ? ready[readAt++]! : null;
    },
  };
}

/** A line of a cursor: its text, or what is left of one too long to read. */
export type CursorLine = string | { long: { head: string; length: number } };
