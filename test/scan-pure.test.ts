// scan without a live /proc: aggregation, skips, formats and growth math.
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerScan, runScan, type ScanFlags } from '../src/commands/scan.js';
import { UsageError } from '../src/errors.js';
import { summarizeEntries, topPatterns, type PatternTotal, type ScanResult } from '../src/scan/aggregate.js';
import { GrowthTracker, projectMapLimit, slopePerHour } from '../src/scan/growth.js';
import { escapeHelp, escapeLabelValue, formatProm } from '../src/scan/prom.js';
import { scanProcesses, type ProcReader } from '../src/scan/read.js';
import { durationText, formatScanText, projectionText } from '../src/scan/text.js';
import { parseMaps } from '../src/parse/maps.js';

const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => { name: string; type: string; metrics: { value: string; labels?: Record<string, string> }[] }[];

const HOUR = 3_600_000;

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: fake`), { code });
}

function mapsLine(start: number, bytes: number, path: string, inode = 7, dev = 'fe:00'): string {
  return `${start.toString(16)}-${(start + bytes).toString(16)} rw-s 00000000 ${dev} ${inode}                    ${path}`;
}

const LEAKY_MAPS = [
  '55e700c34000-55e700c36000 r--p 00000000 fe:00 260386                     /usr/bin/java',
  '55e701f63000-55e701f84000 rw-p 00000000 00:00 0                          [heap]',
  mapsLine(0x7f0000000000, 0xa00000, '/k/t-0/00000000000000000000.index.deleted (deleted)', 11),
  mapsLine(0x7f0000a00000, 0xa00000, '/k/t-0/00000000000000000000.timeindex.deleted (deleted)', 12),
  mapsLine(0x7f0001400000, 0x1000, '/k/t-0/00000000000000000000.timeindex.deleted (deleted)', 12),
  mapsLine(0x7f0001500000, 0x8000, '/tmp/hsperfdata_kafka/5958 (deleted)', 13),
  // On the kernel's internal shmem mount, as it prints them (00:01): the name alone decides nothing (review 22).
  mapsLine(0x7f0001600000, 0x1000, '/memfd:java_heap (deleted)', 14, '00:01'),
  mapsLine(0x7f0001700000, 0x1000, '/dev/zero (deleted)', 15, '00:01'),
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  'this line is damaged',
].join('\n');

function fakeProc(files: Record<string, string | Error>, dirs: readonly string[] = []): ProcReader {
  return {
    list: async () => ['self', 'sys', ...new Set(Object.keys(files).map((key) => key.split('/')[0]!)), ...dirs],
    read: async (relative) => {
      const value = files[relative];
      if (value === undefined) throw errno('ENOENT');
      if (value instanceof Error) throw value;
      return value;
    },
    // A pid directory exists while any of its files is there; ENOENT entries stand for a process that is gone.
    exists: async (relative) =>
      dirs.includes(relative) || Object.entries(files).some(([key, value]) => key.startsWith(`${relative}/`) && !(value instanceof Error && 'code' in value && value.code === 'ENOENT')),
  };
}

describe('scan aggregation', () => {
  it('counts deleted files, groups them by pattern and leaves memfd and shared anonymous memory out', () => {
    const parsed = parseMaps(LEAKY_MAPS);
    const process = summarizeEntries(5958, 'java', parsed.entries, 65530, parsed.badLines);
    expect(process.mappings).toBe(8); // [vsyscall] is not a VMA of the process
    expect(process.headroom).toBe(65530 - 8);
    expect(process.deletedMappings).toBe(4);
    expect(process.deletedBytes).toBe(0xa00000 * 2 + 0x1000 + 0x8000);
    expect(process.anonymousDeletedMappings).toBe(2);
    expect(process.badLines).toBe(1);
    expect(process.patterns.map((p) => [p.pattern, p.files, p.mappings, p.bytes])).toEqual([
      ['*.timeindex.deleted', 1, 2, 0xa01000],
      ['*.index.deleted', 1, 1, 0xa00000],
      ['hsperfdata_kafka/*', 1, 1, 0x8000],
    ]);
    expect(process.deletedFiles[0]).toMatchObject({ path: '/k/t-0/00000000000000000000.timeindex.deleted', inode: 12, bytes: 0xa01000 });
    expect(process.deletedFiles[0]!.mappings.map((m) => m.start)).toEqual(['0x7f0000a00000', '0x7f0001400000']);
  });

  it('bounds the pattern list at top N plus "other", and folds a pattern literally named "other" into it', () => {
    const patterns: PatternTotal[] = ['a', 'b', 'other', 'c', 'd'].map((pattern, i) => ({ pattern, files: 1, mappings: 10 - i, bytes: 100 - i }));
    expect(topPatterns(patterns, 2).map((p) => [p.pattern, p.mappings])).toEqual([
      ['a', 10],
      ['b', 9],
      ['other', 8 + 7 + 6],
    ]);
    expect(topPatterns(patterns, 5)).toHaveLength(5);
  });
});

describe('reading /proc', () => {
  it('counts vanished, denied, kernel-thread and unreadable processes quietly', async () => {
    const reader = fakeProc(
      {
        '10/maps': LEAKY_MAPS,
        '10/comm': 'java\n',
        '11/maps': errno('ENOENT'), // exited after the listing: its directory is gone too
        '12/maps': errno('EACCES'),
        '12/comm': 'secret\n',
        '13/maps': '', // kernel thread
        '13/comm': 'kworker/0:1\n',
        '15/maps': LEAKY_MAPS, // no comm file
        '16/maps': errno('ESRCH'),
        '17/maps': errno('EIO'),
      },
      ['14'], // a /proc that has the directory but no maps file
    );
    const result = await scanProcesses({ reader, now: () => 1_000 });
    expect(result.maxMapCount).toBeNull(); // sys/vm/max_map_count missing
    expect(result.processes.map((p) => [p.pid, p.comm, p.deletedMappings, p.headroom])).toEqual([
      [10, 'java', 4, null],
      [15, '', 4, null],
    ]);
    expect(result.skipped.map((s) => [s.pid, s.reason])).toEqual([
      [11, 'vanished'],
      [12, 'denied'],
      [13, 'no-address-space'],
      [14, 'unreadable'],
      [16, 'vanished'],
      [17, 'unreadable'],
    ]);
  });

  it('refuses a requested pid it cannot scan with exit 2, naming it, before writing anything', async () => {
    let stdout = '';
    const reader = fakeProc({ 'sys/vm/max_map_count': '65530\n', '10/maps': LEAKY_MAPS, '10/comm': 'java\n', '12/maps': errno('EACCES'), '13/maps': '' });
    for (const [pids, message] of [
      [[11], 'cannot scan pid 11 (no such process)'],
      [[10, 12], 'cannot scan pid 12 (permission denied (run as root or as its user))'],
      [[13, 11], 'cannot scan pid 11 (no such process), pid 13 (no address space: a kernel thread or a zombie)'],
    ] as const) {
      for (const watch of [undefined, 1]) {
        const flags: ScanFlags = { pid: [...pids], format: 'text', top: 5, ...(watch === undefined ? {} : { watch }) };
        const running = runScan(flags, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, reader, signal: new AbortController().signal });
        await expect(running).rejects.toThrow(UsageError);
        await expect(running).rejects.toMatchObject({ exitCode: 2, message });
      }
    }
    expect(stdout).toBe('');
    expect(await runScan({ pid: [10], format: 'text', top: 5 }, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, reader })).toBe(0);
    expect(stdout).toContain('java');
  });
});

function oneProcessResult(comm: string, path: string): ScanResult {
  const parsed = parseMaps([mapsLine(0x7f0000000000, 0x1000, `${path} (deleted)`), mapsLine(0x7f0000100000, 0x1000, '/k/0.index.deleted (deleted)')].join('\n'));
  return {
    time: Date.UTC(2025, 0, 1),
    durationMs: 1.5,
    maxMapCount: 65530,
    processes: [summarizeEntries(42, comm, parsed.entries, 65530)],
    skipped: [{ pid: 2, reason: 'no-address-space', detail: '' }],
  };
}

describe('--format prom', () => {
  it('escapes label values and HELP text as the exposition format requires', () => {
    // A newline is first shown as the text view shows it (\n, two characters), then that backslash is escaped.
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\\\nd');
    expect(escapeLabelValue('e\x1bs\x07c\u009bd\u202ef')).toBe('e\\\\x1bs\\\\x07c\\\\x9bd\\\\u202ef');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });

  it('round-trips hostile comm and pattern values through a real parser', () => {
    const comm = 'ja"va\\x\nnew';
    const result = oneProcessResult(comm, '/data/we"ird\\dir/x.my"ext\\');
    const families = parsePrometheusTextFormat(formatProm(result, { topPatterns: 5 }));
    const deleted = families.find((f) => f.name === 'orphanmap_process_deleted_mappings')!;
    // The newline reaches the reader as the two characters \n, as the text view shows it.
    expect(deleted.metrics).toEqual([{ value: '2', labels: { pid: '42', comm: 'ja"va\\x\\nnew' } }]);
    const patterns = families.find((f) => f.name === 'orphanmap_process_deleted_pattern_mappings')!;
    expect(patterns.metrics.map((m) => m.labels?.pattern).sort()).toEqual(['*.index.deleted', 'x.my"ext\\'].sort());
    const outcomes = families.find((f) => f.name === 'orphanmap_scan_processes')!;
    expect(outcomes.metrics.map((m) => [m.labels?.result, m.value])).toEqual([
      ['scanned', '1'],
      ['vanished', '0'],
      ['denied', '0'],
      ['no_address_space', '1'],
      ['unreadable', '0'],
    ]);
    expect(families.every((f) => f.type === 'GAUGE' && f.name.startsWith('orphanmap_'))).toBe(true);
  });

  it('adds growth and the time to vm.max_map_count when watching', () => {
    const result = oneProcessResult('java', '/k/1.index.deleted');
    const growth = new Map([[42, { pid: 42, samples: 3, spanMs: HOUR, mappingsPerHour: 100, deletedMappingsPerHour: 50, deletedBytesPerHour: 0, projection: projectMapLimit(2, 65530, 100, 0) }]]);
    const families = parsePrometheusTextFormat(formatProm(result, { topPatterns: 5, growth }));
    const eta = families.find((f) => f.name === 'orphanmap_process_max_map_count_eta_seconds')!;
    expect(Number(eta.metrics[0]!.value)).toBe(Math.round(((65530 - 2) / 100) * 3600));
  });
});

describe('--format text', () => {
  it('never prints a control character from comm or a path', () => {
    const text = formatScanText(oneProcessResult('evil\x1b[2J\r', '/tmp/\x1b]0;pwned\x07.index\u202e'), { top: 5, all: true });
    expect(text).toContain('evil\\x1b[2J\\r');
    expect(text).toContain('/tmp/\\x1b]0;pwned\\x07.index\\u202e');
    expect(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/.test(text)).toBe(false);
  });
});

describe('--format json', () => {
  it('writes C1 controls and bidi overrides from comm and paths as \\u escapes that parse back', async () => {
    const comm = 'ja\u202eva';
    const path = '/k/csi\u009b2J/0.index.deleted';
    let stdout = '';
    const reader = fakeProc({ 'sys/vm/max_map_count': '65530\n', '10/maps': mapsLine(0x7f0000000000, 0x1000, `${path} (deleted)`), '10/comm': `${comm}\n` });
    expect(await runScan({ pid: [10], format: 'json', top: 5 }, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, reader })).toBe(0);
    expect(stdout).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/);
    expect(stdout).toContain('ja\\u202eva');
    const doc = JSON.parse(stdout) as { processes: { comm: string; deletedFiles: { path: string }[] }[] };
    expect(doc.processes[0]!.comm).toBe(comm);
    expect(doc.processes[0]!.deletedFiles[0]!.path).toBe(path);
  });
});

describe('growth and projection', () => {
  it('fits a slope per hour over noisy samples', () => {
    expect(slopePerHour([{ time: 0, value: 100 }])).toBeNull();
    expect(
      slopePerHour([
        { time: 5, value: 1 },
        { time: 5, value: 9 },
      ]),
    ).toBeNull();
    expect(
      slopePerHour([
        { time: 0, value: 100 },
        { time: HOUR / 2, value: 150 },
      ]),
    ).toBeCloseTo(100);
    const noisy = [0, 1, 2, 3, 4].map((i) => ({ time: i * 60_000, value: 1000 + i * 10 + (i % 2 === 0 ? 3 : -3) }));
    expect(slopePerHour(noisy)).toBeCloseTo(10 * 60, 6); // noise symmetric about the middle sample does not tilt the fit
  });

  it('projects when the map count reaches vm.max_map_count', () => {
    expect(projectMapLimit(60_000, 65_530, 553, 0)).toEqual({ kind: 'eta', hours: 10, at: 10 * HOUR });
    expect(projectMapLimit(60_000, 65_530, 0, 0)).toEqual({ kind: 'not-growing' });
    expect(projectMapLimit(60_000, 65_530, -5, 0)).toEqual({ kind: 'not-growing' });
    expect(projectMapLimit(65_530, 65_530, 10, 0)).toEqual({ kind: 'at-limit' });
    expect(projectMapLimit(100, 65_530, null, 0)).toEqual({ kind: 'unknown', why: 'one-sample' });
    expect(projectMapLimit(100, null, 10, 0)).toEqual({ kind: 'unknown', why: 'no-max-map-count' });
    expect(projectionText({ kind: 'eta', hours: 10, at: Date.UTC(2025, 0, 1, 10, 0) }, 0)).toBe('in 10.0 h (2025-01-01 10:00Z)');
    expect(durationText(0.25)).toBe('15 min');
    expect(durationText(72)).toBe('3.0 days');
  });

  it('tracks each process across scans and starts over when its comm changes', () => {
    const tracker = new GrowthTracker();
    const scan = (time: number, comm: string, mappings: number, deleted: number): ScanResult => {
      const lines = [
        ...Array.from({ length: mappings - deleted }, (_, i) => mapsLine(0x7e0000000000 + i * 0x2000, 0x1000, '/lib/x.so')),
        ...Array.from({ length: deleted }, (_, i) => mapsLine(0x7f0000000000 + i * 0x2000, 0x1000, `/k/${i}.index.deleted (deleted)`)),
      ];
      return { time, durationMs: 0, maxMapCount: 1000, processes: [summarizeEntries(7, comm, parseMaps(lines.join('\n')).entries, 1000)], skipped: [] };
    };
    expect(tracker.record(scan(0, 'java', 100, 10)).get(7)?.projection).toEqual({ kind: 'unknown', why: 'one-sample' });
    tracker.record(scan(HOUR / 2, 'java', 150, 30));
    const third = tracker.record(scan(HOUR, 'java', 200, 50)).get(7)!;
    expect(third.mappingsPerHour).toBeCloseTo(100);
    expect(third.deletedMappingsPerHour).toBeCloseTo(40);
    expect(third.projection).toMatchObject({ kind: 'eta', hours: 8 });
    expect(tracker.record(scan(2 * HOUR, 'bash', 200, 50)).get(7)?.samples).toBe(1);
  });
});

describe('--watch', () => {
  function growingProc(): ProcReader {
    let reads = 0;
    return {
      list: async () => ['7'],
      exists: async () => true,
      read: async (relative) => {
        if (relative === 'sys/vm/max_map_count') return '65530\n';
        if (relative === '7/comm') return 'java\n';
        reads++;
        return Array.from({ length: 10 + reads * 5 }, (_, i) => mapsLine(0x7f0000000000 + i * 0x2000, 0x1000, `/k/${i}.index.deleted (deleted)`)).join('\n');
      },
    };
  }

  it('rescans, shows growth, and ends with 130 when stopped', async () => {
    const controller = new AbortController();
    const chunks: string[] = [];
    const flags: ScanFlags = { format: 'json', watch: 0.1, top: 5 };
    const done = runScan(flags, {
      stdout: {
        write: (text: string) => {
          chunks.push(text);
          if (chunks.length === 3) controller.abort();
        },
      },
      stderr: { write: () => true },
      signal: controller.signal,
      reader: growingProc(),
    });
    expect(await done).toBe(130);
    expect(chunks).toHaveLength(3);
    const docs = chunks.map((chunk) => JSON.parse(chunk) as { processes: { deletedMappings: number; growth: { mappingsPerHour: number | null; projection: { kind: string } } }[] });
    expect(docs.map((d) => d.processes[0]!.deletedMappings)).toEqual([15, 20, 25]);
    expect(docs[0]!.processes[0]!.growth.mappingsPerHour).toBeNull();
    expect(docs[2]!.processes[0]!.growth.mappingsPerHour).toBeGreaterThan(0);
    expect(docs[2]!.processes[0]!.growth.projection.kind).toBe('eta');
  });

  it('refuses an interval under 0.1 s or over a day with exit 2: 1e-9 was a busy loop', async () => {
    for (const value of ['1e-9', '0', '0.099', '-1', '', 'NaN', 'Infinity', '1e7', '86401']) {
      const program = new Command('orphanmap').exitOverride();
      registerScan(program, { stdout: { write: () => true }, stderr: { write: () => true }, reader: growingProc() });
      const running = program.parseAsync(['scan', '--watch', value], { from: 'user' });
      await expect(running, value).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('--watch needs seconds from 0.1 to 86400') });
    }
    await expect(runScan({ format: 'text', top: 5, watch: 1e-9 }, { stdout: { write: () => true }, stderr: { write: () => true }, reader: growingProc() })).rejects.toThrow(UsageError);
  });

  it('pauses at least 0.1 s between scans even when a scan takes longer than the interval', async () => {
    let now = 0;
    const pauses: number[] = [];
    const controller = new AbortController();
    const slow = growingProc();
    const reader: ProcReader = {
      ...slow,
      read: async (relative) => {
        now += 5_000; // every read takes 5 s of the watch's clock
        return slow.read(relative);
      },
    };
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        pauses.push(ms);
        now += ms;
        if (pauses.length === 4) controller.abort();
      },
    };
    const code = await runScan({ format: 'json', watch: 1, top: 5 }, { stdout: { write: () => true }, stderr: { write: () => true }, reader, clock, signal: controller.signal });
    expect(code).toBe(130);
    expect(pauses).toEqual([100, 100, 100, 100]);
  });

  it('says once on stderr that a requested pid went away while watching, and goes on', async () => {
    let rounds = 0;
    const stderr: string[] = [];
    const controller = new AbortController();
    const reader: ProcReader = {
      list: async () => ['7'],
      exists: async () => rounds < 2,
      read: async (relative) => {
        if (relative === 'sys/vm/max_map_count') return '65530\n';
        if (relative === '7/maps' && ++rounds > 2) throw errno('ENOENT');
        return relative === '7/comm' ? 'java\n' : mapsLine(0x7f0000000000, 0x1000, '/k/0.index.deleted (deleted)');
      },
    };
    const clock = { now: () => 0, sleep: async () => void (rounds >= 5 && controller.abort()) };
    const code = await runScan(
      { pid: [7], format: 'json', watch: 1, top: 5 },
      { stdout: { write: () => true }, stderr: { write: (t: string) => stderr.push(t) }, reader, clock, signal: controller.signal },
    );
    expect(code).toBe(130);
    expect(stderr).toEqual(['orphanmap: warning: pid 7: no such process\n']);
  });

  it('listens for SIGINT while watching and lets go of it afterwards', async () => {
    const before = process.listeners('SIGINT');
    let stdout = '';
    const program = new Command('orphanmap').exitOverride();
    registerScan(program, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, reader: growingProc() });
    const saved = process.exitCode;
    const running = program.parseAsync(['scan', '--watch', '0.1'], { from: 'user' });
    while (!stdout.includes('AT MAX_MAP_COUNT')) await new Promise((resolve) => setTimeout(resolve, 5));
    const added = process.listeners('SIGINT').filter((listener) => !before.includes(listener));
    expect(added).toHaveLength(1);
    added[0]!('SIGINT');
    await running;
    expect(process.exitCode).toBe(130);
    process.exitCode = saved;
    expect(process.listeners('SIGINT')).toEqual(before);
  });
});
