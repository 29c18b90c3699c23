// Work linear in the calls by names the trace never opened (review 2, F4):
// each unlink or rename of such a name asks CutNames which cut names it may
// be, and the answer was a walk of every cut name held. 60,000 files open by
// 199-byte paths, then 60,000 unlinks of other files, took 3 min 19 s.
// Counted, not timed: the prefix-tree nodes visited (CutNames.steps). The
// answers must stay those of the walk, in its order: the order decides which
// mappings a report's warning names first.
import { describe, expect, it } from 'vitest';
import { Counters } from '../src/engine/counters.js';
import { CutNames } from '../src/engine/cut-names.js';
import { Engine } from '../src/engine/engine.js';
import { FindingLog } from '../src/engine/finding-log.js';
import { FileNode, Files } from '../src/engine/files.js';
import { RunningImages } from '../src/engine/images.js';
import type { Task } from '../src/engine/tasks.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import type { UnlinkEvent } from '../src/parse/events.js';
import { readLines } from './support/trace-text.js';

/** A small deterministic generator: the same mix on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** What mayBe answered before the index: every cut name held, in the order first held, tested one by one. */
function scanned(held: Map<string, Set<FileNode>>, name: string, nameCut: boolean): FileNode[] {
  const found: FileNode[] = [];
  for (const [short, files] of held) if (name.startsWith(short) || (nameCut && short.startsWith(name))) found.push(...files);
  return found;
}

/** Absolute, 199 bytes long as bpftrace prints a cut path, and distinct for each `i` (gen.py's). */
const DATA = `/data/${'x'.repeat(150)}`;
const cutPath = (i: number) => `${DATA}/${String(i).padStart(8, '0')}`.padEnd(199, 'y');

// A process whose start the trace showed (membershipKnown): no file of it was held since before the trace.
const task = { group: { tgid: 1, membershipKnown: true } } as unknown as Task;

function unlinkEvent(path: string, line: number): UnlinkEvent {
  return {
    kind: 'unlink',
    dir: { fd: 'cwd' },
    path,
    removeDir: false,
    ...(path.length >= 199 ? { pathCut: true as const } : {}),
    place: { file: 'trace.txt', line },
    time: null,
    seconds: null,
    tid: 1,
    raw: `unlink("${path}") = 0`,
  };
}

/** gen.py's trace through Files: `n` files open by cut names, then `n` unlinks of names never opened, and `n` by the cut names. */
function unlinkSteps(n: number): { steps: number; calls: number; files: Files; opened: FileNode[] } {
  const files = new Files(new Counters(), new FindingLog(), new RunningImages());
  const opened: FileNode[] = [];
  for (let i = 0; i < n; i++) opened.push(files.openedByCutName(cutPath(i), { dev: 1, ino: i + 10 }));
  let line = 0;
  for (let j = 0; j < n; j++) files.unlink(task, unlinkEvent(`/other/f${j}`, ++line));
  for (let i = 0; i < n; i++) files.unlink(task, unlinkEvent(cutPath(i), ++line));
  return { steps: files.cut.steps, calls: 2 * n, files, opened };
}

describe('CutNames answers by its index what a walk of every cut name did', () => {
  it('the same files in the same order, through cut names held, dropped, held again and extended to whole names', () => {
    const cut = new CutNames();
    const held = new Map<string, Set<FileNode>>();
    const fileNodes = Array.from({ length: 12 }, (_, id) => new FileNode(id, null));
    const next = random(11);
    // Short names over two letters and a slash: many share prefixes, many begin one another.
    const word = (length: number) => Array.from({ length }, () => 'ab/'[Math.floor(next() * 3)]).join('');
    for (let step = 0; step < 6000; step++) {
      const file = fileNodes[Math.floor(next() * fileNodes.length)]!;
      const name = `/${word(1 + Math.floor(next() * 6))}`;
      const roll = next();
      if (roll < 0.5) {
        cut.add(file, name);
        let files = held.get(name);
        if (files === undefined) {
          files = new Set();
          held.set(name, files);
        }
        files.add(file);
      } else {
        const dropped = roll < 0.6 ? [...(file.cutNames ?? [])] : [...(file.cutNames ?? [])].filter((short) => name.startsWith(short));
        if (roll < 0.6) cut.forget(file);
        else cut.extendedBy(file, name);
        for (const short of dropped) {
          held.get(short)!.delete(file);
          if (held.get(short)!.size === 0) held.delete(short);
        }
      }
      expect(cut.empty).toBe(held.size === 0);
      const asked = `/${word(Math.floor(next() * 7))}`;
      expect(cut.mayBe(asked, false)).toEqual(scanned(held, asked, false));
      expect(cut.mayBe(asked, true)).toEqual(scanned(held, asked, true));
    }
  });
});

describe('calls by names the trace never opened look up the cut names they may be (review 2, F4)', () => {
  const N = 4000;

  it('twice the cut names and unlinks, at most 2.2 times the nodes visited, and a few per call', () => {
    const once = unlinkSteps(N);
    const twice = unlinkSteps(2 * N);
    // The count is live: each call visits the tree's root at least.
    expect(once.steps).toBeGreaterThanOrEqual(once.calls);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
    // A name walks down to the names it begins with; 8,000 numbered names fork at most once a digit.
    expect(twice.steps).toBeLessThanOrEqual(10 * twice.calls);
    // And the cut names still lead to their files: the one it names, and no other.
    expect(twice.files.cut.mayBe(cutPath(4321), true)).toEqual([twice.opened[4321]]);
    expect(twice.files.cut.mayBe(cutPath(4321).slice(0, -30), true)).toEqual(twice.opened.filter((_, i) => cutPath(i).startsWith(cutPath(4321).slice(0, -30))));
  });
});

