// The live file-backed mappings of one address space, as page-rounded pieces
// sorted by address, held in chunks. Anonymous mappings are not kept (they cannot outlive a
// file) but they still evict whatever file mapping they replace.

export const PAGE_SIZE = 4096;

export function pageEnd(start: number, length: number): number {
  return start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
}

/** What the interval map needs of one mmap's result. Partial munmaps split it into several pieces. */
export interface Pieced {
  /** Live pieces; the mapping is gone when this reaches 0. */
  pieces: number;
  /**
   * Where it was ever inserted, lowest start to highest end (the space's to
   * set): its pieces lie there, since a split only cuts a piece. piecesOf
   * looks there alone, not through the whole space, once per finding decided.
   * Fields of the record, not a WeakMap's entry (an object and an entry: about
   * 70 bytes a mapping, and every finding keeps its mapping).
   */
  spanLow?: number;
  spanHigh?: number;
}

export interface Piece<Mapping extends Pieced> {
  start: number;
  end: number;
  record: Mapping;
}

/**
 * Pieces per chunk: a chunk holds up to twice this many, and a fuller one is
 * cut in two. An insert or a removal moves at most a chunk's worth of
 * pieces, not the whole space's: mmap hands out addresses top-down, so one
 * sorted array took every insert at its front, and a process that mapped
 * 200k files (a Kafka host allows 262,144) took 104 s; a munmap over 50k
 * pieces, 11 s. Small, since what a chunk moves costs a write barrier per
 * piece (an old array of pointers): a munmap and an mmap of one mapping
 * among 800 took 2.6 µs with 256, 1.1 µs with 64.
 */
const CHUNK = 64;

/** What a removal over nothing touched returns. */
const NOTHING: readonly never[] = [];

export class AddressSpace<Mapping extends Pieced> {
  /** Sorted by start, never overlapping; each chunk non-empty and at most twice chunkSize long. */
  private readonly chunks: Piece<Mapping>[][] = [];
  private count = 0;
  /** Where findFirstEndingAfter found its piece. */
  private foundChunk = 0;
  private foundIndex = 0;
  /** Tasks using this space; it is released when the last one exits or execs. */
  users = 0;
  /** The event a fork made it at (its owner's mappings older than that are the fork's copies); -1 for one no fork made. */
  forkedAt = -1;

  constructor(
    readonly id: number,
    /** The thread group that created it: the `pid` of findings. */
    public ownerTgid: number,
    /** Pieces per chunk (tests use a few, to cut and merge chunks often). */
    private readonly chunkSize = CHUNK,
  ) {}

  /** Its owner's pid, as a thread group gives its own (Files' Holder). */
  get tgid(): number {
    return this.ownerTgid;
  }

  /** Every piece, in address order. */
  *pieces(): Generator<Piece<Mapping>> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The first piece overlapping [start, end), if any. */
  firstOverlapping(start: number, end: number): Piece<Mapping> | undefined {
    this.findFirstEndingAfter(start);
    const c = this.foundChunk;
    const i = this.foundIndex;
    const piece = this.chunks[c]?.[i];
    return piece !== undefined && piece.start < end ? piece : undefined;
  }

