// What a file keeps of each event for its evidence (issue #14, goal 3): where
// the event's lines are in its input, as numbers, read again when a report or
// a view asks. Kept as the events themselves, with their text, that was about
// 7 KiB a finding. The parser and the engine stay pure: the line source gives
// each line's byte offset, the engine keeps the handles made here, and only
// this file reads the input again.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { flatCopy } from '../parse/flat-copy.js';
import type { EvidenceHandle, EvidenceLine, EvidenceSource, KeptEvent } from '../engine/findings.js';
import type { EventBase, EvidenceKeeper } from '../parse/events.js';
import { readFailure } from './lines.js';

/** Lines whose places are remembered: an event's lines are this close to the line that finished it (a resumed call, a reordered bpftrace record). */
const WINDOW = 1 << 16;
const SLOT = WINDOW - 1;

/**
 * Each physical line of an event is kept as three numbers (24 bytes; an
 * object per line was 80, and its slot 8 more):
 *   its byte offset in the input;
 *   line number × 2^22 + thread (0: none; Linux thread ids are below 2^22);
 *   byte length × 2^30 + where the line prints its time (timeIn, plus one; 0: not printed).
 * A time the line does not print is kept as text by the event's handle.
 * A line these cannot hold (line number from 2^31, 8 MiB and more) keeps its text.
 */
const NUMBERS_PER_LINE = 3;
/** Numbers per line in InputEvidence's `placed`. */
const PLACED = 3;
const TID_SPAN = 2 ** 22;
const TIME_SPAN = 2 ** 30;
const MAX_LINE_NO = 2 ** 31;
const MAX_BYTES = 2 ** 23;
/** A time printed from here on is kept as text: its place, plus one, must stay below TIME_SPAN. */
const MAX_TIME_AT = TIME_SPAN / 256 - 1;

/** An event whose lines do not print the time the evidence shows: the handle keeps it, per line (null: no time). */
class TimesKept implements EvidenceHandle {
  readonly numberCount: number;

  constructor(
    readonly source: InputEvidence,
    readonly times: (string | null)[],
  ) {
    this.numberCount = times.length * NUMBERS_PER_LINE;
  }
}

/** The handle of every event of `lines` lines of one input whose times the lines print: one shared, not one an event. */
class LinesAt implements EvidenceHandle {
  readonly numberCount: number;

  constructor(
    readonly source: InputEvidence,
    lines: number,
  ) {
    this.numberCount = lines * NUMBERS_PER_LINE;
  }
}

/**
 * The handle of every one-line event whose time its parser makes of its
 * seconds (InputEvidence.timeText; bpftrace's): the line's three numbers and
 * the seconds, a fourth. One shared, not an object and a text an event.
 */
class ClockedLine implements EvidenceHandle {
  readonly numberCount = NUMBERS_PER_LINE + 1;
  constructor(readonly source: InputEvidence) {}
}

/** An event's lines as text: for inputs that cannot be read again, and lines that are not as the input has them. */
class LinesText implements EvidenceHandle {
  readonly numberCount = 0;

  constructor(
    readonly source: EvidenceSource,
    readonly lines: EvidenceLine[],
  ) {}
}

/** Keeps the text of an event's lines, copied (bounded: a file keeps at most 48 events). */
export const TEXT_EVIDENCE: EvidenceKeeper & EvidenceSource = {
  keep(event: EventBase): EvidenceHandle {
    return new LinesText(TEXT_EVIDENCE, lineTexts(event));
  },
  linesOf(events: readonly KeptEvent[]): EvidenceLine[] {
    return events.flatMap((event) => (event.handle as LinesText).lines);
  },
};

/**
 * The evidence of one input that can be read again: told each line's place
 * as it is read (`line`), it turns an event into the places of its lines, and
 * reads them back with positioned reads.
 */
export class InputEvidence implements EvidenceKeeper, EvidenceSource, EvidenceHandle {
  // The places of the last WINDOW lines, by line number modulo WINDOW.
  private readonly numbers = new Float64Array(WINDOW).fill(-1);
  private readonly offsets = new Float64Array(WINDOW);
  private readonly bytes = new Float64Array(WINDOW);
  private readonly chars = new Float64Array(WINDOW);
  /** Absolute: a report may be written after the working directory changed. */
  readonly path: string;
  /**
   * How the parser makes an event's time of its seconds, when no line prints
   * it (LineParser.timeText); null: times not printed are kept as text.
   */
  timeText: ((seconds: number) => string) | null = null;
  private readonly clocked = new ClockedLine(this);
  /**
   * The file as it was when reading began (device and inode): read again only
   * if it is still that file. A bundle is untrusted input, analysed as root:
   * a trace swapped for a link to another file between the analysis and the
   * report must not put that file's bytes into the report.
   */
  private readonly identity: { dev: number; ino: number } | null;

