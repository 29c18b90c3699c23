// The directories orphanmap.bt describes in `dir` records, and the real path
// of a file opened in one of them: the name an unlink through no symlink
// gives it (issue #10). Pure.
import type { DirRecord, RealDirRef } from './bpftrace-line.js';
import type { RealNameClue } from './events.js';
import { nameBytes } from './byte-names.js';
import { flatCopy } from './flat-copy.js';

/** No real path is deeper; a longer chain is a loop in corrupt input. */
const MAX_DEPTH = 256;

export class RealDirectories {
  private readonly byId = new Map<bigint, DirRecord>();
  /** Directories whose names were too long for their record: paths through them stay unknown. */
  cutNames = 0;

  /**
   * Paths worked out since the last `dir` record, by directory: a capture
   * describes a directory once and opens files in it thousands of times.
   * Any record may change any path under it, so one empties them all.
   */
  private readonly paths = new Map<bigint, string | null>();

  /** A `dir` record; a later one for the same id (renamed, moved, or a new directory at that address) replaces it. */
  describe(dir: DirRecord): void {
    // Kept for the whole trace: the name copied, not a slice of its line.
    this.byId.set(dir.id, dir.name === null ? dir : { ...dir, name: flatCopy(dir.name) });
    this.paths.clear();
    if (dir.cut) this.cutNames++;
  }

  /** The directory's path from the process's root, or null when a step of it is unknown. */
  pathOf(id: bigint): string | null {
    const known = this.paths.get(id);
    if (known !== undefined) return known;
    const path = this.walk(id);
    this.paths.set(id, path);
    return path;
  }

  private walk(id: bigint): string | null {
    const names: string[] = [];
    let at = id;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      if (at === 0n) return `/${names.reverse().join('/')}`;
      const dir = this.byId.get(at);
      if (dir === undefined || dir.cut) return null;
      // A mount's root adds no name: its path is its mount point's.
      if (dir.name !== null) names.push(dir.name);
      at = dir.up;
    }
    return null;
  }

  /**
   * The real path of a file the process opened as `spelled` in the directory
   * `ref` names. Null when a directory is unknown, or when the last component
   * is not the file's own name there (its length or its tag differs: it was a
   * symlink to the file, whose real name is not known). Without the tag, a
   * symlink to a file whose name has the same length would lend its name to
   * another file.
   */
  realPath(spelled: string, ref: RealDirRef): string | null {
    const base = spelled.slice(spelled.lastIndexOf('/') + 1);
    if (base === '' || base === '.' || base === '..') return null;
    const bytes = nameBytes(base);
    if (bytes.length !== ref.nameBytes || nameTag(bytes) !== ref.nameTag) return null;
    const dir = this.pathOf(ref.id);
    if (dir === null) return null;
    return dir === '/' ? `/${base}` : `${dir}/${base}`;
  }

  /**
   * What is known of the real name of a file opened as `spelled` through a
   * symlink to it (its last component's length or tag differs from the
   * file's own name there): the directory that holds it, when every step of
   * it is known, and the name's length and tag. Null otherwise.
   */
  realNameClue(spelled: string, ref: RealDirRef): RealNameClue | null {
    const base = spelled.slice(spelled.lastIndexOf('/') + 1);
    if (base === '' || base === '.' || base === '..' || ref.nameBytes === 0) return null;
    const bytes = nameBytes(base);
    if (bytes.length === ref.nameBytes && nameTag(bytes) === ref.nameTag) return null;
    const dir = this.pathOf(ref.id);
    return dir === null ? null : { dir, bytes: ref.nameBytes, tag: ref.nameTag };
  }
}

/** FNV-1a's 64-bit offset basis and prime, and the mixer's multiplier, as high and low 32-bit words. */
const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_HI = 0x100;
const FNV_PRIME_LO = 0x1b3;
const GOLDEN_HI = 0x9e3779b9;
const GOLDEN_LO = 0x7f4a7c15;

/** times64's product: its high and low 32-bit words (module state, so that no pair is made per multiplication). */
let productHi = 0;
let productLo = 0;

/** (aHi:aLo × bHi:bLo) mod 2^64, into productHi and productLo, in 32-bit words. */
function times64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  // The low words' full product from 16-bit halves (each part below 2^32, their sums exact in a double).
  const a1 = aLo >>> 16;
  const a0 = aLo & 0xffff;
  const b1 = bLo >>> 16;
  const b0 = bLo & 0xffff;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const carry = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lowHigh = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (carry >>> 16);
  productLo = Math.imul(aLo, bLo) >>> 0;
  productHi = (lowHigh + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

/** The little-endian 32-bit word of `bytes` at `at`, zero past the end. */
function wordAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
}

/**
 * orphanmap.bt's tag of a name (dir='s bits 8-23): FNV-1a over its bytes
 * taken as 8-byte little-endian words (the last one zero past the end), mixed
 * as h ^ h >> 32 times 0x9e3779b97f4a7c15, then the top 16 bits. In 32-bit
 * words: with bigints, every step made a new one, 770 bytes an open
 * (test/parse-bpftrace-dirs.test.ts compares the two).
 */
export function nameTag(bytes: Uint8Array): number {
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (let at = 0; at < bytes.length; at += 8) {
    times64((hi ^ wordAt(bytes, at + 4)) >>> 0, (lo ^ wordAt(bytes, at)) >>> 0, FNV_PRIME_HI, FNV_PRIME_LO);
    hi = productHi;
    lo = productLo;
  }
  times64(hi, (lo ^ hi) >>> 0, GOLDEN_HI, GOLDEN_LO);
  return productHi >>> 16;
}
