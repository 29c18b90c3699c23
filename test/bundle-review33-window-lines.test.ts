// Review 33 (attack), F4: a hostile bundle's maps-before.txt of lines that
// each span the address space cost analyze N·M: each line walked every line
// of maps-start.txt under it (40,000 of each, 3.4 MB: 180 s), and the cap of
// followed mappings (4,096) was checked only after the walk. Each line is now
// two binary searches: the same file under it, or any line. What the
// analysis says of such a bundle is checked here; that it ends well inside
// the test's time is the point (it did not, before).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './support/tools.js';

const LINES = 40_000;

it('maps-before.txt lines spanning every line of maps-start.txt: a line of the same file is no candidate, past 4,096 the others are counted', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-window-lines-')), 'bundle');
  mkdirSync(dir);
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 300, mode: 'attached', traceFiles: ['trace.txt'], endTime: '2026-12-02T00:00:00Z', exitReason: 'target-exited', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(join(dir, 'trace.txt'), '300 1796200000.000001 unlink("/b") = 0\n300 1796200000.000002 munmap(0x1000, 4096) = 0\n');
  const start: string[] = [];
  for (let k = 0; k < LINES; k++) {
    const address = 0x10000000 + k * 0x2000;
    start.push(`${address.toString(16)}-${(address + 0x1000).toString(16)} r--p 00000000 08:01 5 /a`);
  }
  writeFileSync(join(dir, 'maps-start.txt'), `${start.join('\n')}\n`);
  // The file of maps-start.txt's lines (inode 5) first: still there, no candidate; then another file's, gone.
  const before = ['1000-7ffffffff000 r--p 00000000 08:01 5 /a'];
  for (let k = 1; k < LINES; k++) before.push('1000-7ffffffff000 r--p 00000000 08:01 7 /b');
  writeFileSync(join(dir, 'maps-before.txt'), `${before.join('\n')}\n`);
  const result = runCli(['analyze', dir, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: unknown[]; warnings: string[]; summary: { mappingsInDoubt: number } };
  expect(report.warnings).toContainEqual(
    `${join(dir, 'maps-before.txt')}: ${LINES - 1 - 4096} more file mappings gone before maps-start.txt was read than the 4096 followed: what the trace shows of those is not weighed`,
  );
  // Every followed one is covered by other files' lines now: mapped over before the read, so an munmap tells nothing.
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.findings).toEqual([]);
});
