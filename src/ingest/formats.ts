// Which parser reads an input: decided from the content of its first line,
// never from the file name. And, once an input is read, whether it was a
// trace at all.
import { BpftraceReader, looksLikeBpftrace } from '../parse/bpftrace.js';
import { StraceReader, type ParseOutput, type StraceShape } from '../parse/strace.js';
import type { SkippedLines, SkipPolicy } from '../parse/strace-skip.js';

export type TraceFormat = 'strace' | 'bpftrace';

/** A stateful line parser: lines in, events and diagnostics out. */
export interface LineParser {
  readonly format: TraceFormat;
  push(text: string, lineNo: number, out: ParseOutput[]): void;
  /** Once lines may be skipped for this parser (IgnoredLineFilter); absent or null: never, or not yet. */
  skipPolicy?(): SkipPolicy | null;
  /** Lines the line reader skipped for it. */
  noteSkipped?(skipped: SkippedLines): void;
  end(out: ParseOutput[]): void;
  /** LineSink.cut: line `lineNo`, pushed next, ends the input without a newline. */
  cut?(lineNo: number): void;
  /** bpftrace: `stop` records are taken only from line `lineNo` on (Run.readStream's stopAfterByte). */
  trustStopsFrom?(lineNo: number): void;
  /**
   * Live input has caught up with its writer (nothing more to read for now);
   * `nowNs` is CLOCK_MONOTONIC (process.hrtime.bigint()).
   */
  idle?(out: ParseOutput[], nowNs: bigint): void;
  /**
   * An event's `time` as this parser makes it of its `seconds`, where no line
   * prints it (bpftrace: since the trace began, sinceStartText): evidence
   * keeps the number, not the text (InputEvidence.timeText).
   */
  timeText?(seconds: number): string;
  /** strace: whether the input looks filtered (shapeFiltered), or null when it holds no call to tell by. */
  filtered?(): boolean | null;
  /** bpftrace format 2: the capture's key (BpftraceReader.key), which no event's text holds; null until known, or for none. */
  key?(): string | null;
  /** Why the input is not the tracer's output whole (BpftraceReader.damage): the verdict is undecided. */
  damage?(): string | null;
  /**
   * Preflight findings about how the trace was captured, e.g. missing strace
   * flags. `mapsStartRead`: a bundle's maps-start.txt gave the mappings made
   * before the trace began, so a trace that starts without an execve lacks nothing there.
   */
  warnings(mapsStartRead: boolean): string[];
  /** Lines read so far that are unmistakably output of the tracer (see StraceShape.traceLines). */
  traceLines(): number;
  /** strace: the lowest thread id among lines of calls nobody follows (StraceReader.lowestSkippedTid); Infinity for none. */
  lowestSkippedTid?(): number;
}

export function detectFormat(firstLine: string): TraceFormat {
  return looksLikeBpftrace([firstLine]) ? 'bpftrace' : 'strace';
}

export function createLineParser(format: TraceFormat, file: string, defaultTid: number): LineParser {
  switch (format) {
    case 'strace':
      return straceParser(file, defaultTid);
    case 'bpftrace': {
      // Reports show seconds since the trace began, never raw boot-time ns.
      const reader = new BpftraceReader(file, { clock: 'trace-start' });
      return {
        format: 'bpftrace',
        push: (text, lineNo, out) => reader.push(text, lineNo, out),
        end: (out) => reader.end(out),
        idle: (out, nowNs) => reader.idle(out, nowNs),
        trustStopsFrom: (lineNo) => reader.trustStopsFrom(lineNo),
        warnings: () => reader.warnings(),
        damage: () => reader.damage(),
        key: () => reader.key,
        timeText: (seconds) => reader.timeText(seconds),
        traceLines: () => reader.traceLines,
      };
    }
  }
}

function straceParser(file: string, defaultTid: number): LineParser {
  const reader = new StraceReader(file, defaultTid);
  return {
    format: 'strace',
    push: (text, lineNo, out) => reader.push(text, lineNo, out),
    skipPolicy: () => reader.skipPolicy(),
    noteSkipped: (skipped) => reader.noteSkipped(skipped),
    cut: (lineNo) => reader.cutAt(lineNo),
    end: (out) => reader.end(out),
    warnings: (mapsStartRead) => straceWarnings(reader, defaultTid !== 0, mapsStartRead),
    traceLines: () => reader.shape.traceLines,
    filtered: () => shapeFiltered([reader.shape]),
    lowestSkippedTid: () => reader.lowestSkippedTid,
  };
}

