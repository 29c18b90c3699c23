// The one bound on what a trace can make orphanmap hold: live data after a
// full garbage collection. Every open fd and live mapping of every traced
// process is state the engine must keep, and a fork copies both: 7,000
// processes each forked holding 7,000 fds is 49 million entries from a
// 1.7 MB trace, and V8 aborted at its heap limit after two minutes (review 20,
// R20-2; millions of live mappings do the same, R10-4). No count of fds,
// mappings or processes can stand for memory, so the heap itself is watched:
// after each full collection what is left is what the analysis holds, and
// past a share of the limit it cannot finish. The run then stops with an
// error naming the line it had reached (Run.apply), not a crash.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The share of V8's heap limit that live data may fill after a full collection. */
export const LIVE_HEAP_SHARE = 0.75;
/**
 * The share the heap may fill at all, garbage included, looked at every
 * CHECK_EVERY events: the observer's reports come between chunks of input,
 * and a chunk of forks can fill the heap before the next one (a 600 KB trace
 * did, under a 256 MiB heap). V8 collects in full before it lets the heap
 * grow that far, so what is in use then is nearly all live. A look costs
 * about 0.3 µs: every 32 events, a hundredth of a microsecond each; and 32
 * forks of a process holding 2,500 fds add about 8 MiB.
 */
const USED_HEAP_SHARE = 0.9;
const CHECK_EVERY = 32;
/**
 * What V8's heap limit keeps for the young generation (Node 20 on 64 bits:
 * three semi-spaces of 16 MiB), which old data never fills: the shares are of
 * the rest (--max-old-space-size=256 gives a limit of 304 MiB).
 */
const YOUNG_RESERVE = 48 * 1024 * 1024;

/** The part of the heap limit old data can fill. */
function oldLimit(limit: number): number {
  return Math.max(limit - YOUNG_RESERVE, limit / 2);
}

export interface HeapPressure {
  /** Bytes live after the full collection that found them past the share, or in use when the heap was looked at. */
  live: number;
  limit: number;
}

let observer: PerformanceObserver | null = null;
let pressure: HeapPressure | null = null;
let untilCheck = CHECK_EVERY;

/**
 * Starts watching, once for the process (the observer costs nothing between
 * collections), for a new analysis: what an earlier one left in the heap (the
 * TUI opens one trace after another) is garbage now, and the next look judges
 * this one.
 */
export function watchHeap(): void {
  pressure = null;
  untilCheck = CHECK_EVERY;
  if (observer !== null) return;
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const { used_heap_size: live, heap_size_limit: limit } = getHeapStatistics();
      pressure = live > oldLimit(limit) * LIVE_HEAP_SHARE ? { live, limit } : null;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** What the last full collection left past its share, or the heap in use past its own, or null: cheap, for each event. */
export function heapPressure(): HeapPressure | null {
  if (pressure !== null || --untilCheck > 0) return pressure;
  untilCheck = CHECK_EVERY;
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  return used > oldLimit(limit) * USED_HEAP_SHARE ? { live: used, limit } : null;
}
