// A large unfiltered trace file is read by two threads (src/ingest/threaded-source.ts,
// read-worker.ts): the main thread reads its head, a second one hashes the file and
// skips the rest's lines of calls nobody follows. Only where the work runs may
// change: the report must be the one the same build makes reading in one thread,
// byte for byte, on real traces, generated ones and hostile files, wherever the
// head ends. The thread runs compiled code, so these tests use dist/ (npm test
// builds it first).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from './support/generate-trace.mjs';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');
type AnalyzeModule = typeof import('../src/ingest/analyze.js');
type ReportModule = typeof import('../src/report/report.js');
type JsonModule = typeof import('../src/report/json.js');
type SourceModule = typeof import('../src/ingest/threaded-source.js');
type LinesModule = typeof import('../src/ingest/lines.js');

let analyzeModule: AnalyzeModule;
let reportModule: ReportModule;
let jsonModule: JsonModule;
let sourceModule: SourceModule;
let linesModule: LinesModule;
const dir = mkdtempSync(join(tmpdir(), 'orphanmap-read-thread-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  analyzeModule = (await import(join(DIST, 'ingest/analyze.js'))) as AnalyzeModule;
  reportModule = (await import(join(DIST, 'report/report.js'))) as ReportModule;
  jsonModule = (await import(join(DIST, 'report/json.js'))) as JsonModule;
  sourceModule = (await import(join(DIST, 'ingest/threaded-source.js'))) as SourceModule;
  linesModule = (await import(join(DIST, 'ingest/lines.js'))) as LinesModule;
});

/** The JSON report and the analysis' counts, reading `path` the given way; or the error's message. */
async function reportOf(path: string, readThread: 'always' | 'never'): Promise<string> {
  try {
    const analysis = await analyzeModule.analyze([path], { readThread });
    let json = '';
    jsonModule.writeSafeJson(reportModule.buildReport(analysis), (text) => (json += text));
    return `${json}\n${JSON.stringify({ lines: analysis.lines, events: analysis.events, unparsed: analysis.unparsedLines, span: analysis.span, inputs: analysis.inputs })}`;
  } catch (error) {
    return `error: ${(error as Error).name}: ${(error as Error).message}`;
  }
}

