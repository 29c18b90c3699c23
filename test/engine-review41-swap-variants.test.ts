// Review 41 (code review of review 40 F1's fix): the ways a deploy swaps a
// release symlink, as strace -yy prints them. /w/live -> /w/rel1 when the
// program maps /w/live/data.bin; the kernel's path of its fd is rel1's. What
// each trace's own calls say the truth is: which file each unlink reached.
// - F0: by relative names, the swap by a symlink renamed over (the trace made
//   it): the unlink reaches rel2/data.bin, never mapped. Clean (it was a
//   doubt, its warning naming the mapped file by the name it had lost).
// - F1: the swap not atomic (`rm live; ln -s rel2 live`): the same, clean (a
//   doubt: the symlink made was not taken as telling where the name leads).
// - F2: the file held by an fd, not mapped, at the first unlink through the
//   swapped name; mapped, then the swap reversed out of sight (a rename of a
//   symlink the trace did not see made) and the name removed: the trace cannot
//   tell which file went, so the mapping is in doubt (the first call had used
//   up the name: clean, exit 0).
// - F3: the mapped file moved over the symlink it was reached through
//   (`mv live/data.bin live`), then removed: its last name went while it was
//   mapped, a leak (it kept rel1/data.bin, which the move took from it: clean).
// - F6: /w is a symlink to /data/w made before the trace (strace prints
//   rel1's file as /data/w/rel1/data.bin); swapped to rel2 and back to rel1 by
//   the trace's own symlinks, then /w/live/data.bin removed: that is the mapped
//   file, which the trace cannot prove: in doubt (it was clean).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { runCli } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'om-review41-'));

interface Report {
  findings: Finding[];
  warnings: string[];
  summary: { mappingsInDoubt: number };
}

/** The calls after `t` timestamps, as strace -f -ttt -yy prints them for pid 7001, then its exit. */
function analyzed(name: string, calls: string[]): { report: Report; trace: string } {
  const trace = join(scratch, `${name}.txt`);
  const lines = [...calls, 'exit_group(0) = ?', '+++ exited with 0 +++'].map((call, k) => `7001 1796150310.${String(k + 1).padStart(6, '0')} ${call}`);
  writeFileSync(trace, `${lines.join('\n')}\n`);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return { report: JSON.parse(result.stdout) as Report, trace };
}

const MAP = ['mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_SHARED, 3</w/rel1/data.bin>, 0) = 0x7f0000000000', 'close(3</w/rel1/data.bin>) = 0'];
const doubts = (report: Report) => report.warnings.filter((warning) => warning.includes('in doubt'));

/** No finding, nothing in doubt, no warning of a doubt. */
function expectClean(report: Report): void {
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(doubts(report)).toEqual([]);
}

describe('a release symlink swapped under a mapped file, as deploys do it', () => {
  it('F0: by relative names, swapped by a symlink renamed over: the removal reached the new release; clean', () => {
    const { report } = analyzed('relative', [
      'chdir("/w") = 0',
      'openat(AT_FDCWD</w>, "live/data.bin", O_RDWR|O_CLOEXEC) = 3</w/rel1/data.bin>',
      ...MAP,
      'symlink("rel2", "live.new") = 0',
      'rename("live.new", "live") = 0',
      'unlink("live/data.bin") = 0',
      'munmap(0x7f0000000000, 65536) = 0',
    ]);
    expectClean(report);
  });

  it('F1: swapped by an unlink and a symlink: clean', () => {
    const { report } = analyzed('nonatomic', [
      'openat(AT_FDCWD, "/w/live/data.bin", O_RDWR|O_CLOEXEC) = 3</w/rel1/data.bin>',
      ...MAP,
      'unlink("/w/live") = 0',
      'symlink("rel2", "/w/live") = 0',
      'unlink("/w/live/data.bin") = 0',
      'munmap(0x7f0000000000, 65536) = 0',
    ]);
    expectClean(report);
  });

  it('F2: a first removal through the swapped name while the file is not mapped leaves the later one, once it is, in doubt', () => {
    const { report, trace } = analyzed('held', [
      'openat(AT_FDCWD, "/w/live/data.bin", O_RDWR|O_CLOEXEC) = 3</w/rel1/data.bin>',
      'rename("/w/live.new", "/w/live") = 0',
      'unlink("/w/live/data.bin") = 0',
      ...MAP,
      'rename("/w/live.old", "/w/live") = 0',
      'unlink("/w/live/data.bin") = 0',
      'munmap(0x7f0000000000, 65536) = 0',
    ]);
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(doubts(report)).toEqual([
      expect.stringMatching(new RegExp(`^unlink of /w/live/data\\.bin at ${trace}:7 \\(process 7001\\) named no file the trace knows, but that name led to the file named /w/rel1/data\\.bin`)),
    ]);
  });

  it('F3: the file moved over the symlink it was opened through, then removed: the one leak', () => {
    const { report, trace } = analyzed('moved-over-its-symlink', [
      'openat(AT_FDCWD, "/w/live/data.bin", O_RDWR|O_CLOEXEC) = 3</w/rel1/data.bin>',
      ...MAP,
      'rename("/w/live/data.bin", "/w/live") = 0',
      'unlink("/w/live") = 0',
      'munmap(0x7f0000000000, 65536) = 0',
    ]);
    expect(report.findings.map((finding) => `${finding.kind} ${finding.severity} ${finding.address} ${finding.path} ${finding.unlinkedAt?.line}`)).toEqual([
      `unlinked-while-mapped error 0x7f0000000000 /w/live 5`,
    ]);
    expect(report.findings[0]!.unlinkedAt?.file).toBe(trace);
    expect(report.summary.mappingsInDoubt).toBe(0);
  });

  it('F6: swapped and swapped back by the trace’s own symlinks, under a directory symlinked before the trace: in doubt', () => {
    const { report } = analyzed('through-unknown-link', [
      'openat(AT_FDCWD, "/w/live/data.bin", O_RDWR|O_CLOEXEC) = 3</data/w/rel1/data.bin>',
      'mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_SHARED, 3</data/w/rel1/data.bin>, 0) = 0x7f0000000000',
      'close(3</data/w/rel1/data.bin>) = 0',
      'symlink("rel2", "/w/live.new") = 0',
      'rename("/w/live.new", "/w/live") = 0',
      'symlink("rel1", "/w/live.new") = 0',
      'rename("/w/live.new", "/w/live") = 0',
      'unlink("/w/live/data.bin") = 0',
      'munmap(0x7f0000000000, 65536) = 0',
    ]);
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    expect(doubts(report)).toEqual([expect.stringContaining('/data/w/rel1/data.bin')]);
  });
});
