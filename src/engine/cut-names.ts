// Names the tracer cut. bpftrace's str() stops at BPFTRACE_STRLEN-1 bytes
// (199 at the 0.17 maximum), silently: in a deep enough directory
// `…/00000000000000000000.index`, `.timeindex` and `.log` all print as the
// same 199 bytes, and the unlink of the one was taken for the unlink of
// another (review 2, D4: an error whose unlink was the .log's, where /proc
// showed nothing deleted). A cut name is kept out of the name index: a file
// opened by one is tied to it by the inode its open reports, and no unlink,
// rename or link by a cut name is tied to any file. It still counts as a
// name of the file (losing the others is not losing the last), unless a
// whole name of the file begins with it: the same name, cut. Where a call by
// a name cut alike may have removed the last name of a file a live mapping
// holds, the report says so (a doubt). A later mmap or ftruncate of the file
// reports its link count, which settles it: 1 or more, the file never lost
// its names (a name cannot come back once the last is gone); 0, it did, and
// its live mappings outlived them (Files.linkCountSeen).
//
// Every unlink or rename of a name the trace never opened asks which cut
// names it may be. A walk of them all cost unlinks × cut names: a traced
// process holding 60,000 files open by 199-byte paths, then unlinking 60,000
// others, took 3 min 19 s (review 2, F4). The cut names sit in a prefix tree
// instead, so a call walks the length of its name and the names it matches.
import type { EventBase } from '../parse/events.js';
import type { FileNode } from './files.js';
import { hex } from './findings.js';

/** A file some live mapping held when a call by a name cut alike came, and where. */
interface Doubt {
  /** The file as the report names it: its name as printed, cut. */
  name: string;
  pid: number;
  address: string;
  mappedAt: string | null;
  /** The calls by names cut alike, as `file:line`: the first two, and the last (the one closest to a leak, if any). */
  first: string[];
  last: string;
  /** How many (a rename by two cut names is one call). */
  count: number;
}

/** Calls named in a doubt from the first on, before the last; the others are counted. */
const FIRST_CALLS_SHOWN = 2;
/** Doubts told in warnings; the others are counted in one more. */
const DOUBTS_SHOWN = 5;

/** A cut name (as resolved) and the files that have it. */
interface Holders {
  name: string;
  files: Set<FileNode>;
  /** When it was first held (again): calls see the names in this order, as they saw a Map's keys. */
  since: number;
}

/**
 * A node of the prefix tree: the names below it all begin with the edges on
 * the way to it. A node that holds no name has two children or more (the
 * root aside), so a subtree of k names has fewer than 2k nodes.
 */
interface PrefixNode {
  /** The characters between its parent's end and its own. */
  edge: string;
  /** By the first character (UTF-16 code unit) of their edge. */
  children: Map<number, PrefixNode>;
  held: Holders | null;
}

export class CutNames {
  /** Each cut name (as resolved) → the files that have it. */
  private readonly holders = new Map<string, Holders>();
  /** The same names, by their characters: those a name begins with lie on its way down. */
  private readonly tree: PrefixNode = { edge: '', children: new Map(), held: null };
  private heldSoFar = 0;
  private readonly doubts = new Map<FileNode, Doubt>();
  /** Tree nodes visited by mayBe: work counted for tests. */
  steps = 0;

  /**
   * Each mapping in doubt now, by its process and its file's name (as notes()
   * names them), but those a finding of that process and address covers
   * (`found`: maps-end.txt showed it deleted; review 56, F5: 1,500 leaks
   * counted again as 1,500 more in doubt).
   */
  inDoubt(found: (pid: number, address: string) => boolean): { pid: number; name: string }[] {
    return this.left(found).map((doubt) => ({ pid: doubt.pid, name: doubt.name }));
  }

  private left(found: (pid: number, address: string) => boolean): Doubt[] {
    return [...this.doubts.values()].filter((doubt) => !found(doubt.pid, doubt.address));
  }

  /** No file has a cut name now: nothing to compare. */
  get empty(): boolean {
    return this.holders.size === 0;
  }

  /** @param name a flat string (flatCopy), not a slice of a line */
  add(file: FileNode, name: string): void {
    file.cutNames ??= new Set();
    file.cutNames.add(name);
    let held = this.holders.get(name);
    if (held === undefined) {
      held = { name, files: new Set(), since: this.heldSoFar++ };
      this.holders.set(name, held);
      this.plant(held);
    }
    held.files.add(file);
  }

  /** The file has the whole name `name` now: the cut names it begins with were that name, cut. */
  extendedBy(file: FileNode, name: string): void {
    const cut = file.cutNames;
    if (cut === null) return;
    for (const short of [...cut]) if (name.startsWith(short)) this.remove(file, short);
  }