function straceWarnings(reader: StraceReader, fromFfFile: boolean, mapsStartRead: boolean): string[] {
  const shape = reader.shape;
  const warnings: string[] = [];
  if (shape.callLines === 0) return warnings;
  const name = reader.file;
  if (shape.withPid === 0 && !fromFfFile) {
    // Without -f strace follows the one thread it started or attached to: the
    // others' mmap, munmap and unlink never reach the trace, so their leaks
    // cannot be found, and lines carry no thread id. With -f to stderr, a
    // process that never clones prints no prefix either (`strace -p PID -f`
    // of one that has one thread): nothing is missing then, and a clone in the
    // trace is the only proof that -f was not given.
    warnings.push(
      shape.clones > 0
        ? `${name}: no -f: threads cannot be told apart (no pid prefix on any line), and strace followed only the first thread: ` +
            `the trace shows ${shape.clones === 1 ? 'a clone' : `${shape.clones} clones`} but not what the new thread${shape.clones === 1 ? ' or process' : 's or processes'} did, ` +
            'so mappings they leaked cannot be reported; capture with strace -f'
        : `${name}: no pid prefix on any line and no clone: strace ran without -f, or with -f on a process with one thread; ` +
            'without -f it follows only the first thread, and what other threads or child processes did is not in the trace, so mappings they leaked cannot be reported: capture with strace -f',
    );
  }
  if (shape.withTime === 0 && shape.withRelative === 0) warnings.push(`${name}: no -t/-tt/-ttt: delays cannot be measured`);
  else if (shape.withTime === 0) warnings.push(`${name}: only -r timestamps: times are seconds since the first line`);
  // No call that names an fd read: nothing says whether -y was given.
  if (shape.withFdHints === 0 && shape.withFdCalls > 0 && !shape.startsAtExecve) warnings.push(`${name}: no -y: files opened before the trace began cannot be named`);
  if (!shape.startsAtExecve && !mapsStartRead)
    warnings.push(
      `${name}: the trace does not start at an execve (attached to a running process, or execve left out of -e trace=?): mappings made before it are unknown unless a bundle's maps-start.txt is read`,
    );
  return warnings;
}

/** How to get a trace orphanmap can read, for messages about inputs that are not one. */
export const CAPTURE_ADVICE = 'capture a trace with `strace -f -ttt -T -yy -o trace.txt -p PID` (or `-- CMD ARGS…` instead of -p), or `orphanmap capture --pid PID --out DIR`';

/** What was read of one input, to tell whether it was a trace. */
export interface InputCounts {
  format: TraceFormat;
  /** Lines that are not blank. */
  contentLines: number;
  /** Lines the parser recognised as tracer output. */
  traceLines: number;
  /** Events the input gave the engine. */
  events: number;
  /** The first non-blank lines, for saying what the input looks like instead. */
  head: readonly string[];
}

/** How many of an input's first non-blank lines to keep for `describeNonTrace`. */
export const HEAD_LINES = 40;

/**
 * Not a trace: no event at all, and no line of tracer output, or (from 20
 * lines on) fewer than one line in ten. A real trace can have unreadable
 * lines (program output on stderr, a cut line, binary junk) and still be a
 * trace; an idle process's trace can have no followed call, but all its lines
 * are syscalls. An empty input is not judged here: it is a warning.
 */
export function isNotATrace(counts: InputCounts): boolean {
  if (counts.contentLines === 0 || counts.events > 0) return false;
  if (counts.traceLines === 0) return true;
  return counts.contentLines >= 20 && counts.traceLines * 10 < counts.contentLines;
}

