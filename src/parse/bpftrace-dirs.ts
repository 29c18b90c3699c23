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

  /** A `dir` record; a later one for the same id (renamed, moved, or a new directory at that address) replaces it. */
  describe(dir: DirRecord): void {
    // Kept for the whole trace: the name copied, not a slice of its line.
    this.byId.set(dir.id, dir.name === null ? dir : { ...dir, name: flatCopy(dir.name) });
    if (dir.cut) this.cutNames++;
  }

  /** The directory's path from the process's root, or null when a step of it is unknown. */
  pathOf(id: bigint): string | null {
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

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/**
 * orphanmap.bt's tag of a name (dir='s bits 8-23): FNV-1a over its bytes
 * taken as 8-byte little-endian words (the last one zero past the end), mixed
 * as h ^ h >> 32 times 0x9e3779b97f4a7c15, then the top 16 bits.
 */
export function nameTag(bytes: Uint8Array): number {
  let hash = FNV_OFFSET;
  for (let at = 0; at < bytes.length; at += 8) {
    let word = 0n;
    for (let k = Math.min(7, bytes.length - at - 1); k >= 0; k--) word = (word << 8n) | BigInt(bytes[at + k]!);
    hash = ((hash ^ word) * FNV_PRIME) & U64;
  }
  const mixed = ((hash ^ (hash >> 32n)) * GOLDEN) & U64;
  return Number(mixed >> 48n);
}