  /**
   * @param name the input's name, as events' places give it
   * @param path the file to read again
   */
  constructor(
    readonly name: string,
    path: string,
  ) {
    this.path = resolve(path);
    try {
      const info = statSync(this.path);
      this.identity = { dev: info.dev, ino: info.ino };
    } catch {
      // Unreadable now: reading the input says why; reading it again will too.
      this.identity = null;
    }
  }

  /** A line was read: its text's length, and its place in the input (bytes -1: cannot be read back as it was). */
  line(lineNo: number, chars: number, offset: number, bytes: number): void {
    const slot = lineNo & SLOT;
    this.numbers[slot] = lineNo;
    this.chars[slot] = chars;
    this.offsets[slot] = offset;
    this.bytes[slot] = bytes;
  }

  keep(event: EventBase, numbers: number[]): EvidenceHandle {
    const tid = event.tid;
    const place = event.place;
    const lines = event.lines;
    if (event.rebuilt === true || place.file !== this.name || !(tid >= 0 && tid < TID_SPAN)) return TEXT_EVIDENCE.keep(event, numbers);
    const raw = event.raw;
    const lineTimes = event.lineTimes;
    // An event of several lines has them joined by newlines: each is found in place, not split off.
    const single = lines === undefined || lines.length === 1;
    const start = numbers.length;
    let times: (string | null)[] | null = null;
    let count = 0;
    for (let from = 0; ; ) {
      const newline = single ? -1 : raw.indexOf('\n', from);
      const to = newline < 0 ? raw.length : newline;
      const time = timeIn(raw, from, to, lineTimes?.[count] ?? event.time);
      if (!this.write(numbers, lines?.[count] ?? place.line, to - from, tid, time)) {
        numbers.length = start;
        return TEXT_EVIDENCE.keep(event, numbers);
      }
      if (typeof time === 'string') {
        // One line whose time its parser makes of its seconds (bpftrace's): kept as the number, a fourth, and
        // the text made again when read; only when it comes out the same (an event may carry another's time).
        if (single && this.timeText !== null && event.seconds !== null && this.timeText(event.seconds) === time) {
          numbers.push(event.seconds);
          return this.clocked;
        }
        times ??= [];
        while (times.length < count) times.push(null);
        times.push(time);
      }
      count++;
      if (newline < 0) break;
      from = newline + 1;
    }
    if (times !== null) {
      while (times.length < count) times.push(null);
      // Copied to its own length: an array grown by push holds room for 17 (a bpftrace capture keeps a time for every event).
      return new TimesKept(this, times.length === 1 ? [times[0]!] : times.slice());
    }
    if (count === 1) return this;
    this.linesAt[count] ??= new LinesAt(this, count);
    return this.linesAt[count]!;
  }

  /** Writes a line's three numbers; false when the line cannot be read back from them (no longer remembered, not as read, too far or too long). */
  private write(numbers: number[], line: number, chars: number, tid: number, time: number | string | null): boolean {
    const slot = line & SLOT;
    const bytes = this.bytes[slot]!;
    if (this.numbers[slot] !== line || this.chars[slot] !== chars || bytes < 0 || bytes >= MAX_BYTES || line >= MAX_LINE_NO) return false;
    numbers.push(this.offsets[slot]!, line * TID_SPAN + tid, bytes * TIME_SPAN + (typeof time === 'number' ? time + 1 : 0));
    return true;
  }

  /** The handle of a one-line event is the source itself. */
  get source(): InputEvidence {
    return this;
  }

  readonly numberCount = NUMBERS_PER_LINE;
  /** The handles of events of several lines, by their number of lines. */
  private readonly linesAt: LinesAt[] = [];

  /**
   * Each line's place, as linesOf reads them back: its offset, its bytes, and
   * where it prints its time (timeIn), or -1. Kept from one call to the next:
   * an object per line to say the same was 35,785 objects for f20's report.
   */
  private readonly placed: number[] = [];

