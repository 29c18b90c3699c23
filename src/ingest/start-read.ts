// The trace's first moments, before `capture --pid` read maps-start.txt.
//
// The capture reads the process's maps once the tracer has attached, and the
// process runs on meanwhile: the trace's first lines (hundreds under strace
// of a JVM, a second of records under bpftrace) come before the read, and
// what they did is in maps-start.txt already. Review 84: a mapping a traced
// mmap made then was seeded as one made before the trace, and the file's
// creation by an open with O_TRUNC just before read as a resize under it
// (a false remapped-without-unmap, "SIGBUS"); and a mapping made after
// maps-before.txt was read, unlinked and unmapped in those lines, was in
// neither snapshot, and its leak went unsaid. The capture says when it read
// maps-start.txt (BundleMeta.mapsStartRead); this reads the trace up to then.
import type { SeedMapping } from '../engine/mappings.js';
import { BpftraceReader } from '../parse/bpftrace.js';
import type { Inode, MmapEvent } from '../parse/events.js';
import { type ParseOutput, StraceReader } from '../parse/strace.js';
import type { Bundle } from './bundle.js';
import { readSync } from 'node:fs';

/** What the trace shows before the capture read maps-start.txt. */
export interface BeforeStartRead {
  /** The mappings traced mmaps made then: maps-start.txt lists them, as the trace does. */
  mapped: { start: number; end: number; hint?: string; inode?: Inode }[];
  /**
   * The lines of the trace file whose unlink or rename came before the read
   * ended, and before an munmap then of a range neither snapshot lists nor an
   * mmap of the trace made: a mapping made after maps-before.txt was read,
   * ended before maps-start.txt was, which may have been of the file removed
   * (iq80's LevelDB: its compaction removes tables a JVM's cleaner unmaps
   * later). A removal after the munmaps, as RocksDB's are, is of no such mapping.
   */
  removals: Set<number>;
}

/** How much of the trace is read for it at most: the window is seconds long, a trace may be gigabytes. */
const MAX_BYTES = 64 * 1024 * 1024;
/** And how many calls: a window's are hundreds to thousands; a hostile meta.json's time must not make its checks quadratic. */
const MAX_EVENTS = 20_000;
const CHUNK = 1024 * 1024;
/** CLONE_THREAD: a thread of the same process. */
const CLONE_THREAD = 0x10000;

/**
 * The trace's calls before the capture read maps-start.txt (BundleMeta.mapsStartRead), from its
 * first trace file; null when the bundle does not say when it read it.
 */
