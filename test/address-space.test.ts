// An address space's pieces in chunks (src/engine/address-space.ts): the
// same answers as one sorted array, which took time quadratic in the mappings
// of a process (mmap hands out addresses top-down: every insert went to the
// array's front; 200k mappings took 104 s, a munmap over 50k pieces 11 s).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace, type Pieced } from '../src/engine/address-space.js';

interface Rec extends Pieced {
  name: number;
}

/** The former AddressSpace: one sorted array, spliced at each change. Slow on big spaces, plain to read. */
class FlatSpace {
  readonly pieces: { start: number; end: number; record: Rec }[] = [];

  insert(start: number, end: number, record: Rec): void {
    let at = 0;
    while (at < this.pieces.length && this.pieces[at]!.end <= start) at++;
    this.pieces.splice(at, 0, { start, end, record });
    record.pieces++;
  }

  removeRange(start: number, end: number): Rec[] {
    const touched: Rec[] = [];
    let i = 0;
    while (i < this.pieces.length && this.pieces[i]!.end <= start) i++;
    while (i < this.pieces.length) {
      const piece = this.pieces[i]!;
      if (piece.start >= end) break;
      touched.push(piece.record);
      const keepLeft = piece.start < start;
      const keepRight = piece.end > end;
      if (keepLeft && keepRight) {
        this.pieces.splice(i + 1, 0, { start: end, end: piece.end, record: piece.record });
        piece.end = start;
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
}

type Op = { kind: 'map' | 'unmap'; page: number; pages: number };

const PAGE = 4096;

describe('an address space in chunks', () => {
  it('answers as one sorted array would, through any mmaps (each replacing what it covers) and munmaps', () => {
    // Small mappings and wide munmaps: many pieces live, chunks cut and emptied, small ones merged.
    const map = fc.record({ kind: fc.constant<'map'>('map'), page: fc.nat({ max: 400 }), pages: fc.integer({ min: 1, max: 4 }) });
    const unmap = fc.record({ kind: fc.constant<'unmap'>('unmap'), page: fc.nat({ max: 400 }), pages: fc.integer({ min: 1, max: 80 }) });
    fc.assert(
      fc.property(fc.array(fc.oneof({ arbitrary: map, weight: 5 }, { arbitrary: unmap, weight: 1 }), { minLength: 100, maxLength: 400 }), fc.integer({ min: 1, max: 4 }), (ops: Op[], chunkSize) => {
        const chunked = new AddressSpace<Rec>(1, 1, chunkSize);
        const flat = new FlatSpace();
        const chunkedRecs: Rec[] = [];
        const flatRecs: Rec[] = [];
        for (const [n, { kind, page, pages }] of ops.entries()) {
          const start = page * PAGE;
          const end = start + pages * PAGE;
          const touched = chunked.removeRange(start, end).map((record) => record.name);
          expect(touched).toEqual(flat.removeRange(start, end).map((record) => record.name));
          if (kind === 'map') {
            chunkedRecs.push({ name: n, pieces: 0 });
            flatRecs.push({ name: n, pieces: 0 });
            chunked.insert({ start, end, record: chunkedRecs[chunkedRecs.length - 1]! });
            flat.insert(start, end, flatRecs[flatRecs.length - 1]!);
          }
          const overlapAt = (page + 7) * PAGE;
          expect(chunked.firstOverlapping(overlapAt, overlapAt + 3 * PAGE)?.record.name).toBe(flat.pieces.find((piece) => piece.start < overlapAt + 3 * PAGE && piece.end > overlapAt)?.record.name);
        }
        expect([...chunked.pieces()].map((piece) => [piece.start, piece.end, piece.record.name])).toEqual(flat.pieces.map((piece) => [piece.start, piece.end, piece.record.name]));
        expect(chunked.liveCount).toBe(flat.pieces.length);
        expect(chunkedRecs.map((record) => record.pieces)).toEqual(flatRecs.map((record) => record.pieces));
        for (const [k, record] of chunkedRecs.entries()) {
          const pieces = flat.pieces.filter((piece) => piece.record === flatRecs[k]).map((piece) => [piece.start, piece.end]);
          expect(chunked.piecesOf(record).map((piece) => [piece.start, piece.end])).toEqual(pieces);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('holds 262,144 mappings made top-down (vm.max_map_count on a Kafka host), one munmap over all of them, and a clear', () => {
    const space = new AddressSpace<Rec>(1, 1);
    const count = 262_144;
    const records: Rec[] = [];
    for (let n = count - 1; n >= 0; n--) {
      const record = { name: n, pieces: 0 };
      records.push(record);
      space.insert({ start: (2 * n + 16) * PAGE, end: (2 * n + 17) * PAGE, record });
    }
    expect(space.liveCount).toBe(count);
    // Cut the first and the last piece in half; everything between goes.
    const touched = space.removeRange(16 * PAGE + 2048, (2 * (count - 1) + 16) * PAGE + 2048);
    expect(touched.length).toBe(count);
    expect([...space.pieces()].map((piece) => [piece.start, piece.end])).toEqual([
      [16 * PAGE, 16 * PAGE + 2048],
      [(2 * (count - 1) + 16) * PAGE + 2048, (2 * (count - 1) + 17) * PAGE],
    ]);
    expect(records.filter((record) => record.pieces > 0).map((record) => record.name)).toEqual([count - 1, 0]);
    expect(space.clear().length).toBe(2);
    expect(space.liveCount).toBe(0);
  });
});
