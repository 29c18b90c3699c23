// Review 14, M4: the resize signature (remapped-without-unmap) was missed when
// the file grew by write, pwrite or fallocate instead of ftruncate: only a
// truncate in the trace counted as a size change, and the recommended strace
// filter leaves the others out. A second mapping of the same file, in the same
// address space, overlapping the live older one and longer than it (reaching
// further into the file) now says the file grew out of the trace's sight.
//
// The truth is what each program read from its own /proc/self/maps while its
// mappings lived: test/scenarios/grown-remap.py (Python: os.posix_fallocate,
// os.pwrite; and two readers of one file at the same length, which is no
// resize) and test/scenarios/GrowByWrite.java (a Java thread's
// FileChannel.write past the end, then FileChannel.map again; and a
// FileChannel.truncate, the resize the trace shows, whose finding is as before).
// Each under real strace, filtered as a user does and unfiltered.
//
// Needs strace, /usr/bin/python3, java and javac.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GROWN_OUT_OF_SIGHT } from '../src/engine/finding-log.js';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const SCENARIOS = join(REPO, 'test', 'scenarios');
const MIB = 1 << 20;

/** The capture forms: a user's short filter (no write, pwrite or fallocate in it), and no filter. */
const FORMS: [string, string[]][] = [
  ['filtered to openat,mmap,munmap,ftruncate,rename,unlink', ['-e', 'trace=openat,mmap,munmap,ftruncate,rename,unlink']],
  ['unfiltered', []],
];

interface PyTruth {
  pid: number;
  live: { address: string; bytes: number; path: string; deleted: boolean }[];
  remaps: { path: string; old: string; oldBytes: number; new: string; newBytes: number }[];
  leaks: unknown[];
}

interface Report {
  findings: Finding[];
  warnings: string[];
}

/** `strace -f -ttt -y [filter] -o trace.txt ARGV` in a workspace of its own, and orphanmap's JSON report of the trace. */
function traced(name: string, filter: string[], argv: (dir: string) => string[]): { dir: string; stdout: string; report: Report } {
  const dir = workspace(name);
  const input = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-y', ...filter, '-o', input, ...argv(dir)], { encoding: 'utf8', timeout: 50_000 });
  expect(run.status, run.stderr).toBe(0);
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { dir, stdout: run.stdout, report: JSON.parse(result.stdout) as Report };
}

function tracedPython(mode: string, filter: string[]): { truth: PyTruth; report: Report } {
  const { dir, report } = traced(`grown-${mode}`, filter, (d) => [PYTHON, join(SCENARIOS, 'grown-remap.py'), join(d, 'w'), mode]);
  return { truth: JSON.parse(readFileSync(join(dir, 'w', 'truth.json'), 'utf8')) as PyTruth, report };
}

/** Each remap finding as pid, old mapping (address, bytes), new address, path and whether its note says the size change is not in the trace. */
const remapsSeen = (findings: Finding[]) =>
  findings
    .filter((finding) => finding.kind === 'remapped-without-unmap')
    .map(
      (finding) =>
        `${finding.severity} pid ${finding.pid} ${finding.address} ${finding.length} -> ${finding.newAddress} ${finding.path} ${finding.note === GROWN_OUT_OF_SIGHT ? 'grown out of sight' : `note ${finding.note}`}`,
    );

let javaClasses: string;

beforeAll(() => {
  for (const tool of ['strace', PYTHON, 'java', 'javac']) requireTool(tool);
  javaClasses = workspace('grown-java-classes');
  const compiled = spawnSync('javac', ['-d', javaClasses, join(SCENARIOS, 'GrowByWrite.java')], { encoding: 'utf8' });
  expect(compiled.status, compiled.stderr).toBe(0);
}, 30_000);

describe('M4: a file grown without ftruncate, mapped again longer while its older mapping lives (Python)', () => {
  for (const [form, filter] of FORMS) {
    it.each(['grown-by-fallocate', 'grown-by-write'])(`${form}, %s: the remap /proc showed, with the note that the size change is not in the trace`, (mode) => {
      const { truth, report } = tracedPython(mode, filter);
      expect(truth.remaps).toHaveLength(1);
      const [remap] = truth.remaps;
      expect(remap!.newBytes).toBeGreaterThan(remap!.oldBytes);
      expect(remapsSeen(report.findings)).toEqual([`warning pid ${truth.pid} ${remap!.old} ${remap!.oldBytes} -> ${remap!.new} ${remap!.path} grown out of sight`]);
      // Nothing was unlinked: no other finding.
      expect(truth.leaks).toEqual([]);
      expect(report.findings).toHaveLength(1);
    });

    it(`${form}, same-length: two mappings of one file at one length in a process, a third in a forked child, a window onto the part written since, and the segments of libraries ld.so loaded: no remap`, () => {
      const { truth, report } = tracedPython('same-length', filter);
      const lengths = (name: string) => truth.live.filter((mapping) => mapping.path.endsWith(`/${name}`)).map((mapping) => mapping.bytes);
      // The truth shows what the case is about: both readers' mappings live at once, both windows of g.dat live at once.
      expect(lengths('r.dat')).toEqual([65536, 65536]);
      expect(lengths('g.dat')).toEqual([65536, 65536]);
      expect(report.findings).toEqual([]);
    });
  }
});

describe('M4: a Java thread grows its file with FileChannel.write and maps it again (MappedByteBuffer), the old buffer live', () => {
  for (const [form, filter] of FORMS) {
    it(`${form}: the grown file's remap says the size change is not in the trace; the truncated file's is as the trace shows it`, () => {
      const { dir, stdout, report } = traced('grown-java', filter, (d) => ['java', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', javaClasses, 'GrowByWrite', join(d, 'w')]);
      const pid = Number(/^TRUTHPID (\d+)$/m.exec(stdout)?.[1]);
      // /proc/self/maps as the JVM printed it before it exited: every buffer it made, live.
      const maps = [...stdout.matchAll(/^TRUTH ([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+(\S+)$/gm)].map(([, start, end, path]) => ({
        address: `0x${start}`,
        bytes: Number.parseInt(end!, 16) - Number.parseInt(start!, 16),
        path: path!,
      }));
      const of = (name: string) => maps.filter((mapping) => mapping.path === join(dir, 'w', name));
      const grown = of('grown.idx');
      const shrunk = of('shrunk.idx');
      expect(grown.map((mapping) => mapping.bytes).sort()).toEqual([MIB, MIB + 3 * 4096].sort());
      expect(shrunk.map((mapping) => mapping.bytes).sort()).toEqual([8192, MIB].sort());
      const oldGrown = grown.find((mapping) => mapping.bytes === MIB)!;
      const newGrown = grown.find((mapping) => mapping.bytes !== MIB)!;
      const oldShrunk = shrunk.find((mapping) => mapping.bytes === MIB)!;
      const newShrunk = shrunk.find((mapping) => mapping.bytes !== MIB)!;
      expect(remapsSeen(report.findings).sort()).toEqual(
        [
          `warning pid ${pid} ${oldGrown.address} ${MIB} -> ${newGrown.address} ${oldGrown.path} grown out of sight`,
          `warning pid ${pid} ${oldShrunk.address} ${MIB} -> ${newShrunk.address} ${oldShrunk.path} note null`,
        ].sort(),
      );
    });
  }
});
