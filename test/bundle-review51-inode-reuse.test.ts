// Review 51, A5: `capture --pid --backend bpftrace` of a Kafka-like JVM. A
// close bpftrace missed while its probes attached left an fd of a segment's
// index held in the trace; the index was removed, ext4 gave its freed inode
// number to a new index file (an open with O_CREAT|O_EXCL), and the new
// file's mapping was taken for the removed one's: "mapped after its last
// name was unlinked", benign (21 real leaks hidden so in one run; 8 false
// benign findings of a fixed broker in another). An open with
// O_CREAT|O_EXCL makes a new file: the trace no longer finds the old one by
// that number. A real bundle's excerpt (test/fixtures/review51-inode-reuse/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const BUNDLE = join(REPO, 'test', 'fixtures', 'review51-inode-reuse', 'bundle');

it('a new file that takes a removed file’s inode number is not that file: no finding where /proc showed none', () => {
  const trace = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
  // The precondition, in the tracer's own words: the removed index had inode 3939872, and an open that made a new file
  // (O_CREAT|O_EXCL, flags 0xc2) reached that number, whose mapping counts a link.
  expect(readFileSync(join(BUNDLE, 'maps-start.txt'), 'utf8')).toMatch(/ 3939872 +\S+\/00000000000000024000\.index\n$/);
  expect(trace.some((line) => / unlink .*\/00000000000000024000\.index\.deleted /.test(line))).toBe(true);
  expect(trace.some((line) => / open .* flags=0xc2 ino=3939872 .*\/00000000000000026640\.timeindex /.test(line))).toBe(true);
  expect(trace.some((line) => / mmap .* ino=3939872 dev=\d+ nlink=1$/.test(line))).toBe(true);

  const result = runCli(['analyze', BUNDLE, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: Finding[] };
  expect(report.findings).toEqual([]);
});
