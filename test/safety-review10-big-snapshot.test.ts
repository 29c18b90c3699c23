// A bundle is untrusted: its maps-start.txt may hold names as long as a line
// may be (1 MiB) on every line, which the kernel never prints (a path is at
// most 4 KiB). Review 10: 2,600 such lines took `analyze` past V8's heap
// (SIGABRT). What one snapshot keeps is bounded (256 MiB); the rest is read,
// not kept, and a warning says so. A hand-made bundle: the threat is the
// bundle itself, not what a program did.
import { mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './support/tools.js';

const NAME_CHARS = 1_000_000;
// 280 MB of names: past the 256 MiB one snapshot may keep, at about line 268.
const LINES = 280;

function nameOf(line: number): string {
  return `/d/${String(line).padStart(6, '0')}${'x'.repeat(NAME_CHARS - 9)}`;
}

function addressOf(line: number): string {
  return (0x7f1000000000 + line * 0x2000).toString(16);
}

it('keeps at most 256 MiB of a maps snapshot, says so, and seeds the lines it kept', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-big-snapshot-')), 'bundle');
  mkdirSync(dir);
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 300, mode: 'attached', traceFiles: ['trace.txt'], endTime: '2026-12-02T00:00:00Z', exitReason: 'target-exited', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  const fd = openSync(join(dir, 'maps-start.txt'), 'w');
  for (let line = 1; line <= LINES; line++) {
    const start = addressOf(line);
    const end = (0x7f1000000000 + line * 0x2000 + 0x1000).toString(16);
    writeSync(fd, `${start}-${end} r--s 00000000 fe:00 ${1000 + line}                       ${nameOf(line)}\n`);
  }
  closeSync(fd);
  // The process removes the files of the first line and of the last: only the first was kept, so only it is known mapped.
  writeFileSync(
    join(dir, 'trace.txt'),
    [
      `300 1796200000.000001 unlink("${nameOf(1)}") = 0`,
      `300 1796200000.000002 unlink("${nameOf(LINES)}") = 0`,
      `300 1796200000.000003 exit_group(0) = ?`,
      '300 1796200000.000004 +++ exited with 0 +++',
      '',
    ].join('\n'),
  );

  const result = runCli(['analyze', dir, '--format', 'json']);
  expect(result.status, result.stderr.slice(0, 2000)).toBe(0);
  const report = JSON.parse(result.stdout) as { warnings: string[]; findings: { kind: string; address: string }[] };
  const cut = report.warnings.find((warning) => warning.startsWith(`${join(dir, 'maps-start.txt')}: its lines after line `));
  expect(cut, report.warnings.map((warning) => warning.slice(0, 300)).join('\n')).toBeDefined();
  expect(cut).toContain('were read but not kept: those kept reached the 256 MiB a maps snapshot may hold');
  const after = Number(/after line (\d+)/.exec(cut!)?.[1]);
  expect(after).toBeGreaterThan(200);
  expect(after).toBeLessThan(LINES);
  expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped').map((finding) => finding.address)).toEqual([`0x${addressOf(1)}`]);
});