  linesOf(events: readonly KeptEvent[]): EvidenceLine[] {
    const lines: EvidenceLine[] = [];
    const placed = this.placed;
    for (const { handle, numbers } of events) {
      const times = handle instanceof TimesKept ? handle.times : null;
      // A clocked line's fourth number is its seconds, no line of its own.
      const clocked = handle instanceof ClockedLine ? this.timeText!(numbers[NUMBERS_PER_LINE]!) : null;
      const lineNumbers = clocked === null ? numbers.length : NUMBERS_PER_LINE;
      for (let at = 0, k = 0; at < lineNumbers; at += NUMBERS_PER_LINE, k++) {
        const lineTid = numbers[at + 1]!;
        const bytesTime = numbers[at + 2]!;
        const time = bytesTime % TIME_SPAN;
        const tid = lineTid % TID_SPAN;
        // The text is read below; a time the line prints is cut from it there.
        const n = lines.push({ file: this.name, line: Math.floor(lineTid / TID_SPAN), text: '', time: time > 0 ? null : (clocked ?? times?.[k] ?? null), tid: tid === 0 ? null : tid }) - 1;
        placed[n * PLACED] = numbers[at]!;
        placed[n * PLACED + 1] = Math.floor(bytesTime / TIME_SPAN);
        placed[n * PLACED + 2] = time - 1;
      }
    }
    this.read(lines, placed);
    return lines;
  }

  /** The input, open while the current task reads it again (see openInputs), or null. */
  private fd: number | null = null;

  /** The input opened to be read again, if it is still the file that was read. */
  private open(): number {
    if (this.fd !== null) {
      keptOpen(this);
      return this.fd;
    }
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      throw new InputError(`${readFailure(error)}: the trace was read, and is read again for its evidence lines`, this.name, { cause: error });
    }
    try {
      const now = fstatSync(fd);
      if (this.identity === null || now.dev !== this.identity.dev || now.ino !== this.identity.ino) {
        throw new InputError('is no longer the file that was read (replaced since): its evidence lines are not read from it', this.name);
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    // Open, the file stays the one checked, whatever is renamed over its path meanwhile.
    this.fd = fd;
    keptOpen(this);
    return fd;
  }

  /** Closed: the next read opens the input again, and checks that it is the same file. */
  close(): void {
    const fd = this.fd;
    if (fd === null) return;
    this.fd = null;
    recentBlocks.forget(this);
    closeSync(fd);
  }

  /** The text of each line (and the time it prints), read again through the blocks recently read (recentBlocks). */
  private read(lines: EvidenceLine[], placed: readonly number[]): void {
    const fd = this.open();
    for (let k = 0; k < lines.length; k++) {
      const text = recentBlocks.text(this, fd, placed[k * PLACED]!, placed[k * PLACED + 1]!);
      const line = lines[k]!;
      line.text = text;
      const timeAt = placed[k * PLACED + 2]!;
      if (timeAt >= 0) line.time = text.slice(timeAt >>> 8, (timeAt >>> 8) + (timeAt & 0xff));
    }
  }
}

/**
 * The blocks of inputs last read back, for all inputs together: 2 MiB at
 * most, each block in the slot of its index (modulo the number of slots). A
 * report reads its findings in order, and the lives of their files overlap:
 * about half the lines of leaky20's report had been read for an earlier
 * finding, and read a finding at a time, in stretches of up to 64 KiB, that
 * was 154 MB in 27,320 reads; through these blocks, 27 MB in 2,641 (1,627 of
 * them blocks). A slot is an array lookup: a map kept in order of use cost
 * more per line than the reads it saved.
 * An input's blocks are forgotten when it is closed (see openInputs): read
 * again later, it is opened, checked to be the file that was read, and read anew.
 */
class RecentBlocks {
  private readonly owners: (InputEvidence | null)[] = new Array<InputEvidence | null>(BLOCK_SLOTS).fill(null);
  private readonly indexes = new Float64Array(BLOCK_SLOTS);
  /** How many bytes each block holds: fewer than BLOCK_BYTES at the end of the input. */
  private readonly gots = new Float64Array(BLOCK_SLOTS);
  /** Made as slots are first used: a small input takes little. */
  private readonly blocks: Buffer[] = [];
  /** For a line across two blocks, read on its own (a longer line gets a buffer of its own). */
  private readonly across = Buffer.allocUnsafe(BLOCK_BYTES);

