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
// attach: nothing either way.
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

interface Candidate extends WindowMapping {
  /** Where the trace removed its name (an unlink, a rename over it), or null. */
  nameGoneAt: string | null;
}

export class AttachWindow extends DoubtfulCalls<{ path: string; address: number; goneAt: string; unmappedAt: string; pid: number }> {
  private candidates: Candidate[];
  /** The candidates by their names: each unlink and rename of the trace asks, and a hostile maps-before.txt may list thousands. */
  private readonly byName = new Map<string, Candidate[]>();

  /** @param nextId the engine's ids: a mapping in doubt is counted by an id no other has */
  constructor(
    readonly pid: number,
    mappings: readonly WindowMapping[],
    private readonly nextId: () => number,
  ) {
    super();
    // In address order, as drop's search needs, whatever order a hostile maps-before.txt had.
    this.candidates = mappings.map((mapping) => ({ ...mapping, nameGoneAt: null })).sort((a, b) => a.start - b.start);
    for (const candidate of this.candidates) this.named(candidate.path, candidate);
  }

  private named(name: string, candidate: Candidate): void {
    const known = this.byName.get(name);
    if (known === undefined) this.byName.set(name, [candidate]);
    else known.push(candidate);
  }

  get watching(): boolean {
    return this.candidates.length > 0;
  }

  /** Process `tgid` mapped [address, address + length): a candidate there was gone by then. */
  mapped(tgid: number, address: number, length: number): void {
    if (tgid === this.pid) this.drop(address, address + length, null);
  }

  /**
   * Process `tgid` unmapped, moved or mapped over (MAP_FIXED, `over`)
   * [address, address + length) at `event`: a candidate there was live at
   * the attach. One maps-start.txt shows mapped over only if this is that
   * MAP_FIXED mmap: an munmap first is of what was mapped over it before
   * the attach.
   */
  unmapped(tgid: number, address: number, length: number, event: EventBase, over = false): void {
    if (tgid === this.pid) this.drop(address, address + length, event, over);
  }

  /** The process ran a new program: none of its old mappings is left to tell anything. */
  replaced(tgid: number): void {
    if (tgid !== this.pid) return;
    this.candidates = [];
    this.byName.clear();
  }

  /** The trace removed the name `name` at `event` (an unlink, or a rename over it). */
  nameRemoved(name: string, event: EventBase): void {
    for (const candidate of this.byName.get(name) ?? []) if (candidate.nameGoneAt === null) candidate.nameGoneAt = `${event.place.file}:${event.place.line}`;
  }

  /** The trace renamed `from` to `to`: a candidate's file is known by its new name. */
  nameMoved(from: string, to: string): void {
    const moved = this.byName.get(from);
    if (moved === undefined) return;
    this.byName.delete(from);
    for (const candidate of moved) {
      candidate.path = to;
      this.named(to, candidate);
    }
  }

  /**
   * The candidates over [start, end) tell what they were and go. They are in
   * address order and apart, as maps prints them: found by a binary search,
   * for every mmap and munmap of a busy process comes here.
   */
  private drop(start: number, end: number, unmappedBy: EventBase | null, over = false): void {
    const candidates = this.candidates;
    const low = firstEndingAfter(candidates, start);
    let past = low;
    while (past < candidates.length && candidates[past]!.start < end) past++;
    if (past === low) return;
    for (const candidate of candidates.splice(low, past - low)) {
      const named = this.byName.get(candidate.path);
      if (named !== undefined) {
        const left = named.filter((other) => other !== candidate);
        if (left.length > 0) this.byName.set(candidate.path, left);
        else this.byName.delete(candidate.path);
      }
      if (unmappedBy === null || candidate.nameGoneAt === null || (candidate.replaced && !over)) continue;
      this.add({ path: candidate.path, address: candidate.start, goneAt: candidate.nameGoneAt, unmappedAt: `${unmappedBy.place.file}:${unmappedBy.place.line}`, pid: this.pid });
      this.doubt([{ id: this.nextId(), space: { ownerTgid: this.pid } }], candidate.path);
    }
  }

  note(): string | null {
    const first = this.first;
    if (first === null) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `process ${first.pid} mapped ${first.path} at 0x${first.address.toString(16)} before the capture attached (maps-before.txt), but no longer when maps-start.txt was read after the attach: ` +
      `the trace removed its name at ${first.goneAt} and unmapped it at ${first.unmappedAt}${more}. The mapping may have outlived its file ` +
      '(in doubt: the name may have been given to another file before the attach). A process that acts the moment a tracer attaches can do this on purpose'
    );
  }

  paths(): string[] {
    return this.first === null ? [] : [this.first.path];
  }
}
