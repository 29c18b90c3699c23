// Review 33's code review, 8: the link counts read before the tracer started
// (maps-before.nlink) were matched to maps-start.txt's lines by their exact
// range, so a mapping split (mprotect) or made between maps-before.txt and the
// attach lost the count of its file, and the unlink of its printed name, which
// a hard link made before the trace survived, was a false error. A count is
// the file's: taken by inode now, the lower of the two still holding.
//
// A bundle made here: the reading of its files is what is tested (the capture
// that writes them is tested by capture-review33-link-when-traced).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from './support/tools.js';

function bundle(beforeCount: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-before-count-')), 'bundle');
  mkdirSync(dir);
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 300, mode: 'attached', traceFiles: ['trace.txt'], endTime: '2026-12-02T00:00:00Z', exitReason: 'target-exited', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(join(dir, 'trace.txt'), '300 1796200000.000001 unlink("/d/seg") = 0\n300 1796200000.000002 exit_group(0) = ?\n300 1796200000.000003 +++ exited with 0 +++\n');
  // One mapping before the attach, split in two by an mprotect in between: the same file, other ranges.
  writeFileSync(join(dir, 'maps-before.txt'), '7f1000000000-7f1000004000 rw-s 00000000 fe:00 1234                       /d/seg\n');
  writeFileSync(join(dir, 'maps-before.nlink'), `7f1000000000-7f1000004000 ${beforeCount} 1234\n`);
  writeFileSync(
    join(dir, 'maps-start.txt'),
    '7f1000000000-7f1000002000 r--s 00000000 fe:00 1234                       /d/seg\n7f1000002000-7f1000004000 rw-s 00002000 fe:00 1234                       /d/seg\n',
  );
  writeFileSync(join(dir, 'maps-start.nlink'), '7f1000000000-7f1000002000 2 1234\n7f1000002000-7f1000004000 2 1234\n');
  return dir;
}

function findings(dir: string): unknown[] {
  const result = runCli(['analyze', dir, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: unknown[] }).findings;
}

it('a file counted two links before the attach and after it, its mapping split in between: its unlink keeps it', () => {
  expect(findings(bundle(2))).toEqual([]);
});

it('counted one link before the attach: the lower count holds, and the unlink of its one name is a finding', () => {
  expect(findings(bundle(1))).toHaveLength(2);
});
