// The one bound on what a trace can make orphanmap hold: the heap itself.
// Every open fd and live mapping of every traced process is state the engine
// must keep, and a fork copies both: 7,000 processes each forked holding
// 7,000 fds is 49 million entries from a 1.7 MB trace, and V8 aborted at its
// heap limit after two minutes (review 20, R20-2; millions of live mappings
// do the same, R10-4). No count of fds, mappings or processes can stand for
// memory, so the heap is looked at while events are applied, and past a
// share of its limit the run stops with an error naming the line it had
// reached (Run.apply), not a crash.
import { getHeapStatistics } from 'node:v8';

/**
 * The share of the heap the analysis may fill, garbage included. V8
 * collects in full before it lets the heap grow that far, so what is in use
 * then is nearly all live. (A PerformanceObserver of full collections reports
 * only between chunks of input, and a chunk of forks filled a 256 MiB heap
 * before the next one.)
 */
const USED_HEAP_SHARE = 0.9;
/** A look costs about 0.3 µs: every 32 events, a hundredth of a microsecond each; 32 forks of a process holding 2,500 fds add about 8 MiB. */
const CHECK_EVERY = 32;
/**
 * What V8's heap limit keeps for the young generation (Node 20 on 64 bits:
 * three semi-spaces of 16 MiB), which old data never fills: the share is of
 * the rest (--max-old-space-size=256 gives a limit of 304 MiB).
 */
const YOUNG_RESERVE = 48 * 1024 * 1024;

export interface HeapPressure {
  /** Bytes in use when the heap was looked at. */
  used: number;
  limit: number;
}

/** One analysis's look at the heap, every CHECK_EVERY events. */
export class HeapWatch {
  private untilCheck = CHECK_EVERY;

  /** The heap in use past its share, or null: cheap, for each event. */
  pressure(): HeapPressure | null {
    if (--this.untilCheck > 0) return null;
    this.untilCheck = CHECK_EVERY;
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    const oldLimit = Math.max(limit - YOUNG_RESERVE, limit / 2);
    return used > oldLimit * USED_HEAP_SHARE ? { used, limit } : null;
  }
}