const STRACE_C_HEADER = /^% time\s+(?:total\s+)?seconds\s+usecs\/call\s+calls\b/;
const STRACE_C_RULE = /^-{6} -{11} -{11} -{9} /;
//   2.95    0.004419           3      1372       588 openat
const STRACE_C_ROW = /^\s*\d+\.\d+\s+\d+\.\d+\s+\d+\s+\d+\s+(?:\d+\s+)?[a-z_0-9]+$/;
// 7f1c2a000000-7f1c2a021000 rw-s 00000000 08:01 1234   /tmp/x.index (deleted)
const MAPS_LINE = /^[0-9a-f]+-[0-9a-f]+ [r-][w-][x-][ps] [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+/;

/** How many of an input's first bytes `describeBinary` looks at. */
export const SNIFF_BYTES = 64 * 1024;

/**
 * Binary data, decided from an input's first bytes; null for text. strace
 * escapes every byte that is not printable (`\0`, `\x1b`, `\377`), and
 * orphanmap.bt prints C strings, which hold no NUL: in a trace, NULs and
 * control characters come only from something else on the same stream
 * (a program's own output on stderr), never in bulk. More than 30 % of NULs,
 * control characters or bytes that are not UTF-8 is not a trace: refused at
 * once, so `analyze /dev/zero` does not read forever.
 */
export function describeBinary(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  // A trace copied off a host is often compressed: said by its magic number, with the way to read it.
  for (const [magic, what, tool] of COMPRESSED) {
    if (bytes.length >= magic.length && magic.every((byte, i) => bytes[i] === byte)) return `${what}-compressed data, not text (decompress it first: ${tool} FILE | orphanmap analyze -)`;
  }
  let nuls = 0;
  let controls = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0) nuls++;
    // \b \t \n \v \f \r and ESC are text; the other C0 controls and DEL are not.
    else if ((b < 32 && (b < 8 || b > 13) && b !== 27) || b === 127) controls++;
  }
  if (nuls === bytes.length) return 'NUL bytes only (like /dev/zero), not text';
  let invalid = 0;
  const text = bytes.toString('utf8');
  // The last character may be cut by the end of the window: not counted.
  for (let i = 0; i < text.length - 1; i++) if (text.charCodeAt(i) === 0xfffd) invalid++;
  const share = (nuls + controls + invalid) / bytes.length;
  if (share <= 0.3) return null;
  return `binary data, not text (${Math.round(share * 100)} % of its first ${bytes.length < SNIFF_BYTES ? bytes.length : `${SNIFF_BYTES / 1024} KiB`}${bytes.length < SNIFF_BYTES ? ' bytes' : ''} are NULs, control characters or not UTF-8)`;
}

/** The magic numbers of what traces are compressed with, and the command that writes one out. */
const COMPRESSED: readonly (readonly [readonly number[], string, string])[] = [
  [[0x1f, 0x8b], 'gzip', 'zcat'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd', 'zstdcat'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz', 'xzcat'],
  [[0x42, 0x5a, 0x68], 'bzip2', 'bzcat'],
  [[0x04, 0x22, 0x4d, 0x18], 'lz4', 'lz4cat'],
];

/** What an input that is not a trace looks like, in words for the message. */
export function describeNonTrace(counts: InputCounts): string {
  const head = counts.head;
  const share = (test: (line: string) => boolean): number => head.filter(test).length / Math.max(1, head.length);
  if (head.some((line) => STRACE_C_HEADER.test(line)) || (head.some((line) => STRACE_C_RULE.test(line)) && share((line) => STRACE_C_ROW.test(line)) > 0.3)) {
    return 'a strace -c summary table (calls counted per syscall: strace -c prints no syscall lines, leave it out)';
  }
  if (share((line) => MAPS_LINE.test(line)) > 0.5) return 'a /proc/PID/maps listing (a capture bundle keeps one beside its trace: name the bundle directory to use both)';
  if (share((line) => /[\u0000-\u0008\u000e-\u001a\ufffd\udc80-\udcff]/u.test(line)) > 0.3) return 'binary data, not text';
  const first = head[0]?.trimStart() ?? '';
  if (first.startsWith('{') || first.startsWith('[')) return 'a JSON document (an orphanmap report?), not a trace';
  if (counts.format === 'bpftrace') return 'bpftrace output that is not from scripts/orphanmap.bt (no orphanmap-bt header and no record it prints)';
  const lines = `${counts.contentLines} line${counts.contentLines === 1 ? '' : 's'}`;
  if (counts.traceLines === 0) return `text with no syscall lines (${lines})`;
  return `text with only ${counts.traceLines} syscall-like line${counts.traceLines === 1 ? '' : 's'} among ${lines}, and no call orphanmap follows`;
}

/**
 * Whether the strace input these shapes are of (one file, or every file of an
 * -ff set) holds calls and none but those orphanmap follows (`-e trace=…`),
 * so which calls its filter left out is not known: true; false when it shows
 * a call nobody follows (no such filter); null when it holds no call.
 */
export function shapeFiltered(shapes: readonly StraceShape[]): boolean | null {
  if (shapes.some((shape) => shape.sawUnfollowedCall)) return false;
  return shapes.some((shape) => shape.callLines > 0) ? true : null;
}
