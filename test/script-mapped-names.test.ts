// The names the capture looks up at the end (om_backend_mapped_names in
// scripts/capture-strace.sh, mapped-gone.txt): a mapped name under a
// directory renamed since is looked up under the directory's new name (review
// 53, S8), also when strace cut the rename at its entry ("<unfinished ...>":
// another thread's call printed between; code review 63, F5), through a chain
// of renames, and with each rename a step, not a walk of every name (F6).
// The lines are strace 6.1's, as the capture runs it (-f -ttt -T -yy -Y).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { REPO } from './support/tools.js';

/** What om_backend_mapped_names of capture-strace.sh (or capture-bpftrace.sh) prints for a trace of `lines`. */
function mappedNames(lines: string[], backend: 'strace' | 'bpftrace' = 'strace'): string[] {
  return lookedUp(lines, backend).names;
}

/** Its names, and the count it wrote into OM_UNCHECKED_FILE (0 when it wrote none). */
function lookedUp(lines: string[], backend: 'strace' | 'bpftrace' = 'strace'): { names: string[]; unchecked: number } {
  const dir = workspace('mapped-names');
  writeFileSync(join(dir, 'trace.txt'), `${lines.join('\n')}\n`);
  const script = join(REPO, 'scripts', `capture-${backend}.sh`);
  const lib = join(REPO, 'scripts', 'bundle-lib.sh');
  const unchecked = join(dir, 'unchecked');
  // bundle-lib.sh gives the awk functions both scripts share (OM_AWK_PATHS), and clears OM_D.
  const run = spawnSync(
    'bash',
    ['-c', `source "$2"; OM_D="$3"; OM_BT_STRLEN=200; source <(sed -n '/^om_keyed_awk()/,/^}/p;/^om_backend_mapped_names()/,/^}/p' "$1"); om_backend_mapped_names`, 'bash', script, lib, dir],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OM_UNCHECKED_FILE: unchecked, OM_BT_KEY: KEY } },
  );
  expect(run.status, run.stderr).toBe(0);
  return { names: run.stdout.split('\n').filter(Boolean), unchecked: existsSync(unchecked) ? Number(readFileSync(unchecked, 'utf8')) : 0 };
}

/** The key a bpftrace capture puts around its records (OM_BT_KEY). */
const KEY = 'abcd1234abcd1234';

const MAPPED = '1234<java> 1796563691.280008 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 93</d/data/topic-0/00000000000000000000.index>, 0) = 0x7f0000000000 <0.000010>';

it('a directory rename strace cut at its entry is joined with its resume', () => {
  expect(
    mappedNames([
      MAPPED,
      '1240<kafka-scheduler> 1796563691.280100 rename("/d/data/topic-0", "/d/data/topic-0.abc-delete" <unfinished ...>',
      '1234<java> 1796563691.280120 futex(0x7f0000001000, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000005>',
      '1240<kafka-scheduler> 1796563691.280140 <... rename resumed>) = 0 <0.000030>',
    ]),
  ).toContain('/d/data/topic-0.abc-delete/00000000000000000000.index');
});

it('a chain of renames, relative names under dirfds and an exchange give each mapped name its last name', () => {
  const names = mappedNames([
    MAPPED,
    '1240<kafka-scheduler> 1796563691.3 renameat2(AT_FDCWD</d/data>, "topic-0", AT_FDCWD</d/data>, "topic-0.abc-delete", RENAME_NOREPLACE) = 0 <0.000010>',
    '1240<kafka-scheduler> 1796563691.4 rename("/d/data/topic-0.abc-delete", "/d/trash/t0") = 0 <0.000010>',
    '1240<kafka-scheduler> 1796563691.5 renameat2(AT_FDCWD</d>, "trash", AT_FDCWD</d>, "other", RENAME_EXCHANGE) = 0 <0.000010>',
  ]);
  expect(names).toContain('/d/other/t0/00000000000000000000.index');
  // A name it had on the way is no longer one: not looked up.
  expect(names).not.toContain('/d/trash/t0/00000000000000000000.index');
});

