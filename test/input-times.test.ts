// One time value per event, from the parser (issue #10, item 6, the parser
// half). strace: an event's time is the text printed on the line it names,
// and a call joined from `<unfinished ...>` and `<... NAME resumed>` keeps
// each line's own time. bpftrace: seconds since the trace began (its
// `orphanmap-bt 1 begin ns=…` line) instead of raw nanoseconds. Every
// expected value is read from the trace text itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { At } from '../src/engine/findings.js';
import { BpftraceReader, sinceStartText } from '../src/parse/bpftrace.js';
import type { TraceEvent } from '../src/parse/events.js';
import { StraceReader } from '../src/parse/strace.js';
import { readLines } from './support/trace-text.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-times-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A thread opens a FIFO for reading and blocks in openat until the main
// thread, 200 ms later, opens it for writing: strace -f prints the reader's
// openat as "<unfinished ...>" and, 200 ms later, "<... openat resumed>". The
// reader then maps a file and unlinks it (a finding with places to check).
const FIFO_PROGRAM = `
import mmap, os, sys, threading, time
d = sys.argv[1]
fifo = os.path.join(d, 'pipe')
os.mkfifo(fifo)
keep = []
def reader():
    fd = os.open(fifo, os.O_RDONLY)
    os.close(fd)
    path = os.path.join(d, 'seg.bin')
    f = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(f, 4096)
    keep.append(mmap.mmap(f, 4096))
    os.close(f)
    os.unlink(path)
t = threading.Thread(target=reader); t.start()
time.sleep(0.2)
w = os.open(fifo, os.O_WRONLY)
os.close(w)
t.join()
`;

let fifoTrace: string;
const attachTrace = join(REPO, 'traces', 'attach-threads', 'trace.txt');

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
  fifoTrace = join(scratch, 'trace.txt');
  const result = spawnSync('strace', ['-f', '-ttt', '-T', '-yy', '-o', fifoTrace, PYTHON, '-c', FIFO_PROGRAM, scratch], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
});

/** The time field of a `-f -o -ttt` line as strace printed it: after "TID " or "TID<comm> ". */
function printedTime(line: string): string | null {
  return /^\d+(?:<[^>]*>)? +(\d+\.\d+) /.exec(line)?.[1] ?? null;
}

function strace(path: string): { events: TraceEvent[]; lines: string[] } {
  const text = readFileSync(path, 'utf8');
  return { events: readLines(new StraceReader(path), text).events, lines: text.split('\n') };
}

