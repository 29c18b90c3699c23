// Review 91, 1: a process that kept a file's fd maps it again after another
// process (`mv`, as tdbbackup's users replace a TDB database) renamed a file
// over it. Under `strace -f` the report says the name went first, "(before it
// was mapped)", and counts the delay "after it was mapped"; under `strace
// -ff` the same finding listed the mapping first and the removal after it,
// with an earlier time and no word, and "unmapped 0.3 s later" read as after
// the removal: the views told the order by line numbers, which compare only
// within one file, and -ff writes the remover's lines to a file of its own.
// Truth: the program's own record (the time `mv` returned, the time it
// mapped again) and its /proc/self/maps.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

// Maps DIR/seg, has `mv` rename DIR/seg.new over it, maps it again through its fd 0.2 s later, records both times and
// its maps lines of the deleted file, holds both mappings 0.3 s, unmaps them.
const PROGRAM = `
import mmap, os, subprocess, sys, time
directory, record = sys.argv[1], sys.argv[2]
seg = os.path.join(directory, "seg")
for name, fill in ((seg, b"a"), (seg + ".new", b"b")):
    with open(name, "wb") as f:
        f.write(fill * 8192)
fd = os.open(seg, os.O_RDWR)
first = mmap.mmap(fd, 8192)
subprocess.run(["mv", seg + ".new", seg], check=True)
replaced = time.time()
time.sleep(0.2)
again = time.time()
second = mmap.mmap(fd, 8192)
deleted = [line for line in open("/proc/self/maps") if line.rstrip("\\n").endswith(seg + " (deleted)")]
with open(record, "w") as f:
    f.write("%.6f %.6f\\n" % (replaced, again) + "".join(deleted))
time.sleep(0.3)
second.close()
first.close()
os.close(fd)
`;

interface At {
  file: string;
  line: number;
  seconds: number;
}

interface Finding {
  id: string;
  kind: string;
  address: string;
  mappedAt: At;
  unlinkedAt: At;
  delayMs: number;
}

beforeAll(() => {
  for (const tool of ['strace', 'mv', PYTHON]) requireTool(tool);
});

it('strace -ff: a mapping made after another process renamed a file over its name is drawn with the removal first, and its delay counted from the mapping', () => {
  const work = workspace('review91-ff-unlinked-first');
  const set = join(work, 'ff');
  mkdirSync(set);
  const record = join(work, 'record.txt');
  const traced = spawnSync('strace', ['-ff', '-ttt', '-T', '-y', '-o', join(set, 't'), PYTHON, '-c', PROGRAM, join(work, 'w'), record], { encoding: 'utf8', timeout: 60_000 });
  expect(traced.status, traced.stderr).toBe(0);
  const [times, ...deleted] = readFileSync(record, 'utf8').trim().split('\n');
  const [replaced, again] = times!.split(' ').map(Number) as [number, number];
  // Both mappings read "(deleted)" once mv returned: the one made before and the one made after.
  expect(deleted).toHaveLength(2);
  const addresses = deleted.map((line) => `0x${line.split('-')[0]}`).sort();

  const report = JSON.parse(runCli(['analyze', set, '--format', 'json']).stdout) as { findings: Finding[] };
  const errors = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(errors.map((finding) => finding.address).sort()).toEqual(addresses);
  const after = errors.find((finding) => finding.mappedAt.seconds >= again);
  expect(after, JSON.stringify(errors)).toBeDefined();
  // The case: the removal (by mv) and the mapping are in two files of the set, the removal the earlier.
  expect(after!.unlinkedAt.file).not.toBe(after!.mappedAt.file);
  expect(after!.unlinkedAt.seconds).toBeLessThanOrEqual(replaced);
  // Held 0.3 s after it was made, 0.5 s after the rename: the delay counts from the mapping.
  expect(after!.delayMs).toBeGreaterThanOrEqual(300);
  expect(after!.delayMs).toBeLessThan(500 + (again - replaced) * 1000);

  for (const format of ['text', 'markdown', 'jira']) {
    const out = runCli(['analyze', set, '--format', format]).stdout;
    // Jira escapes the kind's hyphens.
    const block = out.slice(out.search(new RegExp(`${after!.id} unlinked\\\\?-while`)));
    const unlinked = block.search(/unlinked/);
    const mapped = block.search(/mapped(?!-)/);
    expect(block, format).toMatch(/before it was mapped/);
    expect(unlinked, `${format}: the removal is said before the mapping\n${block.slice(0, 1200)}`).toBeLessThan(mapped);
    expect(block, format).toMatch(/after it was mapped/);
  }
});