it('200 renames of a directory of 20,000 mapped names print each name twice, not once a rename', () => {
  const lines = Array.from({ length: 20_000 }, (_, k) => MAPPED.replace('00000000000000000000', String(k).padStart(20, '0')));
  for (let k = 0; k < 200; k++) lines.push(`1240<kafka-scheduler> 1796563691.5 rename("/d/data/topic-${k}", "/d/data/topic-${k + 1}") = 0 <0.000010>`);
  const names = mappedNames(lines);
  // The 20,000 names mapped, the 200 renames' new names, and the 20,000 names under the last.
  expect(names).toHaveLength(40_200);
  expect(names).toContain('/d/data/topic-200/00000000000000019999.index');
});

const MAP_AT = (fd: number, name: string) => `1234<java> 1796563691.280008 mmap(NULL, 8192, PROT_READ, MAP_SHARED, ${fd}<${name}>, 0) = 0x7f0000000000 <0.000010>`;

// Review 66, A-1: any line holding "mmap(" was read as an mmap and left, so a rename by a thread named "mmap(x", or
// to "mmap(-delete", was not followed; a thread named "rename(" made its symlink a rename.
it('only the call a line begins with counts, whatever its thread is named or its names hold', () => {
  const names = mappedNames([
    MAP_AT(93, '/d/data/topic-0/00.index'),
    MAP_AT(94, '/d/e/x.index'),
    '1240<mmap(x> 1796563691.3 rename("/d/data", "/d/mmap(-delete") = 0 <0.000010>',
    '1241<rename(> 1796563691.3 symlink("/d/e", "/d/fake") = 0 <0.000010>',
    '1241<rename(> 1796563691.3 rename("/d/e", "/d/e2") = 0 <0.000010>',
  ]);
  expect(names).toContain('/d/mmap(-delete/topic-0/00.index');
  expect(names).toContain('/d/e2/x.index');
  expect(names.filter((name) => name.startsWith('/d/fake'))).toEqual([]);
});

// Review 66, A-2, A-5, A-6: names strace escapes are looked up as they are, one no list can hold is counted; both
// names of an exchange are new names; a name that ends in " (deleted)" inside the annotation is a real name (strace 6
// prints the mark after it).
it('strace: escapes undone, control characters counted, an exchange of files, "(deleted)" as strace 6 prints it', () => {
  const { names, unchecked } = lookedUp([
    MAP_AT(95, '/d/f/\\303\\251t\\303\\251.index'),
    MAP_AT(96, '/d/g/y.index (deleted)'),
    '1234<java> 1796563691.280008 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 97</d/g/z.index>(deleted), 0) = 0x7f0000000000 <0.000010>',
    MAP_AT(98, '/d/h/q.index'),
    MAP_AT(99, '/d/x/y.index'),
    MAP_AT(100, '/d/e/x.index'),
    MAP_AT(101, '/d/t/a\\tb'),
    // A device, its numbers raw after its name; a file named so, escaped (code review 68, F5).
    MAP_AT(102, '/dev/zero<char 1:5>'),
    MAP_AT(103, '/d/x\\74char 1:5\\76'),
    '1241<a> 1796563691.3 rename("/d/h", "/d/h\\"q\\\\") = 0 <0.000010>',
    '1241<a> 1796563691.3 renameat2(AT_FDCWD</d/x>, "y.index", AT_FDCWD</d/x>, "w.index", RENAME_EXCHANGE) = 0 <0.000010>',
    '1241<a> 1796563691.3 rename("/d/e", "/d/e-\\tdelete") = 0 <0.000010>',
  ]);
  expect(names).toContain('/d/f/\u00e9t\u00e9.index');
  expect(names).toContain('/d/g/y.index (deleted)');
  expect(names.filter((name) => name.startsWith('/d/g/z'))).toEqual([]);
  expect(names).toContain('/d/h"q\\/q.index');
  expect(names).toContain('/d/x/y.index');
  expect(names).toContain('/d/x/w.index');
  expect(names).toContain('/d/x<char 1:5>');
  expect(names.filter((name) => name.startsWith('/dev/zero'))).toEqual([]);
  // Nothing strace escaped is printed as it escaped it.
  expect(names.filter((name) => name.includes('\\t') || name.includes('\\3'))).toEqual([]);
  // a\tb mapped, the rename to e-\tdelete, and x.index under it.
  expect(unchecked).toBe(3);
});

