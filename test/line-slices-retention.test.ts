// The strace reader does not copy the lines it reads: a line is a slice of
// the 256 KiB input chunk it was split from (V8 keeps a sliced string's
// parent alive), and so is every string cut from it. What outlives its line
// is copied where it is kept: the unfinished call a thread sits in (once it
// has waited a few thousand lines), a process's cwd, the spellings of a name,
// the samples of unreadable lines, the flag texts the parser remembers (and,
// already, the engine's names, times and thread names). This reads a
// filtered trace where each of those is kept from lines all over the input,
// and checks that the heap kept, while reading and after it, is far below
// the input's size: any one of them kept as a slice pins most of the chunks.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { heapAfterGc } from './support/heap.js';

const MiB = 1024 * 1024;
/** Processes, each with its cwd, a symlinked file kept mapped, a call left unfinished and a finding. */
const PROCESSES = 400;
/** Bad lines: as many as the samples kept (Run's MAX_SAMPLES). */
const BAD_LINES = 20;

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-slices-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A filtered trace (strace -f -ttt -T -yy -e trace=<followed calls>) of
 * `bytes`: anonymous mmap/munmap filler, split into unfinished/resumed pairs
 * half the time, and, spread evenly through it, what each process keeps.
 * Returns the number of lines.
 */
function writeTrace(path: string, bytes: number): number {
  const fd = openSync(path, 'w');
  let written = 0;
  let lines = 0;
  let clock = 1795606335;
  let buffer = '';
  const print = (text: string) => {
    clock += 0.000013;
    buffer += `${text.replace('@', clock.toFixed(6))}\n`;
    lines++;
    if (buffer.length > 1 << 20) flush();
  };
  const flush = () => {
    writeSync(fd, buffer);
    written += buffer.length;
    buffer = '';
  };
  const filler = (k: number) => {
    const tid = 9000 + (k % 7);
    const address = `0x7f${(0x100000 + k).toString(16)}000`;
    if (k % 2 === 0) {
      print(`${tid} @ mmap(NULL, 8392704, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0) = ${address} <0.000011>`);
    } else {
      print(`${tid} @ mmap(NULL, 8392704, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0 <unfinished ...>`);
      print(`${tid} @ <... mmap resumed>) = ${address} <0.000011>`);
    }
    print(`${tid} @ munmap(${address}, 8392704) = 0 <0.000009>`);
  };
  // A process, forked: its cwd shown by an open relative to it, a file opened through a symlinked
  // directory (two spellings of its name) and kept open, another mapped and unlinked (a finding),
  // and a thread that never returns from a call.
  const kept = (p: number) => {
    const pid = 20000 + 2 * p;
    const cwd = `/srv/process-${p}/working-directory`;
    print(`9000 @ clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10) = ${pid} <0.000050>`);
    print(`${pid} @ openat(AT_FDCWD<${cwd}>, "data/segment-${p}.log", O_RDWR|O_CREAT, 0644) = 3<${cwd}/data/segment-${p}.log> <0.000010>`);
    print(`${pid} @ openat(AT_FDCWD<${cwd}>, "/srv/link-${p}/index-${p}.idx", O_RDWR|O_CREAT, 0644) = 4</srv/real-${p}/index-${p}.idx> <0.000010>`);
    print(`${pid} @ mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 3<${cwd}/data/segment-${p}.log>, 0) = 0x7e${(0x100000 + p).toString(16)}000 <0.000012>`);
    print(`${pid} @ unlink("data/segment-${p}.log") = 0 <0.000020>`);
    print(
      `${pid} @ clone(child_stack=0x7f0000100000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, parent_tid=0x7f0000100990, tls=0x7f00001006c0, child_tidptr=0x7f0000100990) = ${pid + 1} <0.000040>`,
    );
    // Flags no line before spelled: the parser remembers each flag text it reads (parseFlags' cache).
    print(`${pid} @ mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|0x${(0x40000000 + p).toString(16)}, -1, 0) = 0x7d${(0x100000 + p).toString(16)}000 <0.000010>`);
    print(`${pid} @ munmap(0x7d${(0x100000 + p).toString(16)}000, 4096) = 0 <0.000009>`);
    print(`${pid + 1} @ mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</srv/real-${p}/index-${p}.idx>, 0 <unfinished ...>`);
  };
  const target = bytes - 4096;
  let nextKept = 0;
  let nextBad = 0;
  for (let k = 0; written + buffer.length < target; k++) {
    const at = (written + buffer.length) / target;
    if (nextKept < PROCESSES && at >= nextKept / PROCESSES) kept(nextKept++);
    else if (nextBad < BAD_LINES && at >= nextBad / BAD_LINES + 0.01) print(`${9000 + (nextBad++ % 7)} @ mmap(NULL, 4096, PROT_READ) = what <0.000010>`);
    else filler(k);
  }
  while (nextKept < PROCESSES) kept(nextKept++);
  flush();
  closeSync(fd);
  return lines;
}

describe('what outlives a line does not pin its input chunk', () => {
  it('keeps unfinished calls, cwds, spellings, flag texts, findings and samples of a 24 MiB trace in copies', async () => {
    const path = join(scratch, 'trace.txt');
    const lines = writeTrace(path, 24 * MiB);
    const before = heapAfterGc();
    let whileReading = 0;
    let measured = 0;
    const analysis = await analyze([path], {
      readThread: 'never',
      // Every 4096 lines, not every 100 ms: an idle machine reads the last
      // fifth of the trace in less, and the point below would be missed.
      progressEveryMs: 0,
      // Near the end of the read, while every process still sits in its unfinished call (twice: a GC each).
      onProgress: (progress) => {
        if (progress.lines < lines * 0.8 || progress.lines === lines || measured >= 2) return;
        measured++;
        whileReading = Math.max(whileReading, heapAfterGc() - before);
      },
    });
    const after = heapAfterGc() - before;
    // Sanity: the trace made what it is meant to keep.
    expect(analysis.engine.findings().length).toBe(PROCESSES);
    expect(analysis.unparsedSamples).toHaveLength(BAD_LINES);
    expect(analysis.unparsedLines).toBe(BAD_LINES + PROCESSES); // and each unfinished mmap cut off by the end
    expect(measured).toBeGreaterThan(0);
    // Kept as copies: ~3.5 MiB (the engine's 401 processes, the chunks being read). One slice kept per process pins ~24 MiB.
    expect(whileReading / MiB).toBeLessThan(6);
    // ~3 MiB. The samples alone, kept as slices, pin 20 chunks: 5 MiB more.
    expect(after / MiB).toBeLessThan(5);
  });
});
