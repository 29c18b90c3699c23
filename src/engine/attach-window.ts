// The moments between `capture --pid`'s attach and its read of maps-start.txt.
//
// The capture reads the target's maps before it starts the tracer
// (maps-before.txt) and again once the tracer has attached (maps-start.txt,
// which seeds the engine). A file mapping of the first that no line of the
// same file in the second covers went between the two: before the attach,
// untraced, or after it, when the trace shows its end. Review 32 (attack),
// F3: a target that watched its own TracerPid unlinked a mapped file and
// unmapped it in those moments; the trace showed both calls, but of a
// mapping no snapshot held, and the leak read as clean.
//
// A mapping whose range the trace first shows unmapped, moved or mapped
// over with MAP_FIXED was live at the attach; if a name it had was removed
// before that, it may have outlived its file: in doubt. Not a finding: the
// name may have been given to another file before the attach, which the
// trace does not show. A range the trace first shows mapped again without
// MAP_FIXED was free by then; one it never shows was unmapped before the
// attach: nothing either way. One moved while its name was there is
// followed at its new place: maps-start.txt is no one moment's view (the
// kernel lets the process run between the reads of it), and a mapping moved
// from ahead of the reader to behind it is in neither place (review 33
// attack, F3).
//
// A child the process forks in those moments holds a copy of each (review
// 33 attack, F1: the parent unmapped its own before the unlink, the child
// kept its copy past it, and the leak read as clean). A copy tells as the
// parent's would, and at the child's exit or exec, its copy, live until
// then, tells too once any copy of the same mapping is known to have been
// live at the attach.
import type { EventBase } from '../parse/events.js';
import { firstEndingAfter } from '../parse/maps.js';
import { DoubtfulCalls } from './files.js';

/** A file mapping of maps-before.txt that maps-start.txt no longer holds. */
export interface WindowMapping {
  start: number;
  end: number;
  /** Its name in maps-before.txt, as the trace spells names (a newline is itself). */
  path: string;
  /** maps-start.txt holds other mappings over it: it was mapped over, with MAP_FIXED, before that read. */
  replaced: boolean;
}

/** What the copies of one mapping of maps-before.txt share. */
interface Origin {
  /** The trace showed one of its copies unmapped, moved or mapped over: it was live at the attach, and so each copy made since. */
  live: boolean;
  /** Copies that went after their name did (`at`; null: one a fork past the caps may hold), before any copy showed that. */
  released: { candidate: Candidate; at: string | null }[];
}

/** The most forks given copies of the candidates (AttachWindow.forked), and the most candidates followed in all. */
const FORKS_COPIED = 64;
const HELD_MOST = 8192;

interface Candidate extends WindowMapping {
  /** The process that holds it. */
  tgid: number;
  origin: Origin;
  /** A fork child's copy: where it was forked; null for the process's own. */
  forkedAt: string | null;
  /** Where the trace removed its name (an unlink, a rename over it), or null. */
  nameGoneAt: string | null;
  /** The copy a fork given none (forked) may hold: followed by name only, held by no process. */
  unfollowed?: true;
}

interface Doubted {
  path: string;
  address: number;
  goneAt: string;
  /** Where the trace showed it live after that: its munmap, mremap or MAP_FIXED mmap, or its process's exit or exec; null: a fork past the caps may hold a copy. */
  endedAt: string | null;
  pid: number;
  forkedAt: string | null;
}

export class AttachWindow extends DoubtfulCalls<Doubted> {
  /** Each process's candidates, in address order, as drop's search needs. */
  private readonly held = new Map<number, Candidate[]>();
  /** The candidates by their names: each unlink and rename of the trace asks, and a hostile maps-before.txt may list thousands. */
  private readonly byName = new Map<string, Set<Candidate>>();
  /** The directories above byName's names, each with how many names it holds: a rename of any other holds none (namesUnder). */
  private readonly dirs = new Map<string, number>();
  private total = 0;
  /** Forks given copies so far; past FORKS_COPIED, or HELD_MOST candidates in all, forks get none, counted here. */
  private forksCopied = 0;
  private forksNotCopied = 0;
  /** The mappings of which a fork given no copies may hold one (review 34 attack, F1), each once, and how many wait for their name to go. */
  private readonly unfollowedOrigins = new Set<Origin>();
  private unfollowed = 0;
  /** Processes whose candidates a fork given no copies has covered: the origins of a process's candidates never change, so once is enough. */
  private readonly unfollowedFrom = new Set<number>();
  /** Candidates forked() looked at for forks given no copies: for tests, never in a report. */
  unfollowedSteps = 0;

