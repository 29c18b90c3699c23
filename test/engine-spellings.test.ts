// Two spellings of one name (issue #10): the path a process gave, through a
// symlinked directory or a cwd reached through one, and the path the kernel
// resolved (strace -yy's fd annotation, orphanmap.bt's dir records). An
// unlink by either must find the file. Captures and truth:
// test/fixtures/bpftrace/symlink-dir/README.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import { StraceReader } from '../src/parse/strace.js';
import { readLines, runEngine, trace } from './helpers.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`fixtures/bpftrace/symlink-dir/${name}`, import.meta.url)), 'utf8');

function findingsOf(reader: BpftraceReader | StraceReader, text: string): Finding[] {
  const { out } = readLines(reader, text.endsWith('\n') ? text.slice(0, -1) : text);
  const engine = new Engine();
  for (const item of out) if (item.type === 'event') engine.apply(item.event);
  engine.finish();
  return [...engine.findings()];
}

/**
 * The truth: the `(deleted)` lines the workload read from its own
 * /proc/self/maps before unmapping (maps-deleted.*.txt), as "ADDRESS BYTES".
 */
function truth(name: string): string[] {
  return fixture(name)
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [start, end] = line
        .split(' ')[0]!
        .split('-')
        .map((hex) => Number.parseInt(hex, 16)) as [number, number];
      return `0x${start.toString(16)} ${end - start}`;
    })
    .sort();
}

/** Orphaned mappings as "ADDRESS BYTES", the way /proc/PID/maps gives them. */
function orphans(findings: readonly Finding[]): string[] {
  return findings
    .filter((f) => f.kind === 'unlinked-while-mapped')
    .map((f) => `${f.address} ${f.length}`)
    .sort();
}

describe('a file reached through a symlinked directory', () => {
  it('bpftrace: every mapping /proc showed as (deleted) is found, whichever spelling unlinked it', () => {
    // Five: rel, abs, s and same through symlinked directories, and one.map, whose name a
    // symlink to two.map (a name of the same length) must not take.
    expect(truth('maps-deleted.bt.txt')).toHaveLength(5);
    expect(orphans(findingsOf(new BpftraceReader('trace.bt.txt'), fixture('trace.bt.txt')))).toEqual(truth('maps-deleted.bt.txt'));
  });

  it('bpftrace: a capture without dir records (made before them) finds only the file unlinked by the name it was opened with', () => {
    const old = fixture('trace.bt.txt')
      .split('\n')
      .filter((line) => !/^\d+ \d+ \d+ \d+ dir /.test(line))
      .map((line) => line.replace(/ dir=0x[0-9a-f]+/, ''))
      .join('\n');
    const byOwnName = fixture('maps-deleted.bt.txt')
      .split('\n')
      .filter((line) => line.includes('/same.map') || line.includes('/one.map'));
    expect(orphans(findingsOf(new BpftraceReader('trace.bt.txt'), old))).toEqual(
      truth('maps-deleted.bt.txt').filter((entry) => byOwnName.some((line) => line.startsWith(entry.slice(2, entry.indexOf(' '))))),
    );
  });

  it('strace -yy: every mapping /proc showed as (deleted) is found, the absolute opens through symlinks too', () => {
    expect(orphans(findingsOf(new StraceReader('trace.strace.txt'), fixture('trace.strace.txt')))).toEqual(truth('maps-deleted.strace.txt'));
  });

  it('shows the file by the name the process gave it, and lists the name it was unlinked by', () => {
    const absAddress = `0x${
      fixture('maps-deleted.bt.txt')
        .split('\n')
        .find((line) => line.endsWith('/abs.map (deleted)'))!
        .split('-')[0]
    }`;
    const abs = findingsOf(new BpftraceReader('trace.bt.txt'), fixture('trace.bt.txt')).find((f) => f.address === absAddress)!;
    expect(abs.path).toBe('/tmp/omw-symlink/link/abs.map');
    expect(abs.unlinkedAt?.line).toBe(
      fixture('trace.bt.txt')
        .split('\n')
        .findIndex((line) => line.includes('unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw-symlink/real/abs.map')) + 1,
    );
  });
});

// Lines in the shape strace -f -ttt -yy prints them (trace-formats.md).
const OPENED_THROUGH_LINK = trace`
  7001 1796150310.000001 openat(AT_FDCWD</tmp>, "/d/link/f", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3</d/real/f>
  7001 1796150310.000002 ftruncate(3</d/real/f>, 4096) = 0
  7001 1796150310.000003 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/real/f>, 0) = 0x7f0000001000
  7001 1796150310.000004 close(3</d/real/f>) = 0
`;

