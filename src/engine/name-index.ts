// Names known now → their files, with the names under a directory found by a
// lookup. A rename of a path the engine does not know may be a directory's
// (Kafka renames a deleted partition's directory to "…-delete"): the names
// under it move. Finding them by scanning every known name cost renames ×
// names (issue #14); here each directory lists its children (names, and the
// directories on the way to names), so the walk visits only what is under it.
import { flatCopy } from '../parse/flat-copy.js';

/** `/d/topic-0/00.index` → `/d/topic-0`; `/x` → `` (the root); a name with no `/` has none. */
export function parentOf(path: string): string | null {
  const slash = path.lastIndexOf('/');
  return slash < 0 || path.length === 0 ? null : path.slice(0, slash);
}

/** The last component of a path, trailing slashes aside: `/d/topic-0/00.index` → `00.index`; a name with no `/` is its own. */
export function baseName(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

interface Entry<T> {
  value: T;
  /** When the name was first set: the walk gives names in the order a Map would. */
  seq: number;
  /**
   * The set its directory lists it in (null for a name with no `/`): a name
   * going is unlisted with no look-up of its directory's (a slice of the name,
   * hashed). A directory's set stays the same object while it lists anything.
   */
  listedIn: Set<string> | null;
}

export class NameIndex<T> {
  /** Each name → its value, when it was first set, and where its directory lists it. */
  private readonly entries = new Map<string, Entry<T>>();
  /** Each directory with names under it → its children: names, and directories with names under them. */
  private readonly children = new Map<string, Set<string>>();
  private seq = 0;
  /** The names by last component (withBaseName), and by last two (withTail). */
  private readonly byBaseName = new NameGroups(baseName);
  private readonly byTail = new NameGroups(lastTwoComponents);
  /** Children visited by `under`, names by `withBaseName` and `withTail`: work counted for tests. */
  steps = 0;

  get size(): number {
    return this.entries.size;
  }

  /** Whether some name lies under `dir`. */
  hasUnder(dir: string): boolean {
    return this.children.has(dir);
  }

  get(name: string): T | undefined {
    return this.entries.get(name)?.value;
  }

  set(name: string, value: T): void {
    const entry = this.entries.get(name);
    if (entry !== undefined) {
      entry.value = value;
      return;
    }
    this.entries.set(name, { value, seq: this.seq++, listedIn: this.link(name) });
    this.byBaseName.list(name);
    this.byTail.list(name);
  }

  delete(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    this.entries.delete(name);
    this.byBaseName.unlist(name);
    this.byTail.unlist(name);
    // Still a directory with names under it: its directory keeps it.
    const listedIn = entry.listedIn;
    if (listedIn === null || this.children.has(name)) return;
    listedIn.delete(name);
    if (listedIn.size === 0) this.unlink(name);
  }

  /** Every name under `dir/`, at any depth, in the order the names were set. */
  under(dir: string): [string, T][] {
    return this.startingWith(dir, `${dir}/`);
  }

  /**
   * The names under `dir/` that begin with `prefix` (a path a tracer cut, which
   * may end inside a directory's name), in the order first set. Only the
   * directories on the way to them are looked into: under Kafka's data
   * directory, one partition's, not every file's (final review).
   */
  startingWith(dir: string, prefix: string): [string, T][] {
    const found: { name: string; value: T; seq: number }[] = [];
    const pending = [dir];
    while (pending.length > 0) {
      const kids = this.children.get(pending.pop()!);
      if (kids === undefined) continue;
      for (const child of kids) {
        this.steps++;
        if (!child.startsWith(prefix) && !prefix.startsWith(`${child}/`)) continue;
        const entry = this.entries.get(child);
        if (entry !== undefined && child.startsWith(prefix)) found.push({ name: child, value: entry.value, seq: entry.seq });
        if (this.children.has(child)) pending.push(child);
      }
    }
    return found.sort((a, b) => a.seq - b.seq).map(({ name, value }) => [name, value]);
  }

  /**
   * The names whose last component is `base`, with their values, in no set
   * order, one at a time (a caller that finds what it looks for stops the
   * walk): a relative name that named nothing may have meant one of them in
   * another directory (Files.checkMisplaced). No name may be set or deleted
   * while the walk goes on.
   */
  withBaseName(base: string): Generator<[string, T]> {
    return this.valuesOf(this.byBaseName.namesWith(base, this.entries.keys()));
  }

  /**
   * The names whose last two components are `tail` (`x86_64-linux-gnu/libc.so.6`),
   * as withBaseName gives them: an absolute name that named nothing may be
   * another spelling of one of them (Files.checkAliased). Grouped by the two,
   * not by the last alone: a broker's partitions each have a
   * 00000000000000000000.index, and a trace of 10,000 of them with as many
   * unlinks cost 10^8 steps asked by last component (review 7).
   */
  withTail(tail: string): Generator<[string, T]> {
    return this.valuesOf(this.byTail.namesWith(tail, this.entries.keys()));
  }

  private *valuesOf(names: Iterable<string>): Generator<[string, T]> {
    for (const name of names) {
      this.steps++;
      yield [name, this.entries.get(name)!.value];
    }
  }

  /** A new name: listed in its directory, and each directory up to the first already listed. Returns its directory's set. */
  private link(name: string): Set<string> | null {
    let child = name;
    let listedIn: Set<string> | null = null;
    for (let dir = parentOf(child); dir !== null; dir = parentOf(dir)) {
      const kids = this.children.get(dir);
      if (kids !== undefined) {
        kids.add(child);
        return listedIn ?? kids;
      }
      const created = new Set([child]);
      this.children.set(dir, created);
      listedIn ??= created;
      child = dir;
    }
    return listedIn;
  }

  /** A name gone left its directory listing nothing: the directory is unlisted, and each one above left with nothing under it. */
  private unlink(name: string): void {
    const emptied = parentOf(name)!;
    this.children.delete(emptied);
    let child = emptied;
    for (let dir = parentOf(child); dir !== null; dir = parentOf(dir)) {
      // Still a name, or still a directory with names under it: its directory keeps it.
      if (this.entries.has(child) || this.children.has(child)) return;
      const kids = this.children.get(dir);
      if (kids === undefined) return;
      kids.delete(child);
      if (kids.size > 0) return;
      this.children.delete(dir);
      child = dir;
    }
  }
}

/** `/usr/lib/x86_64-linux-gnu/libc.so.6` → `x86_64-linux-gnu/libc.so.6`; null for a name with fewer than two components under the root. */
export function lastTwoComponents(name: string): string | null {
  const last = name.lastIndexOf('/');
  const before = last > 0 ? name.lastIndexOf('/', last - 1) : -1;
  if (before < 0 || last === name.length - 1) return null;
  return name.slice(before + 1);
}

/**
 * Names grouped by a key of theirs (their last component, say): null until
 * first asked, then kept with the names (most traces never ask, and pay
 * nothing for it).
 */
class NameGroups {
  private groups: Map<string, Set<string>> | null = null;

  constructor(private readonly keyOf: (name: string) => string | null) {}

  /** The names with key `key`, the groups built from `all` on the first call. */
  namesWith(key: string, all: Iterable<string>): Iterable<string> {
    if (this.groups === null) {
      this.groups = new Map();
      for (const name of all) this.list(name);
    }
    return this.groups.get(key) ?? [];
  }

  list(name: string): void {
    if (this.groups === null) return;
    const key = this.keyOf(name);
    if (key === null) return;
    const names = this.groups.get(key);
    // A copy for the key: a slice would keep the first name alive as long as any name has that key.
    if (names === undefined) this.groups.set(flatCopy(key), new Set([name]));
    else names.add(name);
  }

  unlist(name: string): void {
    if (this.groups === null) return;
    const key = this.keyOf(name);
    if (key === null) return;
    const names = this.groups.get(key);
    if (names === undefined) return;
    names.delete(name);
    if (names.size === 0) this.groups.delete(key);
  }
}
