// Puts records back in time order: bpftrace 0.17 drains one output buffer per
// CPU, each in order, none in order with the others. Pure.

export interface ReorderOptions {
  /**
   * The longest a record waits for a silent stream: it is released once a key
   * newer by more than this has been seen, whatever the streams' marks. Default 30 s.
   */
  windowNs?: bigint;
  /** Never hold more than this many items. Default 250 000. */
  maxHeld?: number;
  /**
   * How far a stream's later records may still reach back before its mark:
   * a close or munmap is keyed by its entry, printed at its exit, and a BPF
   * program may be preempted between taking its stamp and printing. Default 50 ms.
   */
  graceNs?: bigint;
  /**
   * Live input (see BpftraceReader.idle): release an item once the clock is
   * this far past its key, whatever has arrived since. Default 150 ms.
   */
  liveWindowNs?: bigint;
}

interface Entry<T> {
  key: bigint;
  /**
   * The key less the first key pushed, as a number: the heap compares these,
   * and the bigints only when they are equal. A bigint comparison cost a
   * heap of thousands (a CPU's buffer printed late) several times a number's.
   * Number() rounds in order, so a smaller `at` is a smaller key, whatever
   * the keys (exact within 2^53 ns, 104 days, of the first).
   */
  at: number;
  seq: number;
  item: T;
}

/**
 * Merges streams that are each in time order (bpftrace 0.17's per-CPU
 * buffers, docs/bpftrace-format.md "Order") into one, by key (ns). Each
 * stream's mark is the newest print time it has shown: nothing it prints
 * later is older than its mark less `graceNs`. An item is released once every
 * stream seen so far has a mark past its key by `graceNs`: then no record
 * older than it can come. bpftrace may print a CPU's records seconds after
 * the others' (a stream it starved while another kept it busy), and a CPU
 * that runs none of the traced threads prints nothing at all, so a silent
 * stream holds items back only until a key `windowNs` newer has arrived, and
 * never more than `maxHeld` of them. Ties keep arrival order. An item older
 * than one already released cannot be placed: it is released at once and
 * counted in `late`.
 */
export class ReorderBuffer<T> {
  /** A binary min-heap by (key, seq). */
  private readonly heap: Entry<T>[] = [];
  private seq = 0;
  /** The first key pushed: Entry.at counts from it. */
  private base: bigint | null = null;
  private newest: bigint | null = null;
  private lastReleased: bigint | null = null;
  private readonly marks = new StreamMarks();
  /** Items that arrived after a newer item had already been released. */
  late = 0;
  /** Items left out for being keyed after the cut (cutAfter). */
  cut = 0;
  /** An item keyed after the cut had already been released when the cut came. */
  releasedPastCut = false;
  private cutKey: bigint | null = null;
  /** Streams there are (expectStreams): until each has printed, the marks say nothing. */
  private expected = 0;
  private readonly windowNs: bigint;
  private readonly maxHeld: number;
  private readonly graceNs: bigint;

  constructor(options: ReorderOptions = {}) {
    this.windowNs = options.windowNs ?? 30_000_000_000n;
    this.maxHeld = options.maxHeld ?? 250_000;
    this.graceNs = options.graceNs ?? 50_000_000n;
  }

  /**
   * How many streams there are (bpftrace's header: the CPUs online). Until
   * each has shown a record, one still silent may print its first records
   * late, older than any released by the others' marks: only the window and
   * the bound release items.
   */
  expectStreams(count: number): void {
    this.expected = count;
  }

  /** The newest key seen so far, or null. */
  get newestKey(): bigint | null {
    return this.newest;
  }

  get size(): number {
    return this.heap.length;
  }

  /**
   * Stream `stream` printed a record at `printedNs`, held or not (its key may
   * be older: a close's entry): what that lets go, in order.
   */
  mark(stream: number, printedNs: bigint): T[] {
    if (!this.marks.advance(stream, printedNs)) return [];
    return this.releaseReady();
  }

  /**
   * From now on, items keyed after `key` are left out and counted in `cut`:
   * those held, and those still to come. Items keyed before it that arrive
   * later (another stream's, printed late) are merged as before. The first cut stays.
   */
  cutAfter(key: bigint): void {
    if (this.cutKey !== null) return;
    this.cutKey = key;
    if (this.lastReleased !== null && this.lastReleased > key) this.releasedPastCut = true;
    const kept = this.heap.filter((entry) => entry.key <= key);
    this.cut += this.heap.length - kept.length;
    // Taking entries out of the middle breaks the heap's order: built again.
    this.heap.length = 0;
    for (const entry of kept) this.insert(entry);
  }

