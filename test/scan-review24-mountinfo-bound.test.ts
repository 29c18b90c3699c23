// Review 24 (attack), F6: scan read /proc/PID/mountinfo whole, in one string.
// An unprivileged user can stack mounts on a deep directory until it is 600
// MB: past V8's longest string the read threw, and the catch kept every
// kernel-object name a kernel object, so the 64 MiB "/memfd:cache" leak on a
// tmpfs of the user's own (review 23, F2) was hidden again, at the cost of
// 620 MB and 7.6 s of the root scan per such process. Now mountinfo is read
// a line at a time and no further than 16 MiB; one longer leaves such names
// counted as files.
//
// A /proc tree on disk, read by scan's own reader: a process whose maps list
// a "/memfd:cache (deleted)" mapping on a major-0 device, and whose
// mountinfo is a 600 MiB sparse file (no newline in it, as no real one has
// none; a real one so long takes minutes to build).
import { closeSync, mkdirSync, mkdtempSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readProcess, procfsReader } from '../src/scan/read.js';

it('a mountinfo past 16 MiB is not read whole, and the names it would settle count as files (review 24, F6)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'orphanmap-review24-mountinfo-'));
  mkdirSync(join(root, '4242'));
  writeFileSync(join(root, '4242', 'maps'), '7f0000000000-7f0004000000 rw-s 00000000 00:27 8                          /memfd:cache (deleted)\n');
  writeFileSync(join(root, '4242', 'comm'), 'hider\n');
  const mountinfo = openSync(join(root, '4242', 'mountinfo'), 'w');
  ftruncateSync(mountinfo, 600 << 20);
  closeSync(mountinfo);
  const used = process.memoryUsage().rss;
  const scanned = await readProcess(procfsReader(root), 4242);
  expect('tally' in scanned).toBe(true);
  const summary = (scanned as Extract<typeof scanned, { tally: unknown }>).tally.summary(4242, 'hider', null);
  // The 64 MiB mapping counts as a deleted file's, as a leak would.
  expect({ mappings: summary.deletedMappings, bytes: summary.deletedBytes }).toEqual({ mappings: 1, bytes: 64 << 20 });
  // And the read stopped early: nothing like 600 MiB was held.
  expect(process.memoryUsage().rss - used).toBeLessThan(100 << 20);
});
