// Files a captured process mapped before the trace, when it had children
// the tracer does not follow (forked before the attach: meta.json's
// childrenAtAttach), which may hold copies of those mappings (review 64,
// F-4: a LevelDB process forked a child, then compacted, removing tables
// the child held mapped: clean, exit 0). Followed by name, as the trace
// names them since: the process may let a file go, and the trace forget it,
// long before its removal. A link gives one more name, a rename moves a
// name (a directory's, every name under it: code review 68, F2), and a file
// is gone when its last known name is (F3: `ln F F.keep; rm F` kept it).
// Names maps-start.txt gives one file (its device and inode, with two links
// or more) are names of that one file: the removal of one leaves it the
// other.
import type { EventBase, Inode } from '../parse/events.js';
import { flatCopy } from '../parse/flat-copy.js';

/** One file, shared by every name the trace gave it. */
interface Copied {
  names: number;
}

export class UntracedCopies {
  private readonly byName = new Map<string, Copied>();
  /**
   * Every directory above a name (a superset: one whose names went stays), so
   * that a rename of anything else costs two look-ups, not a walk of every
   * name (code review 69, F2: 20,000 mapped names and 40,000 renames took
   * 14 s).
   */
  private readonly dirs = new Set<string>();
  /** Each file maps-start.txt names, by its device and inode. */
  private readonly byInode = new Map<string, Copied>();
  /** Files whose last known name went, by that name and where (Engine.untracedCopiesGone). */
  readonly gone: { name: string; at: string }[] = [];

  /** maps-start.txt shows the process mapping `name`, the file of `inode` when its line gave one and it had two links or more. */
  mapped(name: string, inode: Inode | undefined): void {
    if (this.byName.has(name)) return;
    const key = inode === undefined ? null : `${inode.dev}:${inode.ino}`;
    const known = key === null ? undefined : this.byInode.get(key);
    if (known !== undefined) {
      known.names++;
      this.add(flatCopy(name), known);
      return;
    }
    const copied = { names: 1 };
    if (key !== null) this.byInode.set(key, copied);
    this.add(flatCopy(name), copied);
  }

  /** A link gave the file at `from` the name `to` too. */
  linked(from: string, to: string): void {
    const copied = this.byName.get(from);
    if (copied === undefined || this.byName.has(to)) return;
    this.add(flatCopy(to), copied);
    copied.names++;
  }

  /** `name` went: an unlink, or a rename over it. */
  removed(name: string, event: EventBase): void {
    const copied = this.byName.get(name);
    if (copied === undefined) return;
    this.byName.delete(name);
    if (--copied.names === 0) this.gone.push({ name: flatCopy(name), at: `${event.place.file}:${event.place.line}` });
  }

  /** `from` is `to` now (with `exchange`, each is where the other was); a directory's names move with it. */
  renamed(from: string, to: string, exchange: boolean, event: EventBase): void {
    if (this.byName.size === 0) return;
    // Two names of one file: the kernel does nothing, and both stay (rename(2); code review 69, F3).
    const named = this.byName.get(from);
    if (named !== undefined && named === this.byName.get(to)) return;
    const moves = this.under(from, to);
    const back = exchange ? this.under(to, from) : [];
    if (!exchange) this.removed(to, event);
    for (const [name] of [...moves, ...back]) this.byName.delete(name);
    for (const [, name, copied] of [...moves, ...back]) this.add(name, copied);
  }

  /** Each name at or under `from`, with its name at or under `to` and its file. */
  private under(from: string, to: string): [string, string, Copied][] {
    const moved: [string, string, Copied][] = [];
    const exact = this.byName.get(from);
    if (exact !== undefined) moved.push([from, flatCopy(to), exact]);
    const dir = from.endsWith('/') ? from.slice(0, -1) : from;
    if (!this.dirs.has(dir)) return moved;
    const prefix = `${dir}/`;
    for (const [name, copied] of this.byName) if (name.startsWith(prefix)) moved.push([name, to + name.slice(from.length), copied]);
    return moved;
  }

  /** `name` names `copied`, and each directory above it is one names are under. */
  private add(name: string, copied: Copied): void {
    this.byName.set(name, copied);
    for (let at = name.lastIndexOf('/'); at > 0; at = name.lastIndexOf('/', at - 1)) {
      const dir = name.slice(0, at);
      // Those above it were added with it.
      if (this.dirs.has(dir)) break;
      this.dirs.add(dir);
    }
  }
}