async function expectSameReport(path: string): Promise<string> {
  const inThread = await reportOf(path, 'always');
  expect(inThread).toEqual(await reportOf(path, 'never'));
  return inThread;
}

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('reading a trace file in a second thread', () => {
  it('can start the thread from the build', () => {
    expect(sourceModule.canReadInThread()).toBe(true);
  });

  it('starts it only when a core is free for it', () => {
    // Cores, other processes' running tasks, the last minute's load (used only when the kernel does not say).
    expect(sourceModule.aCoreIsFree(2, 0, 9)).toBe(true);
    expect(sourceModule.aCoreIsFree(2, 1, 0)).toBe(false);
    expect(sourceModule.aCoreIsFree(8, 6, 0)).toBe(true);
    expect(sourceModule.aCoreIsFree(8, 7, 0)).toBe(false);
    expect(sourceModule.aCoreIsFree(1, 0, 0)).toBe(false);
    expect(sourceModule.aCoreIsFree(2, null, 0.9)).toBe(true);
    expect(sourceModule.aCoreIsFree(2, null, 1.2)).toBe(false);
  });

  it('counts the running tasks of other processes, not its own', async () => {
    // This thread is running while it asks: never counted.
    expect(sourceModule.othersRunning()).not.toBeNull();
    // Another process spinning on a core always is.
    const spinner = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sourceModule.othersRunning()).toBeGreaterThanOrEqual(1);
    } finally {
      spinner.kill();
    }
  });

  it.each(readdirSync(join(ROOT, 'traces')).filter((name) => !name.includes('.')))('gives the same report on traces/%s', async (name) => {
    await expectSameReport(join(ROOT, 'traces', name, 'trace.txt'));
  });

  it('gives the same report on bpftrace output', async () => {
    await expectSameReport(join(ROOT, 'test/fixtures/bpftrace/python-segments.txt'));
  });

  it('gives the same report on generated traces, unfiltered and filtered, many batches long', async () => {
    let unfiltered = '';
    generate({ bytes: 12 * 1024 * 1024, seed: 5, write: (chunk: string) => (unfiltered += chunk) });
    const report = await expectSameReport(write('unfiltered.txt', unfiltered));
    expect(JSON.parse(report.slice(0, report.lastIndexOf('\n'))).findings.length).toBeGreaterThan(10);
    let filtered = '';
    generate({ bytes: 2 * 1024 * 1024, seed: 6, filtered: true, leakRate: 0.9, write: (chunk: string) => (filtered += chunk) });
    await expectSameReport(write('filtered.txt', filtered));
    // Left to itself, a large file is read in a second thread only when that takes most lines off this one.
    expect(await sourceModule.mostlyIgnored(join(dir, 'unfiltered.txt'))).toBe(true);
    expect(await sourceModule.mostlyIgnored(join(dir, 'filtered.txt'))).toBe(false);
    expect(await sourceModule.mostlyIgnored(join(ROOT, 'test/fixtures/bpftrace/python-segments.txt'))).toBe(false);
  });

  it('gives the same report and errors on hostile files', async () => {
    const trace = [
      '24310 1795606335.100000 execve("/bin/x", ["x"], 0x7ffd /* 1 vars */) = 0',
      ...Array.from({ length: 60 }, (_, k) => `24310 1795606335.1${String(k).padStart(5, '0')} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`),
    ];
    const nasty = Buffer.concat([
      Buffer.from(`${trace.join('\r\n')}\r\n`),
      Buffer.from('24310 1795606335.200000 openat(AT_FDCWD, "/d/\xff\xfe.index", O_RDWR) = 3\n', 'latin1'),
      Buffer.from(`24310 1795606335.200001 write(1, "${'x'.repeat(1.5 * 1024 * 1024)}", 9) = 9\n`),
      Buffer.from('24310 1795606335.200002 fustrace: Process 24311 attached\ntex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0\n'),
      Buffer.from('24310 1795606335.200003 unlink("/d/\xff\xfe.index") = 0', 'latin1'),
    ]);
    expect(await expectSameReport(write('nasty.txt', nasty))).not.toMatch(/^error/);
    // No event at all: whether this is a trace is decided by its counts of trace lines, skipped ones included.
    const futexes = Array.from({ length: 200_000 }, (_, k) => `24310 1795606335.${String(k).padStart(6, '0')} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`);
    expect(await expectSameReport(write('futex-only.txt', `${futexes.join('\n')}\n`))).not.toMatch(/^error/);
    expect(await expectSameReport(write('binary.bin', Buffer.alloc(200_000, 0)))).toMatch(/^error: NotATraceError/);
    // Binary data is looked for in the first 64 KiB, which the head (30 % of this file) does not hold: decided as in one thread.
    const textThenBinary = Buffer.concat([Buffer.from(`${futexes.slice(0, 300).join('\n')}\n`), Buffer.from(`${'\x01'.repeat(999)}\n`.repeat(150))]);
    expect(await expectSameReport(write('text-then-binary.bin', textThenBinary))).toMatch(/^error: NotATraceError: .*binary data/);
    const controlsThenText = Buffer.concat([Buffer.alloc(15_000, 1), Buffer.from(`\n${futexes.slice(0, 3000).join('\n')}\n`)]);
    expect(await expectSameReport(write('controls-then-text.txt', controlsThenText))).not.toMatch(/binary data/);
    expect(await expectSameReport(write('empty.txt', ''))).not.toMatch(/^error/);
    expect(await expectSameReport(join(dir, 'missing.txt'))).toMatch(/^error: InputError/);
  });

  const collect = async (source: import('../src/ingest/lines.js').LineSource) => {
    const lines: string[] = [];
    await source.each(
      (line, lineNo, offset, bytes) => lines.push(`${lineNo} ${offset} ${bytes} ${line}`),
      (lineNo, head, length) => lines.push(`${lineNo} long ${length} ${head}`),
    );
    return { lines, sha256: source.sha256(), bytes: source.bytesRead() };
  };

  it('passes on every line, with its place, as the one-thread source does when nothing is skipped', async () => {
    let text = '';
    generate({ bytes: 3 * 1024 * 1024, seed: 7, write: (chunk: string) => (text += chunk) });
    const path = write('lines.txt', `${text}\n\n\xe9t\xe9 last line without newline`);
    const inline = await collect(await linesModule.fileSource(path));
    expect(inline.lines.length).toBeGreaterThan(20_000);
    for (const headShare of [0, 0.3, 0.999]) {
      expect(await collect(sourceModule.threadedFileSource(path, 3 * 1024 * 1024, headShare)), `head share ${headShare}`).toEqual(inline);
    }
  });

  it('gives the same lines wherever the head ends: in a \\r\\n, in a UTF-8 character, bad bytes, a long line, no line end at all', async () => {
    const line = (k: number) => `24310 1795606335.1${String(k).padStart(5, '0')} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`;
    const body = Buffer.concat([
      Buffer.from(`${Array.from({ length: 50 }, (_, k) => line(k)).join('\r\n')}\r\n`),
      Buffer.from('24310 1795606335.200000 openat(AT_FDCWD, "/d/\u00e9t\u00e9.index", O_RDWR) = 3\n'),
      Buffer.from('24310 1795606335.200000 openat(AT_FDCWD, "/d/\xff\xfe.index", O_RDWR) = 4\n', 'latin1'),
      Buffer.from(`24310 1795606335.200001 write(1, "${'x'.repeat(1.2 * 1024 * 1024)}", 9) = 9\n`),
      Buffer.from(`${Array.from({ length: 50 }, (_, k) => line(k + 50)).join('\n')}\n\n\n`),
    ]);
    const path = write('boundaries.txt', body);
    const inline = await collect(await linesModule.fileSource(path));
    expect(inline.lines.some((text) => text.includes(' long '))).toBe(true);
    // Around each place that matters: the first lines' ends (\r\n), the UTF-8 and bad bytes, the long line (longer than
    // the look for a line start: read in one thread from inside it), the empty lines at the end.
    const places = [1, 62, 63, 64, 126, body.indexOf('\u00e9'), body.indexOf(0xff), body.indexOf('xxxx'), body.indexOf('xxxx') + 1024 * 1024, body.length - 3];
    const ends = places.flatMap((place) => [place - 1, place, place + 1, place + 2]).filter((end) => end >= 1 && end < body.length);
    for (const end of ends) {
      expect(await collect(sourceModule.threadedFileSource(path, body.length, end / body.length)), `head ends near byte ${end}`).toEqual(inline);
    }
    // Without a line end the whole file is one line: read in one thread.
    const oneLine = write('one-line.txt', `${'y'.repeat(300_000)}`);
    expect(await collect(sourceModule.threadedFileSource(oneLine, 300_000, 0.5))).toEqual(await collect(await linesModule.fileSource(oneLine)));
  });

  it('lets the event loop turn after each batch, however far ahead the thread is (found by review: the TUI froze)', async () => {
    let text = '';
    generate({ bytes: 6 * 1024 * 1024, seed: 9, write: (chunk: string) => (text += chunk) });
    const path = write('turns.txt', text);
    // Lines handled since the event loop last turned, and the most seen in one turn.
    let sinceTurn = 0;
    let mostInATurn = 0;
    let running = true;
    const turn = () => {
      sinceTurn = 0;
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    const source = sourceModule.threadedFileSource(path, 6 * 1024 * 1024, 0);
    await source.each(() => {
      // This thread is the slower one, as when it parses a filtered capture.
      const until = performance.now() + 0.002;
      while (performance.now() < until);
      mostInATurn = Math.max(mostInATurn, ++sinceTurn);
    });
    running = false;
    const lines = text.split('\n');
    // The most lines one read of 256 KiB can end: the longest run of lines within 320 KiB.
    let most = 0;
    for (let first = 0, last = 0, bytes = 0; last < lines.length; last++) {
      bytes += Buffer.byteLength(lines[last]!) + 1;
      while (bytes > 256 * 1024 + 65536) bytes -= Buffer.byteLength(lines[first++]!) + 1;
      most = Math.max(most, last - first + 1);
    }
    expect(mostInATurn).toBeGreaterThan(1000);
    expect(mostInATurn).toBeLessThanOrEqual(most);
  });

  it('passes on an error of the line handlers as it is, in either thread (found by review)', async () => {
    const path = join(ROOT, 'traces', 'unfiltered', 'trace.txt');
    const failing = {
      onChange: () => {
        throw new TypeError('a bug in a change handler');
      },
    };
    for (const readThread of ['always', 'never'] as const) {
      const error = await analyzeModule.analyze([path], { ...failing, readThread }).then(
        () => null,
        (thrown: unknown) => thrown as Error,
      );
      expect(error, readThread).toMatchObject({ name: 'TypeError', message: 'a bug in a change handler' });
    }
  });

  it('bounds what waits in this thread by records, not only by characters: a file of empty lines (found by review: 1.8 GiB)', () => {
    const path = write('empty-lines.txt', `${'24310 1795606335.000001 futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0\n'.repeat(100)}${'\n'.repeat(6_000_000)}`);
    // This thread stops for 3 s at its first line while the other one splits the rest: 6 million empty lines, 32 bytes of
    // numbers each and a slot, would all wait here without a bound on records (about 400 MiB).
    const script = `
      const { threadedFileSource } = await import(${JSON.stringify(join(DIST, 'ingest/threaded-source.js'))});
      const { statSync } = await import('node:fs');
      const path = ${JSON.stringify(path)};
      const source = threadedFileSource(path, statSync(path).size, 0, 1024 * 1024);
      let lines = 0;
      await source.each(() => { if (++lines === 1) { const until = Date.now() + 3000; while (Date.now() < until); } });
      console.log(JSON.stringify({ lines, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
    // A file, not --eval: the thread would inherit --input-type, which a worker refuses.
    const result = JSON.parse(execFileSync(process.execPath, [write('empty-lines.mjs', script)], { encoding: 'utf8' })) as { lines: number; maxRssMiB: number };
    expect(result.lines).toBe(6_000_100);
    expect(result.maxRssMiB).toBeLessThan(200);
  });

  it('says a file that became shorter while it was read is not the file, with one thread or two (found by review: only two did)', async () => {
    const line = (k: number) => `24310 1795606335.${String(k).padStart(6, '0')} futex(0x7f, FUTEX_WAKE_PRIVATE, 1) = 0`;
    const content = `${Array.from({ length: 150_000 }, (_, k) => line(k)).join('\n')}\n`;
    for (const [name, source] of [
      ['one thread', async (path: string) => linesModule.fileSource(path)],
      ['two, cut in the head', async (path: string) => sourceModule.threadedFileSource(path, content.length, 0.5)],
      ['two, cut in the rest', async (path: string) => sourceModule.threadedFileSource(path, content.length, 0)],
    ] as const) {
      const path = write(`shrink-${name.replaceAll(' ', '-').replaceAll(',', '')}.txt`, content);
      const reading = await source(path);
      // Cut as a log rotation's copytruncate does, while the first line is handled.
      const error = await reading
        .each((_text, lineNo) => lineNo === 1 && truncateSync(path, 4096))
        .then(
          () => null,
          (thrown: unknown) => thrown as Error,
        );
      expect(error, name).toMatchObject({ name: 'InputError' });
      expect(error?.message, name).toMatch(/became shorter while it was read \(\d+ bytes when opened, \d+ read\)/);
    }
  });

  it('stops the thread and says why when the line handler throws', async () => {
    let text = '';
    generate({ bytes: 3 * 1024 * 1024, seed: 8, write: (chunk: string) => (text += chunk) });
    const source = sourceModule.threadedFileSource(write('stop.txt', text), 3 * 1024 * 1024, 0.5);
    await expect(
      source.each((_line, lineNo) => {
        if (lineNo === 5000) throw new Error('stop at 5000');
      }),
    ).rejects.toThrow('stop at 5000');
  });
});