  /** An item with its key; with `stream`, the record also marks its stream (mark()). */
  push(key: bigint, item: T, stream?: number, printedNs?: bigint): T[] {
    if (this.cutKey !== null && key > this.cutKey) {
      this.cut++;
      return stream === undefined ? [] : this.mark(stream, printedNs ?? key);
    }
    if (this.lastReleased !== null && key < this.lastReleased) {
      this.late++;
      return [item, ...(stream === undefined ? [] : this.mark(stream, printedNs ?? key))];
    }
    if (this.newest === null || key > this.newest) this.newest = key;
    this.base ??= key;
    this.insert({ key, at: Number(key - this.base), seq: this.seq++, item });
    if (stream !== undefined) {
      const released = this.mark(stream, printedNs ?? key);
      if (released.length > 0) return released;
    }
    return this.releaseReady();
  }

  /** Every item whose key is older than `horizon`, in order (live input: nothing older can still be in flight). */
  releaseBefore(horizon: bigint): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.key < horizon) out.push(this.pop());
    return out;
  }

  /** Everything still held, in order (end of input). */
  flush(): T[] {
    const out: T[] = [];
    while (this.heap.length > 0) out.push(this.pop());
    return out;
  }

  /** What every stream's mark, the window or the bound lets go. */
  private releaseReady(): T[] {
    const lowMark = this.marks.least();
    // The horizons are worked out again only when what they come from moved: a bigint made by each subtraction, for
    // every record read, was a tenth of what merging allocated.
    if (lowMark !== this.lowMarkSeen) {
      this.lowMarkSeen = lowMark;
      this.byLowMark = lowMark === null ? null : lowMark - this.graceNs;
    }
    if (this.newest !== this.newestSeen) {
      this.newestSeen = this.newest;
      this.byWindow = this.newest === null ? null : this.newest - this.windowNs;
    }
    const byMarks = this.marks.size < this.expected ? null : this.byLowMark;
    const byWindow = this.byWindow;
    const horizon = byMarks === null ? byWindow : byWindow === null || byMarks > byWindow ? byMarks : byWindow;
    const heap = this.heap;
    let out: T[] | null = null;
    while (heap.length > 0 && ((horizon !== null && heap[0]!.key < horizon) || heap.length > this.maxHeld)) {
      const item = this.pop();
      if (out === null) out = [item];
      else out.push(item);
    }
    return out ?? [];
  }

  /** What releaseReady's horizons were last worked out from, and those horizons. */
  private lowMarkSeen: bigint | null = null;
  private byLowMark: bigint | null = null;
  private newestSeen: bigint | null = null;
  private byWindow: bigint | null = null;

  private insert(entry: Entry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = entry;
  }

  private pop(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
        if (!before(heap[child]!, last)) break;
        heap[at] = heap[child]!;
        at = child;
      }
      heap[at] = last;
    }
    this.lastReleased = top.key;
    return top.item;
  }
}

/**
 * Each stream's mark, and the least of them, in O(log streams) per mark: a
 * stream's id is the record's CPU field, which a hostile file can make
 * anything, and a rescan of every mark whenever the least one moved made
 * such a file's records cost as many steps each as it has streams (80,000
 * streams in 6 MB took 34 s). A binary min-heap of streams by mark, with
 * each stream's place in it: marks only grow, so a stream only sinks.
 */
class StreamMarks {
  private readonly heap: { stream: number; mark: bigint }[] = [];
  private readonly places = new Map<number, number>();

  get size(): number {
    return this.heap.length;
  }

  /** The least mark, or null while no stream has one. */
  least(): bigint | null {
    return this.heap.length === 0 ? null : this.heap[0]!.mark;
  }

  /** Stream `stream` printed at `printedNs`: false when that is not past its mark (nothing changes). */
  advance(stream: number, printedNs: bigint): boolean {
    const place = this.places.get(stream);
    if (place === undefined) {
      this.heap.push({ stream, mark: printedNs });
      this.rise(this.heap.length - 1);
      return true;
    }
    const entry = this.heap[place]!;
    if (printedNs <= entry.mark) return false;
    entry.mark = printedNs;
    this.sink(place);
    return true;
  }

  private rise(at: number): void {
    const heap = this.heap;
    const entry = heap[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]!.mark <= entry.mark) break;
      this.put(heap[parent]!, at);
      at = parent;
    }
    this.put(entry, at);
  }

  private sink(at: number): void {
    const heap = this.heap;
    const entry = heap[at]!;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.mark < heap[left]!.mark ? right : left;
      if (heap[child]!.mark >= entry.mark) break;
      this.put(heap[child]!, at);
      at = child;
    }
    this.put(entry, at);
  }

  private put(entry: { stream: number; mark: bigint }, at: number): void {
    this.heap[at] = entry;
    this.places.set(entry.stream, at);
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  if (a.at !== b.at) return a.at < b.at;
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}