  /**
   * A directory renamed from `from` to `to`, both whole names: the cut names
   * under it are under `to` now, cut where they were (review 55, H2: a job
   * directory renamed to the trash, then removed through an fd of it).
   * `cut`: `to` was cut, so the names under it are known by it alone.
   */
  movedUnder(from: string, to: string, cut: boolean): void {
    for (const [file, name] of this.under(from)) {
      this.remove(file, name);
      this.add(file, cut ? to : `${to}${name.slice(from.length)}`);
    }
  }

  /** Two directories swapped (RENAME_EXCHANGE): the cut names under each are under the other now. */
  exchangedUnder(a: string, b: string): void {
    const underA = this.under(a);
    const underB = this.under(b);
    for (const [file, name] of [...underA, ...underB]) this.remove(file, name);
    for (const [file, name] of underA) this.add(file, `${b}${name.slice(a.length)}`);
    for (const [file, name] of underB) this.add(file, `${a}${name.slice(b.length)}`);
  }

  /** Each file with a cut name under the directory `dir`, with that name. */
  private under(dir: string): [FileNode, string][] {
    const prefix = `${dir}/`;
    const found: [FileNode, string][] = [];
    for (const file of this.mayBe(prefix, true)) for (const name of file.cutNames ?? []) if (name.startsWith(prefix)) found.push([file, name]);
    return found;
  }

  /** The file is gone or forgotten: its cut names lead nowhere. */
  forget(file: FileNode): void {
    const cut = file.cutNames;
    if (cut === null) return;
    for (const short of [...cut]) this.remove(file, short);
  }

  /**
   * The files whose cut names `name` may be: one begins with the other when
   * `name` is cut too, else `name` begins with theirs.
   */
  mayBe(name: string, nameCut: boolean): FileNode[] {
    const matched: Holders[] = [];
    let node = this.tree;
    let depth = 0;
    for (;;) {
      this.steps++;
      // The names on the way down are the ones `name` begins with (the last may be `name` itself).
      if (node.held !== null) matched.push(node.held);
      if (depth === name.length) {
        if (nameCut) for (const child of node.children.values()) this.gather(child, matched);
        break;
      }
      const child = node.children.get(name.charCodeAt(depth));
      if (child === undefined) break;
      if (name.startsWith(child.edge, depth)) {
        node = child;
        depth += child.edge.length;
        continue;
      }
      // `name` ends inside the edge: every name below begins with it.
      if (nameCut && depth + child.edge.length > name.length && child.edge.startsWith(name.slice(depth))) this.gather(child, matched);
      break;
    }
    matched.sort((a, b) => a.since - b.since);
    const found: FileNode[] = [];
    for (const held of matched) for (const file of held.files) found.push(file);
    return found;
  }

  /** Whether the trace can follow the file's names: not while it has a cut one, or a call by one may have removed one. */
  outOfSight(file: FileNode): boolean {
    return (file.cutNames !== null && file.cutNames.size > 0) || this.doubts.has(file);
  }

  /** A call by a name cut alike (`event`) may have removed the file's last name: said when a mapping of it is live. */
  doubt(file: FileNode, event: EventBase): void {
    if (file.gone || file.recordCount === 0) return;
    const place = `${event.place.file}:${event.place.line}`;
    const known = this.doubts.get(file);
    if (known !== undefined) {
      if (known.last === place) return;
      if (known.first.length < FIRST_CALLS_SHOWN) known.first.push(known.last);
      known.count++;
      known.last = place;
      return;
    }
    const mapping = file.liveRecords()[Symbol.iterator]().next().value!;
    const mappedAt = mapping.mappedAt === null ? null : `${mapping.mappedAt.file}:${mapping.mappedAt.line}`;
    this.doubts.set(file, { name: file.displayName, pid: mapping.space.ownerTgid, address: hex(mapping.address), mappedAt, first: [], last: place, count: 1 });
  }

  /** An mremap moved the file's mapping a doubt names: the doubt names where it is now, as /proc will (review 58, F13). */
  mappingMoved(file: FileNode, from: string, to: string): void {
    const doubt = this.doubts.get(file);
    if (doubt !== undefined && doubt.address === from) doubt.address = to;
  }

  /**
   * The file's link count, seen later: 1 or more, it had a name all along
   * and no doubt holds. Returns the calls of the doubt it settles, as text
   * (`trace.txt:3039, trace.txt:3063 (and 1 more)`), or null.
   */
  settle(file: FileNode, nlink: number): string | null {
    const doubt = this.doubts.get(file);
    if (doubt === undefined) return null;
    this.doubts.delete(file);
    return nlink > 0 ? null : callsOf(doubt);
  }