it('bpftrace: an exchange of files, control characters counted, renames paired by thread and time', () => {
  const record = (ns: number, tid: number, text: string) => `${KEY} ${ns} 0 10 ${tid} ${text} ${KEY}`;
  const opened = (ns: number, ino: number, path: string) => [
    record(ns, 10, `open sys=openat ret=4 dfd=-100 flags=0x2 ino=${ino} dev=1 dir=0x1 path=${path}`),
    `${KEY} ${ns + 1} 0 10 10 mmap ret=0x7f00 addr=0x0 len=8192 prot=0x3 flags=0x1 fd=4 off=0x0 ens=1 mm=0x1 ino=${ino} dev=1 nlink=1`,
  ];
  const { names, unchecked } = lookedUp(
    [
      ...opened(100, 11, '/d/e/x.index'),
      ...opened(102, 12, '/d/x/y.index'),
      ...opened(104, 13, '/d/q/a\tb'),
      ...opened(106, 14, '/d/data/topic-0/00.index'),
      // Two renames of one thread whose records two CPUs interleaved in the file.
      record(110, 11, 'rename.old path=/d/data'),
      record(111, 11, 'rename.old path=/d/x/y.index'),
      record(111, 11, 'rename sys=renameat2 ret=0 olddfd=-100 newdfd=-100 flags=0x2 ens=1 path=/d/x/w.index'),
      record(110, 11, 'rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 ens=1 path=/d/data-delete'),
      record(112, 11, 'rename.old path=/d/e'),
      record(112, 11, 'rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 ens=1 path=/d/e-\tdelete'),
    ],
    'bpftrace',
  );
  expect(names).toContain('/d/x/y.index');
  expect(names).toContain('/d/x/w.index');
  expect(names).toContain('/d/data-delete/topic-0/00.index');
  // a\tb mapped, the rename to e-\tdelete, and x.index under it.
  expect(unchecked).toBe(3);
});