  /** @param nextId the engine's ids: a mapping in doubt is counted by an id no other has */
  constructor(
    readonly pid: number,
    mappings: readonly WindowMapping[],
    private readonly nextId: () => number,
  ) {
    super();
    // In address order, whatever order a hostile maps-before.txt had.
    const own = mappings.map((mapping): Candidate => ({ ...mapping, tgid: pid, origin: { live: false, released: [] }, forkedAt: null, nameGoneAt: null })).sort((a, b) => a.start - b.start);
    if (own.length > 0) this.held.set(pid, own);
    for (const candidate of own) this.named(candidate);
    this.total = own.length;
  }

  private named(candidate: Candidate): void {
    const known = this.byName.get(candidate.path);
    if (known === undefined) {
      this.byName.set(candidate.path, new Set([candidate]));
      this.countDirs(candidate.path, 1);
    } else known.add(candidate);
  }

  private countDirs(name: string, by: 1 | -1): void {
    for (let slash = name.lastIndexOf('/'); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
      const dir = name.slice(0, slash);
      const held = (this.dirs.get(dir) ?? 0) + by;
      if (held > 0) this.dirs.set(dir, held);
      else this.dirs.delete(dir);
    }
  }

  /** A set, not a list: copies in many children share a name, and each goes at its own exit (review 33 code review, 2). */
  private unnamed(candidate: Candidate): void {
    const named = this.byName.get(candidate.path);
    if (named === undefined || !named.delete(candidate) || named.size > 0) return;
    this.byName.delete(candidate.path);
    this.countDirs(candidate.path, -1);
  }

  /**
   * The candidates' names under directory `dir`: none, at once, for a rename
   * of any directory that holds none, as nearly every rename of a trace is
   * (review 33's code review, 6: sorting them all at each rename cost 0.11 ms).
   */
  private namesUnder(dir: string): string[] {
    if (!this.dirs.has(dir)) return [];
    const prefix = `${dir}/`;
    return [...this.byName.keys()].filter((name) => name.startsWith(prefix));
  }

  get watching(): boolean {
    return this.total > 0 || this.unfollowed > 0;
  }

  /** Process `tgid` mapped [address, address + length): a candidate there was gone by then. */
  mapped(tgid: number, address: number, length: number): void {
    this.drop(tgid, address, address + length, null);
  }

  /**
   * Process `tgid` unmapped or mapped over (MAP_FIXED, `over`) [address,
   * address + length) at `event`: a candidate there was live at the attach.
   * One maps-start.txt shows mapped over only if this is that MAP_FIXED
   * mmap: an munmap first is of what was mapped over it before the attach.
   */
  unmapped(tgid: number, address: number, length: number, event: EventBase, over = false): void {
    this.drop(tgid, address, address + length, event, over);
  }

  /**
   * Process `tgid` moved [from, from + length) to [to, to + newLength) at
   * `event` (mremap): a candidate there was live at the attach, and is
   * followed at its new place while its name is there.
   */
  moved(tgid: number, from: number, length: number, to: number, newLength: number, event: EventBase, fixed: boolean): void {
    const end = from + length;
    const moving = this.drop(tgid, from, end, event);
    // What lay where it went: replaced, with MREMAP_FIXED, as a MAP_FIXED mmap replaces; else that range was free.
    if (fixed) this.drop(tgid, to, to + newLength, event, true);
    else this.drop(tgid, to, to + newLength, null);
    for (const candidate of moving) {
      // Its name gone, the move told it all (a doubt); else it is followed on, at its new place and, an mremap of
      // part of it, in what it kept at the old one.
      if (candidate.nameGoneAt !== null || candidate.replaced) continue;
      if (candidate.start < from) this.insert({ ...candidate, end: from });
      if (candidate.end > end) this.insert({ ...candidate, start: end });
      this.insert({ ...candidate, start: to, end: to + newLength });
    }
  }

