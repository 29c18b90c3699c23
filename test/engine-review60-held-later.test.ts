// Code review 60, F10: a munmap strace printed `<unfinished ...>` is applied
// at its entry; when its resume says it failed (ENOMEM, a split past
// vm.max_map_count: review 27, F6; EPERM on a sealed mapping), the kernel
// kept the mapping whole, and the engine puts its pieces back. The
// finding's heldLater (what the mapping holds since the finding) kept
// saying the munmap had cut it, and "still mapped at the end" counted the
// cut length. The trace is strace's own shape of that run (a second thread's
// call between the munmap's entry and its resume).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { runCli } from './support/tools.js';

it('a munmap that failed leaves the leaked mapping whole: no heldLater, 64 KiB still mapped', () => {
  const trace = join(mkdtempSync(join(tmpdir(), 'om-failed-cut-')), 'trace.txt');
  writeFileSync(
    trace,
    [
      '100 1.000000 openat(AT_FDCWD</w>, "/w/seg.dat", O_RDWR|O_CREAT, 0644) = 3</w/seg.dat>',
      '100 1.000100 mmap(NULL, 65536, PROT_READ|PROT_WRITE, MAP_SHARED, 3</w/seg.dat>, 0) = 0x7f0000000000',
      '100 1.000200 close(3</w/seg.dat>) = 0',
      '100 1.000300 unlink("/w/seg.dat") = 0',
      '100 1.000400 munmap(0x7f0000000000, 16384 <unfinished ...>',
      '101 1.000500 close(999) = -1 EBADF (Bad file descriptor)',
      '100 1.000600 <... munmap resumed>) = -1 ENOMEM (Cannot allocate memory)',
      '',
    ].join('\n'),
  );
  const findings = (JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: Finding[] }).findings;
  expect(findings.map((finding) => [finding.kind, finding.address, finding.length, finding.heldLater])).toEqual([['unlinked-while-mapped', '0x7f0000000000', 65536, undefined]]);
  expect(runCli(['analyze', trace]).stdout.split('\n')[0]).toContain('still mapped at the end: 1, 64.0 KiB');
});
