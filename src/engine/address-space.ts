// The live file-backed mappings of one address space, as a sorted list of
// page-rounded pieces. Anonymous mappings are not kept (they cannot outlive a
// file) but they still evict whatever file mapping they replace.

export const PAGE_SIZE = 4096;

export function pageEnd(start: number, length: number): number {
  return start + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
}

/** One mmap's result. Partial munmaps split it into several pieces. */
export interface MappingRecord<File> {
  id: number;
  file: File;
  space: AddressSpace<File>;
  address: number;
  length: number;
  offset: number;
  /** Engine sequence number of the mmap, to order it against size changes. */
  seq: number;
  /** Live pieces; the mapping is gone when this reaches 0. */
  pieces: number;
}

export interface Piece<File> {
  start: number;
  end: number;
  record: MappingRecord<File>;
}

export class AddressSpace<File> {
  /** Sorted by start, never overlapping. */
  readonly pieces: Piece<File>[] = [];
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

  insert(piece: Piece<File>): void {
    const at = this.firstEndingAfter(piece.start);
    this.pieces.splice(at, 0, piece);
    piece.record.pieces++;
  }

  /**
   * Remove [start, end) from every piece it touches, splitting pieces it only
   * partly covers. Returns the records that lost at least one piece or part.
   */
  removeRange(start: number, end: number): MappingRecord<File>[] {
    const touched: MappingRecord<File>[] = [];
    let i = this.firstEndingAfter(start);
    while (i < this.pieces.length) {
      const piece = this.pieces[i]!;
      if (piece.start >= end) break;
      touched.push(piece.record);
      const keepLeft = piece.start < start;
      const keepRight = piece.end > end;
      if (keepLeft && keepRight) {
        const right: Piece<File> = { start: end, end: piece.end, record: piece.record };
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
  piecesOf(record: MappingRecord<File>): Piece<File>[] {
    const found: Piece<File>[] = [];
    if (record.pieces === 0) return found;
    for (const piece of this.pieces) {
      if (piece.record !== record) continue;
      found.push(piece);
      if (found.length === record.pieces) break;
    }
    return found;
  }

  /** Everything at once: for exit and exec. */
  clear(): MappingRecord<File>[] {
    const records = new Set<MappingRecord<File>>();
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
