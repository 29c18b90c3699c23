// Fields of an orphanmap.bt record: `key=value` pairs, read as numbers with
// the ranges a successful call can print. Pure.
import { tidFromDigits } from './strace-line.js';

/**
 * 2^64, the end of a 64-bit address space: a mapping of a call that succeeded
 * ends at or below it. Sizes and offsets are off_t, below 2^63.
 */
export const ADDRESS_SPACE_END = 1n << 64n;
const OFFSET_END = 1n << 63n;

/**
 * A record's `key=value` fields, found where they are in its text: no string
 * is made of a key, nor of a value until it is asked for. A map of them cost
 * a hash of every key of every record, a tenth of reading a bpftrace capture.
 */
export class Fields {
  constructor(
    private readonly text: string,
    /** Each field's start, its `=` and its end, in order. */
    private readonly places: readonly number[],
  ) {}

  /** The value of `key`: the last field of that key, as a map of them would keep. */
  get(key: string): string | undefined {
    const at = this.find(key);
    return at < 0 ? undefined : this.text.slice(this.places[at + 1]! + 1, this.places[at + 2]);
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /**
   * The value of `key` as a number, read in place: `-` perhaps, then `0x`
   * and hex digits, or decimal digits (FieldReader's NUMBER). NaN when the
   * key is absent, the value is not such a number, or it is too long to be
   * read digit by digit exactly (over 15 decimal digits, 13 hex): then ask
   * get(). A record's numbers were a string each before they were read.
   */
  shortNumber(key: string): number {
    const at = this.find(key);
    if (at < 0) return Number.NaN;
    const { text, places } = this;
    let start = places[at + 1]! + 1;
    const end = places[at + 2]!;
    const negative = text.charCodeAt(start) === 45; /* - */
    if (negative) start++;
    let value = 0;
    if (end - start > 2 && text.charCodeAt(start) === 48 && (text.charCodeAt(start + 1) | 0x20) === 120 /* 0x, 0X */) {
      if (end - start - 2 > 13) return Number.NaN;
      for (let k = start + 2; k < end; k++) {
        const code = text.charCodeAt(k);
        // Letters folded to lower case, and only letters: 0x10-0x19 | 0x20 would read as the digits 0-9 (review of the change).
        const lower = code | 0x20;
        const digit = code >= 48 && code <= 57 ? code - 48 : lower >= 97 && lower <= 102 ? lower - 87 : -1;
        if (digit < 0) return Number.NaN;
        value = value * 16 + digit;
      }
    } else {
      if (end === start || end - start > 15) return Number.NaN;
      for (let k = start; k < end; k++) {
        const digit = text.charCodeAt(k) - 48;
        if (digit < 0 || digit > 9) return Number.NaN;
        value = value * 10 + digit;
      }
    }
    return negative ? -value : value;
  }

  private find(key: string): number {
    const { text, places } = this;
    for (let at = places.length - 3; at >= 0; at -= 3) {
      const start = places[at]!;
      if (places[at + 1]! - start === key.length && text.startsWith(key, start)) return at;
    }
    return -1;
  }
}

/** `key=value key=value` (blanks between, any number) → its fields; null when a field has no `=` or no key. */
export function parseFields(text: string): Fields | null {
  // Counted first, so that the places are one array of their size: grown by push, a record's ten
  // fields took two allocations of 17 and 41 slots, a third of what parsing a record allocated.
  let count = 0;
  for (let from = 0; from <= text.length; ) {
    const blank = text.indexOf(' ', from);
    const end = blank < 0 ? text.length : blank;
    if (end > from) {
      const eq = text.indexOf('=', from);
      if (eq <= from || eq >= end) return null;
      count++;
    }
    from = end + 1;
  }
  const places = new Array<number>(count * 3);
  let at = 0;
  for (let from = 0; from <= text.length; ) {
    const blank = text.indexOf(' ', from);
    const end = blank < 0 ? text.length : blank;
    if (end > from) {
      places[at++] = from;
      places[at++] = text.indexOf('=', from);
      places[at++] = end;
    }
    from = end + 1;
  }
  return new Fields(text, places);
}

const NUMBER = /^-?(?:0x[0-9a-f]+|\d+)$/i;

/** Reads numeric fields and remembers which were missing, so one check covers them all. */
export class FieldReader {
  readonly missing: string[] = [];
  constructor(readonly fields: Fields) {}

  int(key: string): number {
    const short = this.fields.shortNumber(key);
    if (!Number.isNaN(short)) return short;
    const value = this.fields.get(key);
    if (value === undefined || !NUMBER.test(value)) {
      this.missing.push(key);
      return 0;
    }
    return value.startsWith('-') ? -Number(value.slice(1)) : Number(value);
  }

  big(key: string): bigint {
    const short = this.fields.shortNumber(key);
    if (!Number.isNaN(short)) return BigInt(short);
    const value = this.fields.get(key);
    if (value === undefined || !NUMBER.test(value)) {
      this.missing.push(key);
      return 0n;
    }
    return value.startsWith('-') ? -BigInt(value.slice(1)) : BigInt(value);
  }

  /** A thread or process id: 1 to MAX_TID (isTid), as sched_process_fork and exec print them. */
  tid(key: string): number {
    const value = this.fields.get(key);
    const tid = value === undefined ? Number.NaN : tidFromDigits(value);
    if (Number.isNaN(tid)) {
      this.missing.push(value === undefined ? key : `${key} (out of range)`);
      return 0;
    }
    return tid;
  }

  optionalInt(key: string): number | undefined {
    return this.fields.has(key) ? this.int(key) : undefined;
  }

  optionalBig(key: string): bigint | undefined {
    return this.fields.has(key) ? this.big(key) : undefined;
  }

  /**
   * Ranges are checked for calls that succeeded only: a failed call's
   * arguments may be anything (an mmap of 1e23 bytes fails with ENOMEM).
   */
  checkRanges = true;

  /** An address: 0 to 2^64 - 1. `value` when the field was already read. */
  address(key: string, value: bigint = this.big(key)): number {
    if (this.checkRanges && (value < 0n || value >= ADDRESS_SPACE_END)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }

  /** The length of a range starting at `start`: not negative, and not past 2^64 (said once, for a start past it). */
  size(key: string, start: number): number {
    const value = this.big(key);
    if (this.checkRanges && start < 2 ** 64 && (value < 0n || Number(value) + start > 2 ** 64)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }

  /** A file size or offset (off_t): 0 to 2^63 - 1. */
  offset(key: string): number {
    const value = this.big(key);
    if (this.checkRanges && (value < 0n || value >= OFFSET_END)) this.missing.push(`${key} (out of range)`);
    return Number(value);
  }
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

/** task->exit_code in wait() encoding: 0x300 = exit(3), 0x9 = SIGKILL, | 0x80 = core dumped. */
export function describeWaitStatus(code: number): string {
  const signal = code & 0x7f;
  if (signal === 0) return `exited with ${(code >> 8) & 0xff}`;
  const name = SIGNAL_NAMES[signal] ?? `signal ${signal}`;
  return `killed by ${name}${code & 0x80 ? ' (core dumped)' : ''}`;
}
