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

export class CutNames {
  /** Each cut name (as resolved) → the files that have it. */
  private readonly holders = new Map<string, Set<FileNode>>();
  private readonly doubts = new Map<FileNode, Doubt>();

  /** No file has a cut name now: nothing to compare. */
  get empty(): boolean {
    return this.holders.size === 0;
  }

  /** @param name a flat string (flatCopy), not a slice of a line */
  add(file: FileNode, name: string): void {
    file.cutNames ??= new Set();
    file.cutNames.add(name);
    let files = this.holders.get(name);
    if (files === undefined) {
      files = new Set();
      this.holders.set(name, files);
    }
    files.add(file);
  }

  /** The file has the whole name `name` now: the cut names it begins with were that name, cut. */
  extendedBy(file: FileNode, name: string): void {
    const cut = file.cutNames;
    if (cut === null) return;
    for (const short of [...cut]) if (name.startsWith(short)) this.remove(file, short);
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
    const found: FileNode[] = [];
    for (const [short, files] of this.holders) {
      if (name.startsWith(short) || (nameCut && short.startsWith(name))) for (const file of files) found.push(file);
    }
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
  notes(): string[] {
    if (this.doubts.size === 0) return [];
    const mappings: string[] = [];
    for (const doubt of this.doubts.values()) {
      if (mappings.length === DOUBTS_SHOWN) break;
      const mapped = doubt.mappedAt === null ? '' : ` (mapped at ${doubt.mappedAt})`;
      mappings.push(`process ${doubt.pid}'s of ${doubt.name} at ${doubt.address}${mapped}: ${callsOf(doubt)}`);
    }
    if (this.doubts.size > DOUBTS_SHOWN) mappings.push(`and ${this.doubts.size - DOUBTS_SHOWN} more mappings`);
    return [
      'bpftrace cut paths at the length it prints (BPFTRACE_STRLEN), and a name it cut is tied to no file: a call by such a name may have removed the last name of a file a live mapping held, ' +
        "or another file's, and no later mmap or ftruncate of the file showed its link count. Each such mapping, and the calls by names cut alike while it lived: " +
        `${mappings.join('; ')}. Keep paths shorter than that (relative names from a working directory near the files), or capture with strace`,
    ];
  }

  /** The names notes() gives, to be hashed whole under --redact: a cut name may hold spaces. */
  paths(): string[] {
    return [...this.doubts.values()].slice(0, DOUBTS_SHOWN).map((doubt) => doubt.name);
  }

  private remove(file: FileNode, name: string): void {
    file.cutNames?.delete(name);
    if (file.cutNames?.size === 0) file.cutNames = null;
    const files = this.holders.get(name);
    if (files === undefined) return;
    files.delete(file);
    if (files.size === 0) this.holders.delete(name);
  }
}

/** `trace.txt:232, trace.txt:238, 3 more, then trace.txt:250` */
function callsOf(doubt: Doubt): string {
  const between = doubt.count - doubt.first.length - 1;
  return [...doubt.first, ...(between > 0 ? [`${between} more, then ${doubt.last}`] : [doubt.last])].join(', ');
}
