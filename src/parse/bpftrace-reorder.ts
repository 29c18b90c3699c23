// Puts records back in time order: bpftrace 0.17 drains one output buffer per
// CPU, each in order, none in order with the others. Pure.

export interface ReorderOptions {
  /** Hold an item until a key newer by more than this has been seen (ns). Default 250 ms. */
  windowNs?: bigint;
  /** Never hold more than this many items. Default 100 000. */
  maxHeld?: number;
  /**
   * Live input (see BpftraceReader.idle): release an item once the clock is
   * this far past its key, whatever has arrived since. Default 150 ms.
   */
  liveWindowNs?: bigint;
}

/**
 * Restores key (ns) order across bpftrace 0.17's per-CPU perf buffers, which are
 * each in order but are drained in no particular order (docs/bpftrace-format.md, "Order": measured
 * up to ~75 ms of disorder under load). An item is released once an item newer
 * by more than `windowNs` has arrived, or when more than `maxHeld` are held; ties
 * keep arrival order. An item older than one already released cannot be placed:
 * it is released at once and counted in `late`.
 */
export class ReorderBuffer<T> {
  private readonly held: { key: bigint; seq: number; item: T }[] = [];
  private seq = 0;
  private newest: bigint | null = null;
  private lastReleased: bigint | null = null;
  /** Items that arrived after a newer item had already been released. */
  late = 0;
  private readonly windowNs: bigint;
  private readonly maxHeld: number;

  constructor(options: ReorderOptions = {}) {
    this.windowNs = options.windowNs ?? 250_000_000n;
    this.maxHeld = options.maxHeld ?? 100_000;
  }

  /** The newest key seen so far, or null. */
  get newestKey(): bigint | null {
    return this.newest;
  }

  get size(): number {
    return this.held.length;
  }

  push(key: bigint, item: T): T[] {
    if (this.lastReleased !== null && key < this.lastReleased) {
      this.late++;
      return [item];
    }
    if (this.newest === null || key > this.newest) this.newest = key;
    const entry = { key, seq: this.seq++, item };
    // Mostly in order already: search from the end.
    let at = this.held.length;
    while (at > 0 && this.held[at - 1]!.key > key) at--;
    this.held.splice(at, 0, entry);
    let release = 0;
    const horizon = this.newest - this.windowNs;
    while (release < this.held.length && this.held[release]!.key < horizon) release++;
    if (this.held.length - release > this.maxHeld) release = this.held.length - this.maxHeld;
    return this.take(release);
  }

  /** Every item whose key is older than `horizon`, in order (live input: nothing older can still be in flight). */
  releaseBefore(horizon: bigint): T[] {
    let release = 0;
    while (release < this.held.length && this.held[release]!.key < horizon) release++;
    return this.take(release);
  }

  /** Everything still held, in order (end of input). */
  flush(): T[] {
    return this.take(this.held.length);
  }

  private take(count: number): T[] {
    if (count === 0) return [];
    const out = this.held.splice(0, count);
    this.lastReleased = out[out.length - 1]!.key;
    return out.map((entry) => entry.item);
  }
}