  /**
   * Process `parent` forked `child` (no CLONE_VM): the child holds a copy of
   * each of its candidates. A candidate gone before the attach, which the
   * trace never touches, is followed to the end: a server forking a child
   * per request would copy it into each, and every unlink, rename and
   * munmap of a thousand children look at them. Those moments see few forks:
   * past FORKS_COPIED forks, or HELD_MOST candidates in all, a fork gets no
   * copy, and the note says how many. Its parent's candidates are then in
   * doubt once their name goes (and the mapping is shown live at the
   * attach): that fork may hold a copy still (review 34 attack, F1: 64 forks
   * that exit at once, then a 65th that keeps one, read as clean).
   */
  forked(parent: number, child: number, event: EventBase): void {
    const candidates = this.held.get(parent);
    if (candidates === undefined || this.held.has(child)) return;
    if (this.forksCopied >= FORKS_COPIED || this.total + candidates.length > HELD_MOST) {
      this.forksNotCopied++;
      // Each fork past the caps walked them all again: forks × candidates (review 34's code review, 4).
      if (this.unfollowedFrom.has(parent)) return;
      this.unfollowedFrom.add(parent);
      for (const candidate of candidates) {
        this.unfollowedSteps++;
        if (this.unfollowedOrigins.has(candidate.origin)) continue;
        this.unfollowedOrigins.add(candidate.origin);
        const copy: Candidate = { ...candidate, tgid: child, forkedAt: `${event.place.file}:${event.place.line}`, unfollowed: true };
        if (copy.nameGoneAt !== null) this.copyEnded(copy, null);
        else {
          this.named(copy);
          this.unfollowed++;
        }
      }
      return;
    }
    this.forksCopied++;
    const forkedAt = `${event.place.file}:${event.place.line}`;
    for (const candidate of candidates) this.insert({ ...candidate, tgid: child, forkedAt });
  }

  /**
   * Process `tgid` exited or ran a new program (`how`) at `event`: its
   * mappings went then. A fork child's copy made while its mapping was live
   * went now, after its name if that went first. The process's own tell
   * nothing at its exit: one live at the attach would have been in
   * maps-start.txt, or shown going, and an exit before that read leaves no
   * maps-start.txt. An exec in those moments, after the name went, may have
   * been what ended it (review 33 attack, F8: unlinked, then execve, read as
   * clean): in doubt, as an munmap then is.
   */
  released(tgid: number, event: EventBase, how: 'exit' | 'exec'): void {
    const candidates = this.held.get(tgid);
    if (candidates === undefined) return;
    this.held.delete(tgid);
    this.total -= candidates.length;
    const at = `${event.place.file}:${event.place.line}`;
    for (const candidate of candidates) {
      this.unnamed(candidate);
      if (candidate.forkedAt !== null) this.copyEnded(candidate, at);
      else if (how === 'exec' && candidate.nameGoneAt !== null && !candidate.replaced) {
        // Taken as live until then, so are the copies of it (as an munmap would show); its own doubt first, for the note.
        this.doubtOf(candidate, at);
        this.liveAtAttach(candidate.origin);
      }
    }
  }

  /** The trace removed the name `name` at `event` (an unlink, or a rename over it). */
  nameRemoved(name: string, event: EventBase): void {
    for (const candidate of [...(this.byName.get(name) ?? [])]) {
      if (candidate.nameGoneAt !== null) continue;
      candidate.nameGoneAt = `${event.place.file}:${event.place.line}`;
      if (candidate.unfollowed !== true) continue;
      // A fork given no copies may hold this mapping still: told now, or once it is shown live at the attach.
      this.unnamed(candidate);
      this.unfollowed--;
      this.copyEnded(candidate, null);
    }
  }

  /**
   * The trace renamed `from` to `to`: a candidate's file is known by its new
   * name, and so is one under `from` when it is a directory (review 33
   * attack, F10: the directory renamed first, the unlink of the file's new
   * name found no candidate).
   */
  nameMoved(from: string, to: string): void {
    for (const name of [from, ...this.namesUnder(from)]) {
      const moved = this.byName.get(name);
      if (moved === undefined) continue;
      this.byName.delete(name);
      this.countDirs(name, -1);
      const renamed = to + name.slice(from.length);
      for (const candidate of moved) {
        candidate.path = renamed;
        this.named(candidate);
      }
    }
  }

  private insert(candidate: Candidate): void {
    const candidates = this.held.get(candidate.tgid);
    if (candidates === undefined) this.held.set(candidate.tgid, [candidate]);
    else candidates.splice(firstEndingAfter(candidates, candidate.start), 0, candidate);
    this.named(candidate);
    this.total++;
  }