// Review 74, F2: git opens its packs by relative names (.git/objects/pack/…), which the lookup left out, silently: a
// pack another process replaced while git held it read clean under bpftrace. A relative name is now given by the real
// path of the directory that holds the file (orphanmap.bt's `dir` records, which the open's dir= names: the id in its
// high bits, a tag and the name's length in its low 24) and its last component.
it('bpftrace: a relative name is looked up at the real path of its directory; one that cannot be given is counted', () => {
  const record = (ns: number, text: string) => `${KEY} ${ns} 0 10 10 ${text} ${KEY}`;
  const dir = (id: string, up: string, name: string) =>
    `${KEY} 1 0 10 10 dir id=${id} up=${up} len=${Buffer.byteLength(name)} name=${Buffer.from(name).toString('hex').padEnd(128, '0').slice(0, 128)}`;
  const opened = (ns: number, ino: number, ref: string, path: string, mapped = true) => [
    record(ns, `open sys=openat ret=4 dfd=-100 flags=0x0 ino=${ino} dev=1 dir=${ref} path=${path}`),
    ...(mapped ? [`${KEY} ${ns + 1} 0 10 10 mmap ret=0x7f00 addr=0x0 len=8192 prot=0x1 flags=0x1 fd=4 off=0x0 ens=1 mm=0x1 ino=${ino} dev=1 nlink=1`] : []),
  ];
  const { names, unchecked } = lookedUp(
    [
      dir('0x1000000', '0x0', 'srv'),
      dir('0x2000000', '0x1000000', 'repo'),
      // The root of a mount on /srv/repo/.git adds no name of its own; its parent is the mount point's directory.
      dir('0x3000000', '0x2000000', ''),
      dir('0x4000000', '0x3000000', 'pack'),
      // dir=: the directory's id, a tag of the name (abcd), its length in bytes (6: "p.pack", 5: "p.idx").
      ...opened(10, 21, '0x4abcd06', '.git/objects/pack/p.pack'),
      ...opened(12, 22, '0x4abcd05', 'p.idx'),
      // Not mapped: not looked up, nor counted.
      ...opened(14, 23, '0x4abcd07', 'p.keep1', false),
      // The directory renamed, described again: a later open in it has its new name.
      dir('0x4000000', '0x3000000', 'pack2'),
      ...opened(16, 24, '0x4abcd06', 'q.pack'),
      // A directory whose name bpftrace cut (more than 64 bytes): the file's path cannot be given.
      `${KEY} 1 0 10 10 dir id=0x5000000 up=0x0 len=70 name=${'61'.repeat(64)}`,
      ...opened(18, 25, '0x5abcd06', 'r.pack'),
      // A directory no record describes, and a last component of another length than the file's own name (a symlink
      // to it, spelled link.pack, 9 bytes): neither can be given.
      ...opened(20, 26, '0x6abcd06', 's.pack'),
      ...opened(22, 27, '0x4abcd06', 'link.pack'),
      // Not a regular file (dir=0): nothing to look up, as before.
      ...opened(24, 28, '0x0', 'zero'),
      // Another CPU carried the record of this open's directory, printed later in the file: looked for at the end.
      ...opened(26, 29, '0x7abcd06', 't.pack'),
      dir('0x7000000', '0x1000000', 'late'),
    ],
    'bpftrace',
  );
  expect(names.sort()).toEqual(['/srv/late/t.pack', '/srv/repo/pack/p.idx', '/srv/repo/pack/p.pack', '/srv/repo/pack2/q.pack']);
  expect(unchecked).toBe(3);
});

// Review 66, A-3: 15,000 mapped names 2,000 directories deep took 15 s of awk (a name normalized and a path built
// one component at a time). Counted, not timed: every name comes out, under its directory's new name.
it('names 2,000 directories deep are looked up, under the name a rename of one of those directories gave them', () => {
  const deep = `/d${'/a'.repeat(2000)}`;
  const lines = Array.from({ length: 300 }, (_, k) => MAP_AT(3, `${deep}/f${k}.index`));
  lines.push(`1240<x> 1796563691.5 rename("/d/a", "/d/b") = 0 <0.000010>`);
  const names = mappedNames(lines);
  expect(names).toHaveLength(601);
  expect(names).toContain(`/d/b${'/a'.repeat(1999)}/f299.index`);
});

/**
 * om_gone_mapped of capture-strace.sh, as the capture runs it at its end, over a trace of `lines`, in `dir`, with
 * `path` first in PATH: the files it wrote there, OM_MAPPED_UNCHECKED (meta.json's mappedGoneUnchecked), its stderr.
 */