export function traceBeforeStartRead(bundle: Bundle): BeforeStartRead | null {
  const read = bundle.meta.mapsStartRead;
  const pid = bundle.meta.pid;
  if (read === undefined || read === null || bundle.meta.mode !== 'attached' || typeof pid !== 'number' || bundle.traceFds.length === 0) return null;
  // A call that began before the read ended may have done its work before the read reached its range: taken as
  // before it (its mapping listed, what it removed perhaps mapped then and not).
  const to = read[1];
  const file = bundle.traceFiles[0]!;
  const bpftrace = bundle.meta.backend === 'bpftrace';
  const reader = bpftrace ? new BpftraceReader(file) : new StraceReader(file, 0);
  const out: ParseOutput[] = [];
  const result: BeforeStartRead = { mapped: [], removals: new Set() };
  const known = bundle.rangesAtAttach;
  // The snapshots are of the process's own address space: its threads' calls are checked against them, not a
  // child's (a fork in the window unmaps its own memory). Its threads at the attach, and those cloned since.
  const threads = new Set<number>([pid, ...(bundle.meta.threads ?? []).filter((thread) => thread.tgid === pid).map((thread) => thread.tid)]);
  // Every range an mmap of the process made then, of a file or not (an allocator's): no unseen mapping's.
  const traced: { start: number; end: number }[] = [];
  // The names maps-start.txt prints "(deleted)": findings of their own (the removal the trace shows is theirs).
  const deletedSeeds = new Set([...bundle.seeds.values()].flatMap((seeds) => seeds.filter((seed) => seed.deleted).map((seed) => seed.path)));
  // Removals not yet followed by the end of a mapping no snapshot lists.
  let waiting: number[] = [];
  const unseen = (start: number, end: number) => !overlapsAny(known, start, end) && !traced.some((made) => made.start < end && start < made.end);
  const decoder = new TextDecoder();
  const buffer = Buffer.alloc(CHUNK);
  let rest = '';
  let lineNo = 0;
  let events = 0;
  let done = false;
  let first = true;
  const take = () => {
    for (const output of out) {
      if (output.type !== 'event') continue;
      const event = output.event;
      if (event.seconds === null || event.seconds === undefined) continue;
      // bpftrace's clock against the capture's (/proc/uptime, CLOCK_BOOTTIME as bpftrace's nsecs): a read time over a
      // second before the first record says they may not be one clock (lxcfs' uptime of a container, a time
      // namespace), or that the process made no call until then; either way nothing in the window is told.
      if (first && bpftrace && event.seconds > to + 1) {
        done = true;
        result.mapped.length = 0;
        break;
      }
      first = false;
      if (event.seconds > to || ++events > MAX_EVENTS) {
        done = true;
        break;
      }
      const own = threads.has(event.tid);
      if (event.kind === 'clone') {
        if (own && event.childTid > 0 && (event.flags & CLONE_THREAD) !== 0) threads.add(event.childTid);
      } else if (event.kind === 'unlink') {
        // Any process's: a child's `rm` removes what the process mapped.
        if (!event.removeDir && !deletedSeeds.has(event.path)) waiting.push(event.place.line);
      } else if (event.kind === 'rename') {
        if (!deletedSeeds.has(event.newPath)) waiting.push(event.place.line);
      } else if (own && event.kind === 'munmap' && waiting.length > 0 && known.length > 0 && unseen(event.address, pageEnd(event.address + event.length))) {
        for (const line of waiting) result.removals.add(line);
        waiting = [];
      } else if (own && event.kind === 'mmap') {
        const mmap = event as MmapEvent;
        traced.push({ start: mmap.address, end: pageEnd(mmap.address + mmap.length) });
        if (mmap.fd < 0) continue;
        result.mapped.push({
          start: mmap.address,
          end: mmap.address + mmap.length,
          ...(mmap.fdHint === undefined ? {} : { hint: mmap.fdHint }),
          ...(mmap.inode === undefined ? {} : { inode: mmap.inode }),
        });
      }
    }
    out.length = 0;
  };
  for (let position = 0; position < MAX_BYTES && !done; ) {
    const got = readSync(bundle.traceFds[0]!, buffer, 0, CHUNK, position);
    if (got === 0) break;
    position += got;
    const lines = (rest + decoder.decode(buffer.subarray(0, got), { stream: true })).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      reader.push(line, ++lineNo, out);
      take();
      if (done) break;
    }
  }
  if (!done) {
    reader.end(out);
    take();
  }
  result.mapped.sort((a, b) => a.start - b.start);
  return result;
}

/**
 * Whether `seed` is a mapping one of `before.mapped` (sorted by start) made: within that range, of the same file
 * where both say which. Not one printed "(deleted)": what the trace does not show of its file (an unlink before
 * bpftrace's probe of it attached: review 46) only the seed tells, and the engine takes an mmap of a seed's range
 * for the seed's maker. Nor one reaching past the range: the kernel merges a new mapping with an older one of the
 * same file beside it, and that older part was made before the trace.
 */
export function seedMadeInTrace(seed: SeedMapping, before: BeforeStartRead): boolean {
  if (seed.deleted) return false;
  const mapped = before.mapped;
  // The last range starting at or before the seed's start, and a few before it (ranges of one address mapped, unmapped and mapped again).
  let low = 0;
  let high = mapped.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (mapped[middle]!.start <= seed.start) low = middle + 1;
    else high = middle;
  }
  for (let k = low - 1; k >= 0 && k >= low - SAME_START_LOOKED; k--) {
    const made = mapped[k]!;
    if (seed.start >= pageEnd(made.end) || seed.end > pageEnd(made.end)) continue;
    if (made.inode !== undefined && seed.inode !== undefined) {
      if (made.inode.dev === seed.inode.dev && made.inode.ino === seed.inode.ino) return true;
    } else if (made.hint === undefined || made.hint === seed.path) return true;
  }
  return false;
}

/** How many ranges starting at or before a seed's start seedMadeInTrace looks at. */
const SAME_START_LOOKED = 16;

const PAGE = 4096;
const pageEnd = (end: number) => Math.ceil(end / PAGE) * PAGE;

/** Whether a range of any of `snapshots` (each sorted by start, its ranges apart, as a maps file's lines are) meets [start, end). */
function overlapsAny(snapshots: readonly (readonly { start: number; end: number }[])[], start: number, end: number): boolean {
  return snapshots.some((ranges) => {
    // The last range starting before `end`: it meets [start, end) if any does, the ones before it ending before it starts.
    let low = 0;
    let high = ranges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (ranges[middle]!.start < end) low = middle + 1;
      else high = middle;
    }
    return low > 0 && ranges[low - 1]!.end > start;
  });
}
