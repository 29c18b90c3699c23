import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { deletedKind, filePattern, hexAddress, isDeletedFile, mapsLookup, parseDev, parseMaps, parseMapsLine } from '../src/parse/maps.js';
import { patternGroups } from '../src/report/ticket.js';
import { summarizeEntries } from '../src/scan/aggregate.js';

describe('parseMapsLine', () => {
  it('reads a mapping of a deleted Kafka index, as the JVM reproducer prints it', () => {
    const entry = parseMapsLine('7f87db600000-7f87dc000000 rw-s 00000000 fe:00 2164443                    /tmp/orphanmap-repro-322/topic-1/00000000000000001000.timeindex.deleted (deleted)');
    expect(entry).toEqual({
      start: 0x7f87db600000,
      end: 0x7f87dc000000,
      perms: 'rw-s',
      offset: 0,
      dev: 'fe:00',
      inode: 2164443,
      path: '/tmp/orphanmap-repro-322/topic-1/00000000000000001000.timeindex.deleted',
      deleted: true,
    });
    expect(entry!.end - entry!.start).toBe(10 * 1024 * 1024);
  });

  it('keeps spaces inside a path and strips only the final " (deleted)"', () => {
    const entry = parseMapsLine('7f0000000000-7f0000001000 r--s 00001000 08:01 42                         /data/my dir/a (deleted) b.index (deleted)');
    expect(entry?.path).toBe('/data/my dir/a (deleted) b.index');
    expect(entry?.deleted).toBe(true);
    expect(entry?.offset).toBe(0x1000);
  });

  it('reads anonymous mappings with and without the trailing space', () => {
    for (const text of ['7ffd1c1e6000-7ffd1c1ea000 rw-p 00000000 00:00 0 ', '7ffd1c1e6000-7ffd1c1ea000 rw-p 00000000 00:00 0']) {
      expect(parseMapsLine(text)).toMatchObject({ inode: 0, path: '', deleted: false, perms: 'rw-p' });
    }
  });

  it('reads pseudo names: heap, stack, vdso, named anonymous memory', () => {
    expect(parseMapsLine('55e701f63000-55e701f84000 rw-p 00000000 00:00 0                          [heap]')?.path).toBe('[heap]');
    expect(parseMapsLine('7ffd1c1c5000-7ffd1c1e6000 rw-p 00000000 00:00 0                          [stack]')?.path).toBe('[stack]');
    expect(parseMapsLine('7ffd1c1ee000-7ffd1c1f0000 r-xp 00000000 00:00 0                          [vdso]')?.path).toBe('[vdso]');
    expect(parseMapsLine('7f3a0c000000-7f3a0c021000 rw-p 00000000 00:00 0                          [anon:libc_malloc]')?.path).toBe('[anon:libc_malloc]');
  });

  it('keeps [vsyscall] exact although its address is above 2^53', () => {
    const entry = parseMapsLine('ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]');
    expect(entry).not.toBeNull();
    expect(hexAddress(entry!.start)).toBe('0xffffffffff600000');
    expect(entry!.end - entry!.start).toBe(4096);
  });

  it('reads a path that is longer than the padding column, and a three-digit major', () => {
    const entry = parseMapsLine('7f0000000000-7f0000001000 r--p 00000000 103:02 18446744 /x');
    expect(entry).toMatchObject({ dev: '103:02', inode: 18446744, path: '/x' });
    expect(parseDev('103:02')).toEqual({ major: 0x103, minor: 2 });
  });

  it("keeps control characters and the kernel's \\012 newline escape as printed", () => {
    const entry = parseMapsLine('7f0000000000-7f0000001000 rw-s 00000000 fe:00 7                          /tmp/a\\012b\x1b[31m.index.deleted (deleted)');
    expect(entry?.path).toBe('/tmp/a\\012b\x1b[31m.index.deleted');
  });

  it('tolerates CRLF', () => {
    expect(parseMapsLine('7f0000000000-7f0000001000 r--p 00000000 fe:00 7    /lib/x.so\r')?.path).toBe('/lib/x.so');
  });

  it('returns null for lines that are not maps lines', () => {
    for (const text of [
      '',
      'garbage',
      '7f0000000000-7f0000001000',
      '7f0000000000-7f0000001000 rw-p 00000000 00:00',
      'zz0000000000-7f0000001000 rw-p 00000000 00:00 0',
      '7f0000001000-7f0000000000 rw-p 00000000 00:00 0', // end before start
      '7f0000000000-7f0000001000 rwzp 00000000 00:00 0',
      '7f0000000000-7f0000001000 rw-p 00000000 0000 0',
      '7f0000000000-7f0000001000 rw-p 00000000 00:00 12a',
      'Size:                132 kB', // an smaps field line
    ]) {
      expect(parseMapsLine(text), text).toBeNull();
    }
  });
});

