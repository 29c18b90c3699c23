// The directories orphanmap.bt describes in `dir` records, and the real path
// of a file opened in one of them: the name an unlink through no symlink
// gives it (issue #10). Pure.
import type { DirRecord, RealDirRef } from './bpftrace-line.js';

/** No real path is deeper; a longer chain is a loop in corrupt input. */
const MAX_DEPTH = 256;

export class RealDirectories {
  private readonly byId = new Map<bigint, DirRecord>();
  /** Directories whose names were too long for their record: paths through them stay unknown. */
  cutNames = 0;

  /** A `dir` record; a later one for the same id (renamed, moved, or a new directory at that address) replaces it. */
  describe(dir: DirRecord): void {
    this.byId.set(dir.id, dir);
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
   * `ref` names. Null when a directory is unknown, or when the name's length
   * differs from the one the kernel resolved: the last component was then a
   * symlink, and the file's real name is not known.
   */
  realPath(spelled: string, ref: RealDirRef): string | null {
    const base = spelled.slice(spelled.lastIndexOf('/') + 1);
    if (base === '' || base === '.' || base === '..' || Buffer.byteLength(base, 'utf8') !== ref.nameBytes) return null;
    const dir = this.pathOf(ref.id);
    if (dir === null) return null;
    return dir === '/' ? `/${base}` : `${dir}/${base}`;
  }
}