  /**
   * Finds the first piece whose end is above `address`: its chunk is
   * `foundChunk` (chunks.length if none) and its index there `foundIndex`.
   * Two fields, not a pair returned: a lookup per mmap and munmap allocated
   * nothing else.
   */
  private findFirstEndingAfter(address: number): void {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const chunk = this.chunks[mid]!;
      if (chunk[chunk.length - 1]!.end <= address) low = mid + 1;
      else high = mid;
    }
    this.foundChunk = low;
    this.foundIndex = 0;
    if (low === this.chunks.length) return;
    const chunk = this.chunks[low]!;
    let from = 0;
    let to = chunk.length;
    while (from < to) {
      const mid = (from + to) >>> 1;
      if (chunk[mid]!.end <= address) from = mid + 1;
      else to = mid;
    }
    this.foundIndex = from;
  }

  insert(piece: Piece<Mapping>): void {
    const record = piece.record;
    record.pieces++;
    this.count++;
    if (record.spanLow === undefined || piece.start < record.spanLow) record.spanLow = piece.start;
    if (record.spanHigh === undefined || piece.end > record.spanHigh) record.spanHigh = piece.end;
    this.findFirstEndingAfter(piece.start);
    let c = this.foundChunk;
    let i = this.foundIndex;
    if (c === this.chunks.length) {
      // After every piece: at the end of the last chunk.
      if (c === 0) {
        this.chunks.push([piece]);
        return;
      }
      c--;
      i = this.chunks[c]!.length;
    }
    const chunk = this.chunks[c]!;
    chunk.splice(i, 0, piece);
    if (chunk.length > 2 * this.chunkSize) this.chunks.splice(c + 1, 0, chunk.splice(this.chunkSize));
  }

  /**
   * Remove [start, end) from every piece it touches, splitting pieces it only
   * partly covers. Returns the records that lost at least one piece or part.
   */
  removeRange(start: number, end: number): readonly Mapping[] {
    this.findFirstEndingAfter(start);
    const first = this.foundChunk;
    const from = this.foundIndex;
    // Nothing there (most mmaps: a range not mapped before) costs a lookup, and allocates nothing.
    if (first === this.chunks.length || this.chunks[first]![from]!.start >= end) return NOTHING;
    const touched: Mapping[] = [];
    let tidy = false;
    let c = first;
    for (let i = from; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      // The touched run of this chunk, [i, j), gives way to what is kept of it:
      // a left part of its first piece, a right part of its last, or both.
      let left: Piece<Mapping> | null = null;
      let right: Piece<Mapping> | null = null;
      let j = i;
      for (; j < chunk.length; j++) {
        const piece = chunk[j]!;
        if (piece.start >= end) break;
        touched.push(piece.record);
        const keepLeft = piece.start < start;
        const keepRight = piece.end > end;
        if (keepLeft && keepRight) {
          right = { start: end, end: piece.end, record: piece.record };
          piece.end = start;
          piece.record.pieces++;
          left = piece;
        } else if (keepLeft) {
          piece.end = start;
          left = piece;
        } else if (keepRight) {
          piece.start = end;
          right = piece;
        } else {
          piece.record.pieces--;
        }
      }
      const reachedEnd = j === chunk.length;
      const run = j - i;
      const kept = (left === null ? 0 : 1) + (right === null ? 0 : 1);
      if (left !== null && right !== null) chunk.splice(i, run, left, right);
      else if (kept === 1 && run === 1) chunk[i] = left ?? right!;
      else if (kept === 1) chunk.splice(i, run, left ?? right!);
      else if (run > 0) chunk.splice(i, run);
      this.count += kept - run;
      if (kept !== run && chunk.length < this.chunkSize / 2) tidy = true;
      if (!reachedEnd) break;
    }
    // Chunks still half full need no tidying (merging is for lookups' sake only).
    if (!tidy) return touched;
    // Chunks emptied on the way go in one cut; a small one left is merged into a neighbour.
    const last = Math.min(c, this.chunks.length - 1);
    if (last >= first) {
      const left = this.chunks.slice(first, last + 1).filter((chunk) => chunk.length > 0);
      this.chunks.splice(first, last + 1 - first, ...left);
      for (let k = Math.min(first + left.length, this.chunks.length - 1); k >= first && k > 0; k--) this.mergeIntoPrevious(k);
    }
    return touched;
  }

  /** What the pieces hold of [start, end), in address order: for a removal that may have to be put back (restore). */
  partsWithin(start: number, end: number): Piece<Mapping>[] {
    const parts: Piece<Mapping>[] = [];
    this.findFirstEndingAfter(start);
    let i = this.foundIndex;
    for (let c = this.foundChunk; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length; i++) {
        const piece = chunk[i]!;
        if (piece.start >= end) return parts;
        parts.push({ start: Math.max(piece.start, start), end: Math.min(piece.end, end), record: piece.record });
      }
    }
    return parts;
  }

  /** The records all of whose pieces lie in [start, end): those a removal of it takes whole. */
  emptiedBy(start: number, end: number): Mapping[] {
    let within: Map<Mapping, number> | null = null;
    this.findFirstEndingAfter(start);
    let i = this.foundIndex;
    walk: for (let c = this.foundChunk; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length; i++) {
        const piece = chunk[i]!;
        if (piece.start >= end) break walk;
        if (piece.start < start || piece.end > end) continue;
        within ??= new Map();
        within.set(piece.record, (within.get(piece.record) ?? 0) + 1);
      }
    }
    if (within === null) return [];
    const emptied: Mapping[] = [];
    for (const [record, pieces] of within) if (pieces === record.pieces) emptied.push(record);
    return emptied;
  }

  /**
   * Put back a part that partsWithin gave of a record that still has pieces,
   * if nothing took its range since: one piece with the record's pieces on
   * either side it touches, as the mapping was before it was cut.
   */
  restore(part: Piece<Mapping>): boolean {
    if (part.record.pieces === 0 || this.firstOverlapping(part.start, part.end) !== undefined) return false;
    const below = part.start > 0 ? this.firstOverlapping(part.start - 1, part.start) : undefined;
    const above = this.firstOverlapping(part.end, part.end + 1);
    const start = below !== undefined && below.record === part.record && below.end === part.start ? below.start : part.start;
    const end = above !== undefined && above.record === part.record && above.start === part.end ? above.end : part.end;
    this.removeRange(start, end);
    this.insert({ start, end, record: part.record });
    return true;
  }

  /** Chunk k joins chunk k - 1 when either is small and together they fit. */
  private mergeIntoPrevious(k: number): void {
    const previous = this.chunks[k - 1];
    const chunk = this.chunks[k];
    if (previous === undefined || chunk === undefined) return;
    if (Math.min(previous.length, chunk.length) >= this.chunkSize / 2 || previous.length + chunk.length > 2 * this.chunkSize) return;
    for (const piece of chunk) previous.push(piece);
    this.chunks.splice(k, 1);
  }

  /** The live pieces of one mapping, in address order. */
  piecesOf(record: Mapping): Piece<Mapping>[] {
    const found: Piece<Mapping>[] = [];
    const { spanLow, spanHigh } = record;
    if (record.pieces === 0 || spanLow === undefined || spanHigh === undefined) return found;
    this.findFirstEndingAfter(spanLow);
    let c = this.foundChunk;
    let i = this.foundIndex;
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]!;
      for (; i < chunk.length; i++) {
        const piece = chunk[i]!;
        if (piece.start >= spanHigh) return found;
        if (piece.record !== record) continue;
        found.push(piece);
        if (found.length === record.pieces) return found;
      }
    }
    return found;
  }

  /** Everything at once: for exit and exec. */
  clear(): Mapping[] {
    const records = new Set<Mapping>();
    for (const piece of this.pieces()) {
      piece.record.pieces--;
      records.add(piece.record);
    }
    this.chunks.length = 0;
    this.count = 0;
    return [...records];
  }

  get liveCount(): number {
    return this.count;
  }
}