  /**
   * Process `tgid`'s candidates over [start, end) tell what they were and
   * go; returned. They are in address order and apart, as maps prints
   * them: found by a binary search, for every mmap and munmap of a busy
   * process comes here.
   */
  private drop(tgid: number, start: number, end: number, unmappedBy: EventBase | null, over = false): Candidate[] {
    const candidates = this.held.get(tgid);
    if (candidates === undefined) return [];
    const low = firstEndingAfter(candidates, start);
    let past = low;
    while (past < candidates.length && candidates[past]!.start < end) past++;
    if (past === low) return [];
    const dropped = candidates.splice(low, past - low);
    this.total -= dropped.length;
    if (candidates.length === 0) this.held.delete(tgid);
    for (const candidate of dropped) {
      this.unnamed(candidate);
      if (unmappedBy === null) continue;
      const at = `${unmappedBy.place.file}:${unmappedBy.place.line}`;
      if (candidate.forkedAt !== null) {
        // A child's copy of a mapping maps-start.txt shows mapped over: the trace alone tells which it held.
        if (!candidate.replaced) this.liveAtAttach(candidate.origin);
        this.copyEnded(candidate, at);
        continue;
      }
      // Mapped over before maps-start.txt's read: an munmap here is of what lies over it.
      if (candidate.replaced && !over) continue;
      // Its own doubt first, whatever copies went before: the note names the process's own mapping.
      if (candidate.nameGoneAt !== null) this.doubtOf(candidate, at);
      this.liveAtAttach(candidate.origin);
    }
    return dropped;
  }

  /**
   * A fork child's copy went at `at` (unmapped, moved, mapped over, or with
   * its process): if its name had gone, it outlived it if it was a copy of a
   * live mapping, which the trace may show only later (liveAtAttach).
   */
  private copyEnded(candidate: Candidate, at: string | null): void {
    if (candidate.nameGoneAt === null) return;
    if (candidate.origin.live) this.doubtOf(candidate, at);
    else candidate.origin.released.push({ candidate, at });
  }

  /** A copy of `origin` was live at the attach: so was each copy forked since, and those that went with their process after their name tell now. */
  private liveAtAttach(origin: Origin): void {
    if (origin.live) return;
    origin.live = true;
    for (const { candidate, at } of origin.released) this.doubtOf(candidate, at);
    origin.released = [];
  }

  private doubtOf(candidate: Candidate, endedAt: string | null): void {
    this.add({ path: candidate.path, address: candidate.start, goneAt: candidate.nameGoneAt!, endedAt, pid: candidate.tgid, forkedAt: candidate.forkedAt });
    this.doubt([{ id: this.nextId(), space: { ownerTgid: candidate.tgid } }], candidate.path);
  }

  note(): string | null {
    const first = this.first;
    const uncopied =
      this.forksNotCopied === 0
        ? ''
        : `${first === null ? '' : ' '}${this.forksNotCopied} fork${this.forksNotCopied === 1 ? '' : 's'} of process ${this.pid} or its children, past the first ${FORKS_COPIED}, ` +
          `${this.forksNotCopied === 1 ? 'was' : 'were'} not given copies of its mappings gone between the attach and the read of maps-start.txt (maps-before.txt): what they did with such a copy is not weighed`;
    if (first === null) return uncopied === '' ? null : uncopied.trimStart();
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    const at = `${first.path} at 0x${first.address.toString(16)}`;
    const told =
      first.endedAt === null
        ? `process ${first.pid}, forked at ${first.forkedAt} past the first ${FORKS_COPIED} forks (or ${HELD_MOST} mappings followed), was given no copy to follow of the mapping of ${at} ` +
          `that process ${this.pid} had before the capture attached (maps-before.txt) and no longer when maps-start.txt was read after the attach: the trace removed its name at ${first.goneAt}, and that fork may hold a copy still`
        : `${
            first.forkedAt === null
              ? `process ${first.pid} mapped ${at} before the capture attached (maps-before.txt), but no longer when maps-start.txt was read after the attach`
              : `process ${first.pid}, forked by process ${this.pid} at ${first.forkedAt}, held a copy of its mapping of ${at}, which process ${this.pid} had before the capture attached (maps-before.txt) and no longer when maps-start.txt was read after the attach`
          }: the trace removed its name at ${first.goneAt} and showed the mapping still there at ${first.endedAt}`;
    return (
      `${told}${more}. The mapping may have outlived its file ` +
      `(in doubt: the name may have been given to another file before the attach). A process that acts the moment a tracer attaches can do this on purpose${uncopied === '' ? '' : `.${uncopied}`}`
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.path];
  }
}
