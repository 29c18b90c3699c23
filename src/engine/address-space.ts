// The live file-backed mappings of one address space, as a sorted list of
// page-rounded pieces. Anonymous mappings are not kept (they cannot outlive a
// file) but they still evict whatever file mapping they replace.

export const PAGE_SIZE = 4096;

export function pageEnd(start: number, length: number): number {
  return start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
}

/** What the interval map needs of one mmap's result. Partial munmaps split it into several pieces. */
export interface Pieced {
  /** Live pieces; the mapping is gone when this reaches 0. */
  pieces: number;
}

export interface Piece<Mapping extends Pieced> {
  start: number;
  end: number;
  record: Mapping;
}

export class AddressSpace<Mapping extends Pieced> {
  /** Sorted by start, never overlapping. */
  readonly pieces: Piece<Mapping>[] = [];
  /** Tasks using this space; it is released when the last one exits or execs. */
  users = 0;

  constructor(
    readonly id: number,
    /** The thread group that created it: the `pid` of findings. */
    public ownerTgid: number,
  ) {}

  /** Index of the first piece whose end is above `address`. */
  private firstEndingAfter(address: number): number {
    let low = 0;
    let high = this.pieces.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.pieces[mid]!.end <= address) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insert(piece: Piece<Mapping>): void {
    const at = this.firstEndingAfter(piece.start);
    this.pieces.splice(at, 0, piece);
    piece.record.pieces++;
  }

  /**
   * Remove [start, end) from every piece it touches, splitting pieces it only
   * partly covers. Returns the records that lost at least one piece or part.
   */
  removeRange(start: number, end: number): Mapping[] {
    const touched: Mapping[] = [];
    let i = this.firstEndingAfter(start);
    while (i < this.pieces.length) {
      const piece = this.pieces[i]!;
      if (piece.start >= end) break;
      touched.push(piece.record);
      const keepLeft = piece.start < start;
      const keepRight = piece.end > end;
      if (keepLeft && keepRight) {
        const right: Piece<Mapping> = { start: end, end: piece.end, record: piece.record };
        piece.end = start;
        this.pieces.splice(i + 1, 0, right);
        piece.record.pieces++;
        i += 2;
      } else if (keepLeft) {
        piece.end = start;
        i++;
      } else if (keepRight) {
        piece.start = end;
        i++;
      } else {
        this.pieces.splice(i, 1);
        piece.record.pieces--;
      }
    }
    return touched;
  }

  /** The live pieces of one mapping, in address order. */
  piecesOf(record: Mapping): Piece<Mapping>[] {
    const found: Piece<Mapping>[] = [];
    if (record.pieces === 0) return found;
    for (const piece of this.pieces) {
      if (piece.record !== record) continue;
      found.push(piece);
      if (found.length === record.pieces) break;
    }
    return found;
  }

  /** Everything at once: for exit and exec. */
  clear(): Mapping[] {
    const records = new Set<Mapping>();
    for (const piece of this.pieces) {
      piece.record.pieces--;
      records.add(piece.record);
    }
    this.pieces.length = 0;
    return [...records];
  }

  get liveCount(): number {
    return this.pieces.length;
  }
}