  /** The doubts left, in plain words for a report's warning: one, naming each mapping. */
  notes(found: (pid: number, address: string) => boolean): string[] {
    const left = this.left(found);
    if (left.length === 0) return [];
    const mappings: string[] = [];
    for (const doubt of left.slice(0, DOUBTS_SHOWN)) {
      const mapped = doubt.mappedAt === null ? '' : ` (mapped at ${doubt.mappedAt})`;
      mappings.push(`process ${doubt.pid}'s of ${doubt.name} at ${doubt.address}${mapped}: ${callsOf(doubt)}`);
    }
    if (left.length > DOUBTS_SHOWN) mappings.push(`and ${left.length - DOUBTS_SHOWN} more mappings`);
    return [
      'bpftrace cut paths at the length it prints (BPFTRACE_STRLEN), and a name it cut is tied to no file: a call by such a name may have removed the last name of a file a live mapping held, ' +
        "or another file's, and no later mmap or ftruncate of the file showed its link count. Each such mapping, and the calls by names cut alike while it lived: " +
        `${mappings.join('; ')}. Keep paths shorter than that (relative names from a working directory near the files), or capture with strace`,
    ];
  }

  /** The names notes() gives, to be hashed whole under --redact: a cut name may hold spaces. */
  paths(found: (pid: number, address: string) => boolean): string[] {
    return this.left(found)
      .slice(0, DOUBTS_SHOWN)
      .map((doubt) => doubt.name);
  }

  private remove(file: FileNode, name: string): void {
    file.cutNames?.delete(name);
    if (file.cutNames?.size === 0) file.cutNames = null;
    const held = this.holders.get(name);
    if (held === undefined) return;
    held.files.delete(file);
    if (held.files.size > 0) return;
    this.holders.delete(name);
    this.uproot(name);
  }

  /** Every name held in the subtree of `top`. */
  private gather(top: PrefixNode, matched: Holders[]): void {
    const pending = [top];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      this.steps++;
      if (node.held !== null) matched.push(node.held);
      for (const child of node.children.values()) pending.push(child);
    }
  }

  /** Puts a newly held name in the tree, splitting the edge it leaves. */
  private plant(held: Holders): void {
    const name = held.name;
    let node = this.tree;
    let depth = 0;
    while (depth < name.length) {
      const code = name.charCodeAt(depth);
      const child = node.children.get(code);
      if (child === undefined) {
        node.children.set(code, { edge: name.slice(depth), children: new Map(), held });
        return;
      }
      const shared = sharedLength(child.edge, name, depth);
      if (shared < child.edge.length) {
        const fork: PrefixNode = { edge: child.edge.slice(0, shared), children: new Map([[child.edge.charCodeAt(shared), child]]), held: null };
        child.edge = child.edge.slice(shared);
        node.children.set(code, fork);
        node = fork;
      } else {
        node = child;
      }
      depth += shared;
    }
    node.held = held;
  }

  /** Takes a name no file holds now out of the tree: its node goes, or joins its only child, and a fork left with one branch joins it. */
  private uproot(name: string): void {
    const way = [this.tree];
    let depth = 0;
    while (depth < name.length) {
      const child = way.at(-1)!.children.get(name.charCodeAt(depth));
      if (child === undefined) return;
      way.push(child);
      depth += child.edge.length;
    }
    const node = way.at(-1)!;
    node.held = null;
    if (way.length < 2) return;
    const parent = way.at(-2)!;
    const childCount = parent.children.size;
    prune(parent, node);
    if (way.length >= 3 && parent.children.size < childCount) prune(way.at(-3)!, parent);
  }
}

/** How many characters `edge` and `name` from `from` have in common at their start. */
function sharedLength(edge: string, name: string, from: number): number {
  let shared = 0;
  while (shared < edge.length && from + shared < name.length && edge.charCodeAt(shared) === name.charCodeAt(from + shared)) shared++;
  return shared;
}

/** A node that holds no name goes when it has no children, or gives its place to its only child. */
function prune(parent: PrefixNode, node: PrefixNode): void {
  if (node.held !== null || node.children.size > 1) return;
  const key = node.edge.charCodeAt(0);
  const only = node.children.values().next().value;
  if (only === undefined) {
    parent.children.delete(key);
    return;
  }
  only.edge = node.edge + only.edge;
  parent.children.set(key, only);
}

/** `trace.txt:232, trace.txt:238, 3 more, then trace.txt:250` */
function callsOf(doubt: Doubt): string {
  const between = doubt.count - doubt.first.length - 1;
  return [...doubt.first, ...(between > 0 ? [`${between} more, then ${doubt.last}`] : [doubt.last])].join(', ');
}
