// Names that led to a file the trace saw and let go (Files.forgetNow: no fd,
// no mapping, no finding held it), until a call moves or removes them. A
// call by one that names nothing the trace knows reached that file, not a
// mapped one elsewhere (Files.checkMisplaced, checkAliased). Bounded: the
// most recent FORGOTTEN_NAMES_KEPT, the oldest going. A directory's rename
// moves those under it, found through a name index: a rename of a name the
// trace does not know may be a directory's, and asking every kept name of
// each (a checkpoint file renamed into place every few seconds) cost
// renames × names.
import { NameIndex } from './name-index.js';

/**
 * A file created, written and closed, then removed or renamed by its name:
 * the call comes at once or seconds later, a few hundred files later at
 * most. About 200 bytes each with the index: 200 KiB at most.
 */
const FORGOTTEN_NAMES_KEPT = 1024;
/** Names a directory's rename moves (ForgottenNames.moved): a Prometheus block holds four files, and a chunk file per 512 MiB. */
const MOVED_AT_MOST = 16;

export class ForgottenNames {
  /** Oldest first: the one to let go past the bound. */
  private readonly order = new Set<string>();
  private readonly index = new NameIndex<true>();

  remember(name: string): void {
    if (this.order.delete(name)) this.index.delete(name);
    this.order.add(name);
    this.index.set(name, true);
    if (this.order.size <= FORGOTTEN_NAMES_KEPT) return;
    const oldest: string = this.order.values().next().value!;
    this.order.delete(oldest);
    this.index.delete(oldest);
  }

  /** Whether `name` was a forgotten file's; it is no longer (the call that asks moves or removes it). */
  take(name: string): boolean {
    if (!this.order.delete(name)) return false;
    this.index.delete(name);
    return true;
  }

  /**
   * A directory renamed: the names under it are under its new name
   * (RENAME_EXCHANGE: under each other's). More than MOVED_AT_MOST are let
   * go instead: a directory of thousands of files swapped back and forth
   * would move them all at each rename (review 43, F9: 10,000 renames took
   * 72 s), and each name is let go once. A name let go can only make a
   * needless doubt.
   */
  moved(from: string, to: string, exchange: boolean): void {
    if (this.order.size === 0) return;
    const fromNames = this.index.hasUnder(from) ? this.index.under(from).map(([name]) => name) : [];
    const toNames = exchange && this.index.hasUnder(to) ? this.index.under(to).map(([name]) => name) : [];
    for (const name of fromNames) this.take(name);
    for (const name of toNames) this.take(name);
    if (fromNames.length + toNames.length > MOVED_AT_MOST) return;
    for (const name of fromNames) this.remember(to + name.slice(from.length));
    for (const name of toNames) this.remember(from + name.slice(to.length));
  }

  /** A name removed or renamed over (a symlink, an empty directory): the names under it no longer lead where they did. */
  dropUnder(dir: string): void {
    if (this.order.size === 0 || !this.index.hasUnder(dir)) return;
    for (const [name] of this.index.under(dir)) this.take(name);
  }
}