describe('the two spellings of a name', () => {
  it('a second name (hard link) keeps the file: only the last name orphans its mapping', () => {
    const linked = `${OPENED_THROUGH_LINK}
7001 1796150310.000005 link("/d/real/f", "/d/real/g") = 0
7001 1796150310.000006 unlink("/d/real/f") = 0`;
    expect(orphans(runEngine(linked).engine.findings())).toEqual([]);
    expect(orphans(runEngine(`${linked}\n7001 1796150310.000007 unlink("/d/real/g") = 0`).engine.findings())).toEqual(['0x7f0000001000 4096']);
  });

  it('a third spelling (another symlink to the directory) spells the same name: unlinking one removes all', () => {
    const { engine } = runEngine(`${OPENED_THROUGH_LINK}
7001 1796150310.000005 openat(AT_FDCWD</tmp>, "/d/link2/f", O_RDONLY|O_CLOEXEC) = 3</d/real/f>
7001 1796150310.000006 close(3</d/real/f>) = 0
7001 1796150310.000007 unlink("/d/link/f") = 0`);
    expect(orphans(engine.findings())).toEqual(['0x7f0000001000 4096']);
  });

  it('a renamed file leaves its other spelling naming nothing: a new file there is another file', () => {
    const { engine } = runEngine(`${OPENED_THROUGH_LINK}
7001 1796150310.000005 rename("/d/link/f", "/d/link/f.old") = 0
7001 1796150310.000006 openat(AT_FDCWD</tmp>, "/d/real/f", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3</d/real/f>
7001 1796150310.000007 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/real/f>, 0) = 0x7f0000010000
7001 1796150310.000008 unlink("/d/real/f") = 0`);
    expect(orphans(engine.findings())).toEqual(['0x7f0000010000 8192']);
  });

  it('the renamed file is found by its new name', () => {
    const { engine } = runEngine(`${OPENED_THROUGH_LINK}
7001 1796150310.000005 rename("/d/link/f", "/d/link/f.old") = 0
7001 1796150310.000006 unlink("/d/link/f.old") = 0`);
    expect(orphans(engine.findings())).toEqual(['0x7f0000001000 4096']);
  });

  it('a renamed directory moves the spelling under it and keeps the pair', () => {
    const { engine } = runEngine(`${OPENED_THROUGH_LINK}
7001 1796150310.000005 rename("/d/real", "/d/real.moved") = 0
7001 1796150310.000006 unlink("/d/real.moved/f") = 0`);
    expect(orphans(engine.findings())).toEqual(['0x7f0000001000 4096']);
  });

  it('a name that ends in a symlink to the file: the file is found by its real name', () => {
    // /d/flink -> /d/real/target (strace -yy names the target).
    const { engine } = runEngine(trace`
      7001 1796150310.000001 openat(AT_FDCWD</tmp>, "/d/flink", O_RDWR|O_CLOEXEC) = 3</d/real/target>
      7001 1796150310.000002 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3</d/real/target>, 0) = 0x7f0000001000
      7001 1796150310.000003 unlink("/d/real/target") = 0
    `);
    expect(orphans(engine.findings())).toEqual(['0x7f0000001000 4096']);
  });

  it('bpftrace: a spelling gone stale (its directory replaced outside the trace) does not take in the new file there', () => {
    // Shaped like test/fixtures/bpftrace/symlink-dir/trace.bt.txt. After the first file
    // is mapped, /d/real is renamed away and made again by another process: the new
    // /d/real (another dentry, so another id) holds another f (another inode).
    const text = trace`
      1000 0 10 10 dir id=0x100 up=0x0 len=1 name=64
      1001 0 10 10 dir id=0x200 up=0x100 len=4 name=7265616c
      1002 0 10 10 open sys=openat ret=3 dfd=-100 flags=0x80042 ino=100 dev=27 dir=0x201 path=/d/link/f
      1003 0 10 10 mmap ret=0x7f0000001000 addr=0x0 len=4096 prot=0x3 flags=0x1 fd=3 off=0x0 ens=1002 mm=0xffff888100000000 ino=100 dev=27 nlink=1
      1004 0 10 10 close fd=3 ret=0 ens=1003
      1005 0 10 10 dir id=0x300 up=0x100 len=4 name=7265616c
      1006 0 10 10 open sys=openat ret=3 dfd=-100 flags=0x80042 ino=200 dev=27 dir=0x301 path=/d/real/f
      1007 0 10 10 close fd=3 ret=0 ens=1006
      1008 0 10 10 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/d/real/f
    `;
    expect(orphans(findingsOf(new BpftraceReader('trace.bt.txt'), text))).toEqual([]);
  });
});