  /** The text of `length` bytes at `offset` of `input`, open as `fd`; short where the input is now shorter. */
  text(input: InputEvidence, fd: number, offset: number, length: number): string {
    const index = Math.floor(offset / BLOCK_BYTES);
    const from = offset - index * BLOCK_BYTES;
    if (from + length > BLOCK_BYTES) {
      const buffer = length <= this.across.length ? this.across : Buffer.allocUnsafe(length);
      return buffer.toString('utf8', 0, readAt(fd, buffer, length, offset));
    }
    const slot = index % BLOCK_SLOTS;
    let block = this.blocks[slot];
    if (block === undefined) {
      block = Buffer.allocUnsafe(BLOCK_BYTES);
      this.blocks[slot] = block;
    }
    if (this.owners[slot] !== input || this.indexes[slot] !== index) {
      // Claimed only once read whole: a read that throws leaves no block half old, half new.
      this.owners[slot] = null;
      this.gots[slot] = readAt(fd, block, BLOCK_BYTES, index * BLOCK_BYTES);
      this.indexes[slot] = index;
      this.owners[slot] = input;
    }
    return block.toString('utf8', from, Math.min(this.gots[slot]!, from + length));
  }

  /** The input was closed: none of its blocks is used again. */
  forget(input: InputEvidence): void {
    for (let slot = 0; slot < BLOCK_SLOTS; slot++) if (this.owners[slot] === input) this.owners[slot] = null;
  }
}

const BLOCK_BYTES = 16 * 1024;
const BLOCK_SLOTS = 128;
const recentBlocks = new RecentBlocks();

/** `length` bytes of `fd` from `position` into `buffer`; how many there were (fewer at the end of the file). */
function readAt(fd: number, buffer: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const read = readSync(fd, buffer, got, length - got, position + got);
    if (read === 0) break;
    got += read;
  }
  return got;
}

/**
 * Inputs open for reading again, least recently read first. A report reads
 * every finding's lines in one task, and an open, a check of the file and a
 * close for each finding were a third of the time of reading them again
 * (f20: 1,887 of each). Each is closed once the task is over, so an open
 * input does not outlive the report or the view that read it; and only so
 * many at once, as an -ff set has a file per thread.
 */
const openInputs = new Set<InputEvidence>();
const MAX_OPEN_INPUTS = 8;
let closingScheduled = false;
/** The input last kept open, last in openInputs (only closeOpenInputs empties it). */
let newestOpen: InputEvidence | null = null;

function keptOpen(input: InputEvidence): void {
  // Already the last: a long-lived set makes each table it outgrows in the old generation, and a
  // delete and an add for every finding read (leaky80: 31,208) outgrew one every few, 3 MiB in all.
  if (input !== newestOpen) {
    openInputs.delete(input);
    openInputs.add(input);
    newestOpen = input;
    if (openInputs.size > MAX_OPEN_INPUTS) {
      // Never the newest: there are more than one.
      const oldest = openInputs.values().next().value!;
      openInputs.delete(oldest);
      oldest.close();
    }
  }
  if (closingScheduled) return;
  closingScheduled = true;
  setImmediate(closeOpenInputs);
}

function closeOpenInputs(): void {
  closingScheduled = false;
  newestOpen = null;
  for (const input of openInputs) input.close();
  openInputs.clear();
}

/** The physical lines an event was read from (two for an unfinished/resumed pair), as text. */
function lineTexts(event: EventBase): EvidenceLine[] {
  const texts = event.raw.split('\n');
  const numbers = event.lines ?? [event.place.line];
  const tid = event.tid === 0 ? null : event.tid;
  // Each physical line with its own time: a `<... resumed>` line is found in the trace by the time printed on it.
  return texts.map((text, index) => ({
    file: event.place.file,
    line: numbers[index] ?? event.place.line,
    text: flatCopy(text),
    time: copyTime(event.lineTimes?.[index] ?? event.time),
    tid,
  }));
}

/**
 * The time of the line text[from, to) as where the line prints it, `at << 8 | length` (a number
 * costs nothing; a copy of the text is about 70 bytes), or as a copy when
 * the line does not print it (a -r trace's running clock, bpftrace's time
 * since the trace started).
 */
function timeIn(text: string, from: number, to: number, time: string | null | undefined): string | number | null {
  if (time === null || time === undefined) return null;
  const found = time.length < 256 ? text.indexOf(time, from) : -1;
  const at = found >= 0 && found + time.length <= to ? found - from : -1;
  return at >= 0 && at < MAX_TIME_AT ? at * 256 + time.length : flatCopy(time);
}

function copyTime(time: string | null | undefined): string | null {
  return time === null || time === undefined ? null : flatCopy(time);
}