describe('parseMaps', () => {
  it("reads every line of this process's real /proc/self/maps", () => {
    const text = readFileSync('/proc/self/maps', 'utf8');
    const lines = text.split('\n').filter((line) => line !== '');
    const parsed = parseMaps(text);
    expect(parsed.badLines).toBe(0);
    expect(parsed.entries).toHaveLength(lines.length);
    for (const [index, entry] of parsed.entries.entries()) {
      const line = lines[index]!;
      // Rebuild the address range and the name from the parsed numbers.
      expect(line.startsWith(`${entry.start.toString(16).padStart(8, '0')}-${entry.end.toString(16).padStart(8, '0')} ${entry.perms} `)).toBe(true);
      expect(line.trimEnd().endsWith(entry.path + (entry.deleted ? ' (deleted)' : ''))).toBe(true);
    }
    expect(parsed.entries.some((entry) => entry.path === '[stack]')).toBe(true);
    expect(parsed.entries.some((entry) => entry.path.endsWith('/node') || entry.path.includes('node'))).toBe(true);
  });

  it('counts and samples bad lines with their line numbers, and skips blank ones', () => {
    const parsed = parseMaps(['7f0000000000-7f0000001000 r--p 00000000 fe:00 7    /lib/x.so', '', 'not a line', '7f0000001000-7f0000002000 r--p 00000000 00:00 0 ', 'again not', ''].join('\n'));
    expect(parsed.entries).toHaveLength(2);
    expect(parsed.badLines).toBe(2);
    expect(parsed.badSamples).toEqual([
      { line: 3, text: 'not a line' },
      { line: 5, text: 'again not' },
    ]);
  });
});

describe('mapsLookup', () => {
  /** A scan of the lines in file order: the line that starts at the address, else the first that holds it (review 2, finding 9). */
  const byScan = <E extends { start: number; end: number }>(entries: readonly E[], address: number) =>
    entries.find((entry) => entry.start === address && address < entry.end) ?? entries.find((entry) => entry.start <= address && address < entry.end);
  /** Every address where the answer may change: each line's first and last byte, and the bytes around them. */
  const edges = (entries: readonly { start: number; end: number }[]) => entries.flatMap((entry) => [entry.start - 1, entry.start, entry.start + 1, entry.end - 1, entry.end, entry.end + 1]);

  it("finds the line that holds an address, as a scan does, on this process's real /proc/self/maps", () => {
    const entries = parseMaps(readFileSync('/proc/self/maps', 'utf8')).entries;
    expect(entries.length).toBeGreaterThan(10);
    const lineAt = mapsLookup(entries);
    for (const address of [0, ...edges(entries), 2 ** 64 - 1]) expect(lineAt(address)).toBe(byScan(entries, address));
    // The kernel's order: the binary search answers, every line is found.
    for (const entry of entries) expect(lineAt(entry.start)).toBe(entry);
  });

  it('answers as a scan of the lines does when they are not in address order, overlap or are empty', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const entries = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
        const start = Math.floor(random() * 64) * 4096;
        return { start, end: start + Math.floor(random() * 4) * 4096 };
      });
      if (round % 2 === 0) entries.sort((a, b) => a.start - b.start);
      const lineAt = mapsLookup(entries);
      for (const address of edges(entries)) expect(lineAt(address)).toBe(byScan(entries, address));
    }
  });
});