describe('a gen.py trace of a few thousand lines, with calls that may have removed mapped files’ names', () => {
  const PID = 100;
  const OPENED = 1500;
  /** The cwd, chdir'ed to: a relative path of 199 bytes is cut, and resolves to a name longer than any absolute one. */
  const relative = `${String(77).padStart(8, '0')}`.padEnd(43, 'y').padEnd(199, 'z');
  const longCut = `${DATA}/${relative}`;
  const A = 0x7f0000000000;
  const B = 0x7f0000010000;
  const C = 0x7f0000020000;

  /** Records one a line after the header (line 1), as orphanmap.bt prints them. */
  function trace(): string[] {
    const records: string[] = [];
    const open = (fd: number, ino: number, path: string) => `open sys=openat ret=${fd} dfd=-100 flags=0x42 ino=${ino} dev=1 dir=0x0 path=${path}`;
    const mmap = (address: number, fd: number, ino: number) => `mmap ret=0x${address.toString(16)} addr=0x0 len=8192 prot=0x3 flags=0x1 fd=${fd} off=0x0 ens=1 mm=0x1 ino=${ino} dev=1 nlink=1`;
    const unlink = (path: string) => `unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=${path}`;
    records.push(`chdir ret=0 path=${DATA}`); // line 2
    records.push(open(3, 9, relative), mmap(A, 3, 9)); // lines 3, 4: held as `longCut`, which begins with cutPath(77)
    for (let i = 0; i < OPENED; i++) records.push(open(i + 4, i + 10, cutPath(i))); // lines 5 … 1504
    records.push(mmap(B, 77 + 4, 77 + 10), mmap(C, 100 + 4, 100 + 10)); // lines 1505, 1506
    for (let j = 0; j < OPENED; j++) {
      records.push(`unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/other/f${j}`); // lines 1507 …
      if (j === 500) records.push(unlink(cutPath(77))); // line 2008
      if (j === 1000) records.push(unlink(`${String(100).padStart(8, '0')}`.padEnd(43, 'y').padEnd(52, 'w'))); // line 2509
      if (j === 1200) records.push(unlink(cutPath(5)), unlink(cutPath(77))); // lines 2710, 2711
    }
    return records.map((record, index) => `${1000 + index} 0 ${PID} ${PID} ${record}`);
  }

  it('the doubts name the mappings the walk named, in its order: the name held first first', () => {
    const lines = ['orphanmap-bt 1 begin ns=1 cpu=0 self=1 root=100', ...trace(), '999999 0 0 0 end'];
    expect(lines[2007]).toContain(`path=${cutPath(77)}`);
    expect(lines[2508]).toContain('path=00000100');
    expect(lines[2710]).toContain(`path=${cutPath(77)}`);
    const reader = new BpftraceReader('trace.txt');
    const { events } = readLines(reader, lines.join('\n'));
    const engine = new Engine();
    for (const event of events) engine.apply(event);
    engine.finish();
    expect(engine.findings()).toEqual([]);
    // The unlinks by cutPath(77) may be of the file held as longCut (it begins with it) or of the one held as
    // cutPath(77): longCut was held first. The relative unlink resolves to a whole name that begins with cutPath(100).
    // cutPath(5)'s file was never mapped; the 1,500 unlinks of /other/… may be of no file held.
    // Each open, the relative one, and the three unlinks by cut names.
    expect(reader.warnings()).toContain(`trace.txt: ${OPENED + 1 + 3} paths are 199 bytes long and were probably cut at BPFTRACE_STRLEN`);
    expect(engine.assumptions()).toEqual([
      'bpftrace cut paths at the length it prints (BPFTRACE_STRLEN), and a name it cut is tied to no file: a call by such a name may have removed the last name of a file a live mapping held, ' +
        "or another file's, and no later mmap or ftruncate of the file showed its link count. Each such mapping, and the calls by names cut alike while it lived: " +
        `process ${PID}'s of ${longCut} at 0x${A.toString(16)} (mapped at trace.txt:4): trace.txt:2008, trace.txt:2711; ` +
        `process ${PID}'s of ${cutPath(77)} at 0x${B.toString(16)} (mapped at trace.txt:1505): trace.txt:2008, trace.txt:2711; ` +
        `process ${PID}'s of ${cutPath(100)} at 0x${C.toString(16)} (mapped at trace.txt:1506): trace.txt:2509. ` +
        'Keep paths shorter than that (relative names from a working directory near the files), or capture with strace',
      // No exec in this trace and no snapshot: the 1,500 unlinks of /other/…, and one more, are of names of no file it knows, which a process
      // that ran before it may have mapped before it (review 46, L1).
      `1,501 names of files the trace holds no mapping of went (the first, /other/f0, at trace.txt:1507 (by process ${PID})), while a process that ran before the trace ran, ` +
        'and the trace has no snapshot of its maps (strace -p, not orphanmap capture --pid): a mapping of such a file made before the trace is not known, and may have outlived it. ' +
        'On the host, look for "(deleted)" in /proc/PID/maps (orphanmap scan); capture with orphanmap capture --pid, whose maps-start.txt shows such mappings',
    ]);
  });
});