describe('strace: the time of an event is the one printed on its line', () => {
  for (const [name, path] of [
    ['a real FIFO trace', () => fifoTrace],
    ['the real attach trace traces/attach-threads', () => attachTrace],
  ] as const) {
    it(`every event of ${name}`, () => {
      const { events, lines } = strace(path());
      expect(events.length).toBeGreaterThan(50);
      for (const event of events) {
        expect(event.time, event.raw).toBe(printedTime(lines[event.place.line - 1]!));
        if (event.lines === undefined || event.lines.length < 2) continue;
        // Joined from two lines: each line keeps its own time.
        expect(event.lineTimes, event.raw).toEqual(event.lines.map((n) => printedTime(lines[n - 1]!)));
      }
    });
  }

  it("a resumed line's time is its own, 200 ms after the call began", () => {
    const { events, lines } = strace(fifoTrace);
    const open = events.find((e) => e.kind === 'open' && e.path.endsWith('/pipe') && e.lines?.length === 2);
    expect(open, "the reader thread's openat of the FIFO, unfinished then resumed").toBeDefined();
    const [first, second] = open!.lines!;
    expect(lines[first! - 1]).toMatch(/openat\(.*pipe.* <unfinished \.\.\.>$/);
    expect(lines[second! - 1]).toMatch(/<\.\.\. openat resumed>/);
    const [started, resumed] = open!.lineTimes!.map(Number);
    expect(open!.time).toBe(printedTime(lines[first! - 1]!));
    expect(resumed! - started!).toBeGreaterThan(0.15);
  });

  it("a report's places name a line that carries their time", () => {
    for (const path of [fifoTrace, attachTrace]) {
      const result = runCli(['analyze', path, '--format', 'json']);
      expect(result.status, result.stderr).toBe(0);
      const lines = readFileSync(path, 'utf8').split('\n');
      const report = JSON.parse(result.stdout) as { findings: Record<string, At | null>[] };
      expect(report.findings.length).toBeGreaterThan(0);
      for (const finding of report.findings) {
        for (const key of ['mappedAt', 'unlinkedAt', 'remappedAt', 'resolvedAt']) {
          const at = finding[key];
          if (at === null || at === undefined) continue;
          expect(at.time, `${key} ${at.file}:${at.line}`).toBe(printedTime(lines[at.line - 1]!));
        }
      }
    }
  });
});

describe('bpftrace: seconds since the trace began, not nanoseconds', () => {
  const fixture = join(REPO, 'test', 'fixtures', 'bpftrace', 'python-segments.txt');
  const text = readFileSync(fixture, 'latin1');
  const lines = text.split('\n');
  const begin = BigInt(/^orphanmap-bt 1 begin ns=(\d+) /m.exec(text)![1]!);
  /** What a line's ns is, in seconds since the begin line, as 6-decimal text. */
  const expected = (line: number): { time: string; seconds: number } => {
    const ns = BigInt(/^(\d+) /.exec(lines[line - 1]!)![1]!) - begin;
    return { time: `+${(Number(ns) / 1e9).toFixed(6)}`, seconds: Number(ns) / 1e9 };
  };

  it("the reader, asked for trace-start times, gives every event its line's ns since the begin line", () => {
    const { events } = readLines(new BpftraceReader(fixture, { clock: 'trace-start' }), text.replace(/\n$/, ''));
    const timed = events.filter((e) => e.kind !== 'lost');
    expect(timed.length).toBeGreaterThan(100);
    for (const event of timed) {
      const want = expected(event.place.line);
      expect(event.time, event.raw).toBe(want.time);
      expect(event.seconds).toBeCloseTo(want.seconds, 9);
    }
  });

  it("the reader's default still gives the record's own ns", () => {
    const { events } = readLines(new BpftraceReader(fixture), text.replace(/\n$/, ''));
    for (const event of events.filter((e) => e.kind !== 'lost')) expect(event.time).toBe(/^(\d+) /.exec(lines[event.place.line - 1]!)![1]);
  });

  it('reports show those seconds at every place, and no raw nanoseconds', () => {
    const result = runCli(['analyze', fixture, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Record<string, (At & { seconds?: number }) | null>[] };
    expect(report.findings.length).toBeGreaterThan(0);
    for (const finding of report.findings) {
      for (const key of ['mappedAt', 'unlinkedAt', 'remappedAt', 'resolvedAt']) {
        const at = finding[key];
        if (at === null || at === undefined) continue;
        expect(at.time, `${key} line ${at.line}`).toBe(expected(at.line).time);
        if (at.seconds !== undefined) expect(at.seconds).toBeCloseTo(expected(at.line).seconds, 9);
      }
    }
    const textReport = runCli(['analyze', fixture]).stdout;
    expect(textReport).toMatch(/ {2}mapped {4}\S+python-segments\.txt:\d+ {2}\+\d+\.\d{6} {2}tid \d+/);
    expect(textReport).not.toMatch(/python-segments\.txt:\d+ {2}\d{10,}/);
  });
});

// Seconds since the begin line are worked out by doubles where a double holds
// both ns exactly (below 2^53: a machine up for less than 104 days), by
// bigints past that: either way exactly the bigints' difference in seconds.
describe('bpftrace seconds since the begin line, on either side of 2^53 ns', () => {
  it('are the bigint difference of the ns, whatever the ns', () => {
    const limit = 2n ** 53n;
    const origins = [1_000_000_000n, limit - 5_000_000_000n, limit - 1n, limit, limit + 7n, 10n ** 19n];
    for (const origin of origins) {
      const stamps = [origin, origin + 1n, origin + 999_999_999n, origin + 123_456_789_012n, limit - 1n, limit, limit + 1n, limit + 3n, 2n ** 60n + 1n]
        .filter((ns) => ns >= origin)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const lines = [`orphanmap-bt 1 begin ns=${origin} cpu=0 self=9 root=0`, ...stamps.map((ns, k) => `${ns} 0 100 100 clone child=${200 + k} flags=0x0`)];
      const { events } = readLines(new BpftraceReader('t.txt', { clock: 'trace-start' }), lines.join('\n'));
      expect(events.map((event) => event.seconds)).toEqual(stamps.map((ns) => Number(ns - origin) / 1e9));
      expect(events.map((event) => event.time)).toEqual(stamps.map((ns) => `+${(Number(ns - origin) / 1e9).toFixed(6)}`));
    }
  });
});

// Evidence asks the reader for the text of an event's seconds again (to keep the number, not the text): the texts it made
// are kept by their µs, and a slot holds another time's as often as not.
describe("the bpftrace reader's text of a time", () => {
  it('is the text of those seconds, whether the reader made it, made another in its slot, or none', () => {
    const origin = 1_000_000_000n;
    // Stamps 4.096 ms apart share a slot (4,096 of them, by µs); some 1 ns apart share a µs.
    const stamps = [0n, 1n, 999n, 1_000n, 4_096_000n, 4_096_001n, 8_192_000n, 123_456_789n, 5_000_000_000n].map((ns) => origin + ns);
    const lines = [`orphanmap-bt 1 begin ns=${origin} cpu=0 self=9 root=0`, ...stamps.map((ns, k) => `${ns} 0 100 100 clone child=${200 + k} flags=0x0`)];
    const reader = new BpftraceReader('t.txt', { clock: 'trace-start' });
    const { events } = readLines(reader, lines.join('\n'));
    expect(events).toHaveLength(stamps.length);
    for (const event of events) expect(reader.timeText(event.seconds!)).toBe(event.time);
    for (const seconds of [0.004096, 0.004097, 0.0041, 0.008192, -0.004096, 12.5, Number.NaN]) expect(reader.timeText(seconds)).toBe(sinceStartText(seconds));
  });
});