describe('deleted kinds', () => {
  it('tells unlinked files from objects that never had a name', () => {
    expect(deletedKind('/kafka-logs/t-0/00000000000000000000.index.deleted')).toBe('file');
    expect(deletedKind('/dev/shm/.org.chromium.Chromium.x1')).toBe('file');
    expect(deletedKind('/dev/zero')).toBe('shared-anonymous');
    expect(deletedKind('/memfd:java_heap')).toBe('memfd');
    expect(deletedKind('/SYSV0000002a')).toBe('sysv-shm');
    expect(deletedKind('/[aio]')).toBe('aio');
    const memfd = parseMapsLine('7f0000000000-7f0000001000 rw-s 00000000 00:01 1025                       /memfd:java_heap (deleted)')!;
    expect(memfd.deleted).toBe(true);
    expect(isDeletedFile(memfd)).toBe(false);
  });

  it('takes a name of a kernel object on a block device for a file (review 22: a mount namespace printed them so)', () => {
    // As /proc printed the files of test/scenarios/kernel-names-on-disk.sh (ext4 on fe:00), and the real objects (00:01).
    for (const [path, kind] of [
      ['/memfd:cache', 'memfd'],
      ['/SYSV00001234', 'sysv-shm'],
      ['/dev/zero', 'shared-anonymous'],
    ] as const) {
      const onDisk = parseMapsLine(`7fc803552000-7fc803652000 rw-s 00000000 fe:00 3219884                    ${path} (deleted)`)!;
      expect(isDeletedFile(onDisk), path).toBe(true);
      const kernel = parseMapsLine(`7fab5bc77000-7fab5bc78000 rw-s 00000000 00:01 70                         ${path} (deleted)`)!;
      expect(isDeletedFile(kernel), path).toBe(false);
      expect(deletedKind(path, kernel.inode, kernel.dev)).toBe(kind);
    }
  });

  it('takes "#<inode>" named after its own inode for an O_TMPFILE file that never had a name', () => {
    // As this kernel prints an O_TMPFILE mapping in /tmp (ext4) and /dev/shm (tmpfs).
    const tmp = parseMapsLine('7f03870bc000-7f03870be000 rw-s 00000000 fe:00 2147256                    /tmp/#2147256 (deleted)')!;
    const shm = parseMapsLine('7efe8de24000-7efe8de26000 rw-s 00000000 00:1b 3                          /dev/shm/#3 (deleted)')!;
    expect(deletedKind(tmp.path, tmp.inode)).toBe('tmpfile');
    expect(isDeletedFile(tmp)).toBe(false);
    expect(isDeletedFile(shm)).toBe(false);
    // A deleted file that happens to be named "#<digits>" with another inode had a name: a leak.
    const named = parseMapsLine('7f03870bc000-7f03870be000 rw-s 00000000 fe:00 2147999                    /tmp/#2147256 (deleted)')!;
    expect(isDeletedFile(named)).toBe(true);
    expect(deletedKind('/tmp/#12ab', 12)).toBe('file');
    expect(deletedKind('/tmp/x#12', 12)).toBe('file');
    expect(deletedKind('/tmp/#12')).toBe('tmpfile');
  });
});