function goneMapped(dir: string, lines: string[], path: string): { files: string[]; unchecked: string; stderr: string } {
  writeFileSync(join(dir, 'trace.txt'), `${lines.join('\n')}\n`);
  const script = join(REPO, 'scripts', 'capture-strace.sh');
  const lib = join(REPO, 'scripts', 'bundle-lib.sh');
  const run = spawnSync(
    'bash',
    [
      '-c',
      `source "$2"; OM_D="$3"; OM_CMD_MODE=1; source <(sed -n '/^om_keyed_awk()/,/^}/p;/^om_backend_mapped_names()/,/^}/p' "$1"); PATH="$4:$PATH"; om_gone_mapped; printf '%s' "$OM_MAPPED_UNCHECKED"`,
      'bash',
      script,
      lib,
      dir,
      path,
    ],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  return { files: ['mapped-gone.txt', 'mapped-named.txt'].filter((name) => existsSync(join(dir, name))), unchecked: run.stdout, stderr: run.stderr };
}

// Review 73, F3: which file each name leads to (mapped-named.txt) is told by realpath and stat -f after the names'
// stat; a step of those that failed (realpath took a minute for names 1,900 directories deep, past its 10 s) dropped
// the list with one line on stderr, and a mapped file another process replaced read clean, the verdict whole.
it('mapped-named.txt: each name with its file, and whether through a symbolic link; a lookup that fails is said in meta.json', () => {
  const dir = workspace('mapped-named');
  mkdirSync(join(dir, 'w', 'real'));
  writeFileSync(join(dir, 'w', 'real', 'f'), 'x');
  symlinkSync('real', join(dir, 'w', 'link'));
  const mapped = (name: string, fd: number) => `1234<java> 1796563691.280008 mmap(NULL, 4096, PROT_READ, MAP_SHARED, ${fd}<${name}>, 0) = 0x7f0000000000 <0.000010>`;
  const lines = [mapped(join(dir, 'w', 'real', 'f'), 3), mapped(join(dir, 'w', 'link', 'f'), 4)];
  const tools = join(dir, 'tools');
  mkdirSync(tools);

  const told = goneMapped(dir, lines, tools);
  expect([told.files, told.unchecked, told.stderr]).toEqual([['mapped-named.txt'], '', '']);
  const named = readFileSync(join(dir, 'mapped-named.txt'), 'utf8').split('\n').filter(Boolean);
  const fields = (name: string) =>
    named
      .find((line) => line.endsWith(` ${name}`))
      ?.split(' ')
      .slice(2, 5);
  // stat's word on the file and its file system.
  const ino = spawnSync('stat', ['-c', '%i', join(dir, 'w', 'real', 'f')], { encoding: 'utf8' }).stdout.trim();
  const fileSystem = spawnSync('stat', ['-f', '-c', '%t', dir], { encoding: 'utf8' }).stdout.trim();
  expect([fields(join(dir, 'w', 'real', 'f')), fields(join(dir, 'w', 'link', 'f'))]).toEqual([
    [ino, fileSystem, '1'],
    [ino, fileSystem, '0'],
  ]);

  // A name gone between the stat of every name and the look at each (sqlite removes its -shm file as it ends): that
  // name alone is left out (review 74, F7: the whole list was dropped, the verdict undecided, in 1 run of 10).
  const stage = join(dir, 'stage');
  const real = join(dir, 'w', 'real', 'f');
  writeFileSync(`${stage}.led`, `${spawnSync('stat', ['-L', '--printf', '%.9W %d %i %n\n', real], { encoding: 'utf8' }).stdout}1796563691.5 65024 12345 ${join(dir, 'w', 'gone')}\n`);
  const lib = join(REPO, 'scripts', 'bundle-lib.sh');
  const looked = spawnSync('bash', ['-c', 'source "$1"; om_mapped_named "$2"', 'bash', lib, stage], { encoding: 'utf8' });
  expect(looked.status, looked.stderr).toBe(0);
  expect(readFileSync(`${stage}.named`, 'utf8')).toBe(`${named.find((line) => line.endsWith(` ${real}`))}\n`);

  // A realpath that fails, as one past its time does.
  writeFileSync(join(tools, 'realpath'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(tools, 'realpath'), 0o755);
  const failed = goneMapped(workspace('mapped-named'), lines, tools);
  expect(failed.files).toEqual([]);
  expect(failed.unchecked).toBe('which file each name the trace shows mapped leads to could not be looked up (a step failed or took over 10 s)');
  expect(failed.stderr).toBe(`orphanmap: mapped-named.txt left out: ${failed.unchecked}\n`);
});