describe('filePattern', () => {
  it.each([
    ['/kafka-logs/t-0/00000000000000000000.index.deleted', '*.index.deleted'],
    ['/kafka-logs/t-0/00000000000000001000.timeindex.deleted', '*.timeindex.deleted'],
    ['/kafka-logs/t-0/00000000000000001000.txnindex', '*.txnindex'],
    ['/kafka-logs/t-0/00000000000000001000.log.deleted', '*.log.deleted'],
    ['/data/nodes/0/indices/Xy/0/index/_1a_Lucene90_0.dvd', '*.dvd'],
    ['/data/nodes/0/indices/Xy/0/index/_0.cfs', '*.cfs'],
    ['/data/nodes/0/indices/Xy/0/index/_a.cfs', '*.cfs'],
    ['/data/nodes/0/indices/Xy/0/index/segments_1', 'segments_*'],
    ['/data/nodes/0/indices/Xy/0/translog/translog-12.tlog', '*.tlog'],
    ['/queue/20231201.cq4', '*.cq4'],
    ['/queue/20231201-12.cq4', '*.cq4'],
    ['/queue/metadata.cq4t', 'metadata.cq4t'],
    ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'libc.so.*'],
    ['/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0', '*.*.so.*.*'],
    ['/var/log/app.log.1', 'app.log.*'],
    ['/var/log/app.1.log', 'app.*.log'],
    ['/tmp/hsperfdata_kafka/5958', 'hsperfdata_kafka/*'],
    ['/var/lib/rocksdb/MANIFEST-000005', 'MANIFEST-*'],
    ['/data/.nfs000000000012abcd00000001', '.nfs*'],
    ['/SYSV0000002a', 'SYSV*'],
    ['/memfd:java_heap', 'memfd:java_heap'],
    // Random parts (review 61, F-4): mkstemp's suffix, Varnish's segment ids.
    ['/var/lib/varnish/varnish.4fNV3F', 'varnish.*'],
    ['/var/lib/varnish/v2/_.vsm_child/_.Log.13287d42820e1494', '*.Log.*'],
    ['/var/lib/varnish/v2/_.vsm_mgt/_.Arg.5d140e3d0cc62d5f', '*.Arg.*'],
    ['/data/index.tar.gz', 'index.tar.gz'],
    ['/data/archive.backup', 'archive.backup'],
    ['/home/u/.mozilla/places.sqlite3', 'places.sqlite3'],
    ['[heap]', '[heap]'],
    ['/5958', '*'],
    ['', ''],
  ])('%s → %s', (path, pattern) => {
    expect(filePattern(path)).toBe(pattern);
  });

  it('groups files the same way in scan and in reports', () => {
    const paths = ['/k/t-0/00000000000000001000.index.deleted', '/i/_0.cfs', '/i/_1.cfs', '/var/log/app.1.log', '/var/log/app.2.log', '/tmp/hsperfdata_kafka/5958', '/db/segments_1'];
    const entries = paths.map((path, i) => parseMapsLine(`7f00000${i}0000-7f00000${i}1000 rw-s 00000000 fe:00 ${100 + i}                    ${path} (deleted)`)!);
    const scanned = summarizeEntries(1, 'java', entries, 65530).patterns.map((p) => [p.pattern, p.files]);
    const reported = patternGroups(paths.map((path, i) => ({ ...FINDING, id: `F${i}`, path, names: [path] }))).map((g) => [g.pattern, g.findings.length]);
    const sorted = (rows: (string | number)[][]) => [...rows].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(sorted(reported)).toEqual(sorted(scanned));
    expect(sorted(reported)).toEqual([
      ['*.cfs', 2],
      ['*.index.deleted', 1],
      ['app.*.log', 2],
      ['hsperfdata_kafka/*', 1],
      ['segments_*', 1],
    ]);
  });
});

const FINDING: Finding = {
  id: 'F1',
  kind: 'unlinked-while-mapped',
  severity: 'error',
  pid: 1,
  path: '',
  names: [],
  address: '0x7f0000000000',
  length: 4096,
  mappedAt: null,
  unlinkedAt: null,
  remappedAt: null,
  newAddress: null,
  resolution: 'still-mapped',
  resolvedAt: null,
  delayMs: null,
  confirmedByMaps: null,
  evidence: [],
  note: null,
};
