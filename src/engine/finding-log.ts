// Findings, decided as soon as they are decidable and resolved later: the
// rules that decide them, the file whose life is their evidence, and the
// changes one call into the engine produced, for live views.
import { MAP_FIXED, type EventBase, type MmapEvent, type RenameEvent, type TraceEvent, type UnlinkEvent } from '../parse/events.js';
import { pageEnd } from './address-space.js';
import { benignRuleFor, benignRuleNamed, KEPT_BY_ANOTHER_NAME, MAPPED_WITH_NO_NAME, mappedWithNoName, RELEASED_DURING_UNLINK, RENAMED_NOT_REMOVED, type BenignRule } from './benign.js';
import { flatCopy } from '../parse/flat-copy.js';
import type { FileLife, FileNode } from './files.js';
import type { EvidenceMark } from './kept-evidence.js';
import { heldNow, hex, SEVERITY_OF, type At, type HeldLater, type EvidenceLine, type Finding, type FindingKind, type Resolution, type Severity } from './findings.js';
import type { MappingState, PendingOrphan, PendingRemap, Space } from './mappings.js';

/** What only one kind of finding has, given when it is decided. */
type KindFacts = Partial<Pick<Finding, 'unlinkedAt' | 'remappedAt' | 'newAddress'>>;

/** `updated`: a fact of a finding changed after it was decided (its pid, once the trace named the process). */
export type EngineChange = { type: 'decided'; finding: Finding } | { type: 'resolved'; finding: Finding } | { type: 'updated'; finding: Finding };

const NO_CHANGES: EngineChange[] = [];

/**
 * Findings made benign by a rule with `thenUnlinks` (SQLite's close), while
 * the thread that unlinked the file has yet to show the rest of the sequence.
 */
interface SequenceInProgress {
  rule: BenignRule;
  /** The unlink that completes it: its path as the thread will spell it, and the directory it is relative to. */
  thenUnlinks: string;
  dir: UnlinkEvent['dir']['fd'];
  findings: Finding[];
  mappings: MappingState[];
}

export class FindingLog {
  /** Every finding, in the order decided: `F1`, `F2`, … */
  private readonly all: Finding[] = [];
  /** Seeded mappings whose remap is held back (remapped). */
  private readonly pendingRemaps = new Set<MappingState>();
  /** The time of the trace's first event with one (Engine.apply). */
  firstSeconds: number | null = null;
  /** Once an event of the trace is this late, the remaps held back are decided (Engine.apply); Infinity with none. */
  remapDoubtEnds = Number.POSITIVE_INFINITY;
  /** What the current call into the engine changed. */
  private changes: EngineChange[] = NO_CHANGES;
  /** By thread: a benign sequence whose next calls are awaited (callMade). */
  private readonly sequences = new Map<number, SequenceInProgress>();

  /** A call into the engine begins: nothing changed yet. */
  begin(): void {
    this.changes = NO_CHANGES;
  }

  /** What changed since `begin`, handed over: the log keeps none of it (the end of a trace resolves every finding left). */
  changed(): EngineChange[] {
    const changes = this.changes;
    this.changes = NO_CHANGES;
    return changes;
  }

  findings(): readonly Finding[] {
    return this.all;
  }

  /** The file's life so far, up to the finding's resolution, for its evidence. */
  evidenceOf(finding: Finding): EvidenceLine[] {
    return DecidedFinding.evidenceOf(finding) ?? finding.evidence;
  }

  decidedSecondsOf(finding: Finding): number | null {
    return DecidedFinding.decidedSecondsOf(finding);
  }

  /**
   * The file's last name went: each of its live mappings outlives it. Returns
   * where, when asked (`wanted`) or when a mapping was live; null otherwise.
   */
  unlinked(file: FileNode, event: EventBase, wanted = false, by: Space | null = null): At | null {
    // Most files go with no mapping live: no place made for them.
    if (file.recordCount === 0) return wanted ? nameWentAt(event) : null;
    const unlinkedAt = nameWentAt(event);
    for (const mapping of file.liveRecords()) {
      if (mapping.remapFinding !== null && mapping.remapFinding.unlinkedAt === null) {
        mapping.remapFinding.unlinkedAt = unlinkedAt;
        this.push({ type: 'updated', finding: mapping.remapFinding });
      }
      if (mapping.pendingRemap !== null) mapping.pendingRemap.facts.unlinkedAt ??= unlinkedAt;
      const found = mapping.unlinkFinding;
      const pending = mapping.pendingOrphan;
      if (found !== null) {
        // An O_TMPFILE file mapped with no name, named by a link since, and now unlinked while that mapping lives: a leak after all.
        if (mappedWithNoName(found) && found.resolution === null) {
          DecidedFinding.orphaned(found, unlinkedAt, event.seconds);
          this.push({ type: 'updated', finding: found });
        }
      } else if (pending !== null) {
        // A fork child's copy of such a mapping: decided as it was going to be, an orphan now.
        if (pending.rule !== null) {
          pending.rule = null;
          pending.unlinkedAt = unlinkedAt;
          pending.unlinkedSeconds = event.seconds;
          pending.madeAfterUnlink = false;
          pending.note = `Inherited by fork from process ${pending.parentTgid}, whose mapping of this file outlived it too.`;
        } else if (pending.traced === true && pending.unlinkedAt === null) {
          // The trace's own mapping, which maps-start.txt shows deleted: here is the unlink it could not tell.
          pending.unlinkedAt = unlinkedAt;
          pending.unlinkedSeconds = event.seconds;
          pending.note = null;
        }
      } else {
        const finding = this.decide('unlinked-while-mapped', mapping, { unlinkedAt }, event.seconds, stillMapped(mapping), null, by === null || by === mapping.space);
        mapping.unlinkFinding = finding;
        heldWhenGone(finding, mapping);
        const rule = finding.benign === undefined ? undefined : benignRuleNamed(finding.benign);
        if (rule?.thenUnlinks !== undefined) this.awaitSequence(rule, finding, mapping, event);
      }
    }
    return unlinkedAt;
  }

  /**
   * The thread's next call, before it is applied: it bears out a benign
   * sequence in progress (an munmap of the mappings, a close, then the unlink
   * that completes it) or breaks it, and the findings are errors after all.
   */
  callMade(event: TraceEvent): void {
    if (this.sequences.size === 0) return;
    const sequence = this.sequences.get(event.tid);
    if (sequence === undefined) return;
    switch (event.kind) {
      case 'close':
        return;
      case 'munmap': {
        const end = pageEnd(event.address, event.length);
        if (sequence.mappings.some((mapping) => mapping.address < end && event.address < pageEnd(mapping.address, mapping.length))) return;
        break;
      }
      case 'unlink':
        if (event.path === sequence.thenUnlinks && event.dir.fd === sequence.dir) {
          this.sequences.delete(event.tid);
          // The sequence unmaps what it unlinked before this last step (review 22: a program that unlinked both names and kept the mapping).
          if (sequence.findings.some((finding) => finding.resolution === null)) this.notBenign(sequence);
          return;
        }
        break;
      default:
        break;
    }
    this.sequences.delete(event.tid);
    this.notBenign(sequence);
  }

  /**
   * The file was seen with no name left (a link count of 0) where the trace
   * could not follow its names (cut-names.ts): each live mapping outlived
   * them, and no unlink of the trace can be named as the one that removed
   * the last. Decided at the call that showed it, which the delay counts from.
   */
  lostNamesOutOfSight(file: FileNode, event: EventBase, note: string, byOwner = true): void {
    if (file.recordCount === 0) return;
    for (const mapping of file.liveRecords()) {
      if (mapping.unlinkFinding !== null || mapping.pendingOrphan !== null) continue;
      const finding = this.decide('unlinked-while-mapped', mapping, {}, event.seconds, stillMapped(mapping), null, byOwner);
      finding.note ??= note;
      mapping.unlinkFinding = finding;
      heldWhenGone(finding, mapping);
    }
  }

  /**
   * After the trace: the maps at the end of the capture show the mapping of a
   * deleted file, and no call of the trace removed its last name
   * (Mappings.deletedAtEnd). /proc's word is the proof, so the finding is
   * confirmed and still mapped; when the name went is not known, so it has
   * no unlink and no delay. Not its own process's unlink, as far as the trace
   * shows: a rule by the file's name that needs one does not apply.
   */
  deletedOutOfSight(mapping: MappingState, note: string): void {
    const finding = this.goneOutOfSight(mapping, note);
    finding.confirmedByMaps = true;
    this.resolve(finding, 'still-mapped', null);
  }

  /**
   * deletedOutOfSight for a process whose maps were read before the capture
   * stopped it (a launched command): /proc's word again, and the exit the
   * trace then shows (`exit`) released the mapping, holding `held`.
   */
  deletedBeforeExit(mapping: MappingState, note: string, held: Held, exit: EventBase | null): void {
    const finding = this.goneOutOfSight(mapping, note, held);
    finding.confirmedByMaps = true;
    // Its lines end with maps-end.txt's, noted after the exit.
    this.resolve(finding, exit === null ? 'still-mapped' : 'process-exited', exit, mapping.file.evidenceMark(null));
  }

  /**
   * A mapping whose file went by a call the trace does not show, found so
   * while it lives (Mappings.goneWhenExited: the process's exit, about to
   * release it, resolves it). `held`: what it holds, when its space no
   * longer shows it (deletedBeforeExit).
   */
  goneOutOfSight(mapping: MappingState, note: string, held = stillMapped(mapping)): Finding {
    const finding = this.decide('unlinked-while-mapped', mapping, {}, null, held, null, false);
    finding.note ??= note;
    mapping.unlinkFinding = finding;
    return finding;
  }

  /**
   * A mapping made of a file with no name left: its last name already gone
   * (through an fd kept open), or an O_TMPFILE file no link has named. It
   * holds the file as a leak does, yet no unlink left it behind: the idiom for
   * anonymous shared memory, benign (MAPPED_WITH_NO_NAME). Decided at the
   * mmap, which its delay counts from; unlinkedAt is the unlink that came
   * before, when the trace shows it.
   */
  mappedWithNoName(mapping: MappingState, seconds: number | null): void {
    const file = mapping.file;
    const unlinkedAt = file.wentHeld?.at ?? null;
    const finding = this.decide('unlinked-while-mapped', mapping, { unlinkedAt }, seconds, stillMapped(mapping), MAPPED_WITH_NO_NAME);
    const how = file.unnamed
      ? 'An O_TMPFILE file, mapped before any link gave it a name.'
      : unlinkedAt === null
        ? 'Mapped after its last name was unlinked (through an fd kept open); the unlink is not in the trace.'
        : unlinkedAt.renamedOver === true
          ? 'Mapped after another file was renamed over its last name (through an fd kept open).'
          : 'Mapped after its last name was unlinked (through an fd kept open).';
    finding.note = `${how} ${MAPPED_WITH_NO_NAME.note}`;
    mapping.unlinkFinding = finding;
  }

  /**
   * The resize signature: mapped, size changed, mapped again (this mmap),
   * the old mapping still live in the same address space. The size change is
   * an ftruncate, a truncate or an open with O_TRUNC of the trace, or, when the trace shows none
   * since the old mapping, this mmap reaching further into the file than the
   * old one and than any size the trace saw (grownOutOfSight).
   */
  remapped(file: FileNode, space: Space, event: MmapEvent, remappedAt: At): void {
    // Most mmaps: the file's first mapping.
    if (file.recordCount === 0) return;
    for (const old of file.liveRecords()) {
      if (old.space !== space || old.remapFinding !== null || old.pendingRemap !== null) continue;
      // A window onto another part of the file (a mapper that grows by chunks) is not a remap, nor a window moved
      // along it, the same length at another offset (journald's mmap cache steps 8 MiB windows by 4 MiB, so they
      // overlap; review 20): a resize maps the file again at its new size.
      if (old.offset >= event.offset + event.length || event.offset >= old.offset + old.length) continue;
      if (old.offset !== event.offset && old.length === event.length) continue;
      let note: string | null = null;
      // A size change an open with O_TRUNC made: the note names that open, as the ftruncate's evidence names it (code review 58, F4).
      if (file.sizeChangeSeq > old.seq) note = file.emptiedAt === null ? null : emptiedByOpen(file.emptiedAt);
      else if (grownOutOfSight(file, old, event)) note = GROWN_OUT_OF_SIGHT;
      else continue;
      const pending: PendingRemap = { facts: { remappedAt, newAddress: hex(event.address) }, seconds: event.seconds, note, held: stillMapped(old) };
      // maps-start.txt read late (a busy target, the first milliseconds) holds mappings the trace then makes: a
      // seed's remap early in the trace is decided once the trace shows the seed was there (unmapped, released,
      // there at the end) or once SEED_DOUBT_SECONDS of the trace have passed, and dropped if an mmap makes the
      // seed anew meanwhile (Mappings.settle; review 9's late snapshot: tdb's first mapping, remapped at once).
      const doubtEnds = this.firstSeconds === null ? null : this.firstSeconds + SEED_DOUBT_SECONDS;
      if (old.seeded && (doubtEnds === null || event.seconds === null || event.seconds < doubtEnds)) {
        old.pendingRemap = pending;
        this.pendingRemaps.add(old);
        if (doubtEnds !== null) this.remapDoubtEnds = Math.min(this.remapDoubtEnds, doubtEnds);
      } else this.decideRemap(old, pending);
    }
  }

  private decideRemap(mapping: MappingState, pending: PendingRemap): void {
    const finding = this.decide('remapped-without-unmap', mapping, pending.facts, pending.seconds, pending.held);
    if (pending.note !== null) finding.note ??= pending.note;
    mapping.remapFinding = finding;
  }

  /** A seed's remap held back (remapped): the seed was there, so the remap was one. */
  decidePendingRemap(mapping: MappingState): void {
    const pending = mapping.pendingRemap;
    if (pending === null) return;
    mapping.pendingRemap = null;
    this.pendingRemaps.delete(mapping);
    this.decideRemap(mapping, pending);
  }

  /** A seed's remap held back (remapped): the seed was not there yet, so there was no remap. */
  dropPendingRemap(mapping: MappingState): void {
    mapping.pendingRemap = null;
    this.pendingRemaps.delete(mapping);
  }

  /** The trace ended, or went on past the doubt, with the seeds still there: their remaps were remaps. */
  decidePendingRemaps(): void {
    this.remapDoubtEnds = Number.POSITIVE_INFINITY;
    for (const mapping of [...this.pendingRemaps]) this.decidePendingRemap(mapping);
  }

  /**
   * A mapping of a file already gone was seen to live on (see PendingOrphan):
   * its finding shows what it held last, before the call that took its last piece.
   */
  decidePending(mapping: MappingState, pending: PendingOrphan): void {
    const held = mapping.pieces === 0 && pending.held !== null ? pending.held : stillMapped(mapping);
    // Not its own process's unlink: a fork child did not remove the name its parent did, and a snapshot does not say who did.
    const finding = this.decide('unlinked-while-mapped', mapping, { unlinkedAt: pending.unlinkedAt }, pending.unlinkedSeconds, held, pending.rule, false);
    if (pending.madeAfterUnlink && finding.benign === undefined) {
      finding.mappedAfterUnlink = true;
      if (pending.origin === 'fork') finding.inheritedFrom = pending.parentTgid;
    }
    if (pending.origin === 'continued') finding.note = continuedNote(mapping.file, pending);
    else if (pending.note !== null) finding.note ??= pending.note;
    else if (pending.rule !== null) finding.note = `Inherited by fork from process ${pending.parentTgid}, which mapped this file when it had no name left. ${pending.rule.note}`;
    mapping.unlinkFinding = finding;
  }

  /** @param evidenceEnd where the finding's part of its file's life ends, if not at `event` (EvidenceMark) */
  resolve(finding: Finding, how: Resolution, event: EventBase | null, evidenceEnd?: EvidenceMark): void {
    const decidedSeconds = this.decidedSecondsOf(finding);
    if (finding.resolution !== null) return;
    // Still mapped at the end: the whole life is its part.
    if (how !== 'still-mapped') DecidedFinding.endEvidence(finding, evidenceEnd ?? null, event);
    finding.resolution = how;
    finding.resolvedAt = event === null ? null : atOf(event);
    if (event !== null && event.seconds !== null && decidedSeconds !== null) {
      finding.delayMs = Math.round((event.seconds - decidedSeconds) * 1e6) / 1e3;
      // A fork's copy counts from the clone's return, which a child that ends at once on another CPU can beat (bpftrace).
      if (finding.delayMs < 0 && finding.inheritedFrom !== undefined) finding.delayMs = 0;
    }
    this.releasedDuringUnlink(finding, event);
    this.notAtExit(finding);
    this.push({ type: 'resolved', finding });
  }

  /**
   * An mremap moved or resized the finding's mapping after it was decided, or
   * a munmap (an mmap over part of it) cut it (Finding.heldLater): an
   * `updated` change the first time; later ones are carried by its
   * resolution's line (review 58, F3: 3,000 resizes wrote the finding 3,000
   * times). Nothing when it holds what the finding already says.
   */
  heldLater(finding: Finding, held: Held, by: HeldLater['by'], at: At): void {
    const ranges = held.ranges ?? [{ address: hex(held.address), length: held.length }];
    const same = (now: readonly { address: string; length: number }[]) =>
      now.length === ranges.length && now.every((range, k) => range.address === ranges[k]!.address && range.length === ranges[k]!.length);
    if (same(heldNow(finding))) return;
    // Back to what it held when decided (a munmap that failed put it back): nothing changed after all.
    if (same(finding.ranges ?? [finding])) {
      delete finding.heldLater;
      this.push({ type: 'updated', finding });
      return;
    }
    const first = finding.heldLater === undefined;
    finding.heldLater = { address: hex(held.address), length: held.length, ...(held.ranges === undefined ? {} : { ranges: held.ranges }), by, at };
    if (first) this.push({ type: 'updated', finding });
  }

  /**
   * The mapping of a benign finding was mremapped to `length` bytes: past the
   * size its rule allows (BenignRule.maxLength), it is an error after all.
   */
  grew(finding: Finding, length: number, event: EventBase): void {
    const rule = finding.benign === undefined ? undefined : benignRuleNamed(finding.benign);
    if (rule?.maxLength === undefined || length <= rule.maxLength) return;
    finding.severity = SEVERITY_OF[finding.kind];
    delete finding.benign;
    finding.note =
      `Named as the file of "${rule.name}" is, but its mapping was mremapped to ${length} bytes at ${event.place.file}:${event.place.line}, after the unlink: ` +
      `that rule holds only for a mapping of ${rule.maxLength} bytes or less; this one outlived the file as any other does (its size here is the one it had when the file went).`;
    this.push({ type: 'updated', finding });
  }

  /**
   * After the trace: a finding of a mapping still live at the end, whose
   * file the capture found with a name left then (maps-end.nlink): benign
   * (KEPT_BY_ANOTHER_NAME), an `updated` change.
   */
  /** A finding of a file found gone at its process's exit that the maps at the end show named (RENAMED_NOT_REMOVED), an `updated` change. */
  renamedNotRemoved(finding: Finding): void {
    if (finding.kind !== 'unlinked-while-mapped' || finding.benign !== undefined) return;
    finding.severity = 'info';
    finding.benign = RENAMED_NOT_REMOVED.name;
    finding.note = RENAMED_NOT_REMOVED.note;
    delete finding.mappedAfterUnlink;
    this.push({ type: 'updated', finding });
  }

  keptByAnotherName(finding: Finding): void {
    if (finding.kind !== 'unlinked-while-mapped' || finding.benign !== undefined || finding.resolution !== 'still-mapped') return;
    finding.severity = 'info';
    finding.benign = KEPT_BY_ANOTHER_NAME.name;
    finding.note = KEPT_BY_ANOTHER_NAME.note;
    // Its name never went: not made after it did.
    delete finding.mappedAfterUnlink;
    this.push({ type: 'updated', finding });
  }

  /**
   * A finding of an unlink released before the unlink returned (the time
   * bpftrace prints), though the unlink came first in the trace's order (its
   * entry). Benign (RELEASED_DURING_UNLINK). Only bpftrace orders a call by
   * its entry; a strace line's time is the call's start. The mapping may
   * also have been made after that entry, by a process that held the file
   * mapped then (a continued finding, whose delay counts from its mmap): a
   * rename that waited 30 ms on another CPU while a reader opened, mapped
   * and unmapped the file it was replacing, the name there all along (CI,
   * review 24's readers). The release counts from the entry of the call
   * that made it (`event`): an mmap over the mapping (MAP_FIXED) drops it as
   * it starts, and bpftrace prints it at its return, which MAP_POPULATE may
   * put tens of ms later, after the unlink of a process that waited to see
   * the mapping gone (review 34, exactness F3). Not a fork's copy, whose
   * delay counts from the clone's return, which a child on another CPU can
   * beat.
   */
  private releasedDuringUnlink(finding: Finding, event: EventBase | null): void {
    if (finding.kind !== 'unlinked-while-mapped' || finding.benign !== undefined || finding.inheritedFrom !== undefined) return;
    const released = event === null ? null : (event.enteredSeconds ?? event.seconds);
    const unlinkReturned = finding.unlinkedAt?.seconds ?? null;
    if (released === null || unlinkReturned === null || released >= unlinkReturned) return;
    if (finding.resolution !== 'unmapped' && finding.resolution !== 'process-exited') return;
    finding.severity = 'info';
    finding.benign = RELEASED_DURING_UNLINK.name;
    finding.note = RELEASED_DURING_UNLINK.note;
    delete finding.mappedAfterUnlink;
  }

  /**
   * A finding benign by a rule of a program's exit (BenignRule.exitsWithinSeconds)
   * whose mapping did not go soon after the unlink: still mapped at the end,
   * or its process exited (or unmapped it) long after. Without times in the
   * trace, a mapping that went is taken to have gone as the rule says.
   */
  private notAtExit(finding: Finding): void {
    const rule = finding.benign === undefined ? undefined : benignRuleNamed(finding.benign);
    const within = rule?.exitsWithinSeconds;
    if (within === undefined) return;
    const goneSoon = finding.resolution !== 'still-mapped' && (finding.delayMs === null || finding.delayMs <= within * 1000);
    if (goneSoon) return;
    finding.severity = SEVERITY_OF[finding.kind];
    delete finding.benign;
    const after = finding.delayMs === null ? '' : ` ${(finding.delayMs / 1000).toFixed(finding.delayMs < 10_000 ? 2 : 0)} s after the unlink`;
    const what =
      finding.resolution === 'process-exited'
        ? `its process exited only${after}`
        : finding.resolution === 'unmapped'
          ? `its process unmapped it only${after}`
          : 'its process was still running with it mapped when the trace ended';
    finding.note = `Named as the file of "${rule!.name}" is, but ${what}: that rule holds only for a mapping that goes within ${within} s of the unlink, as its program exits; this one outlived the file as any other does.`;
  }

  /** The trace ended: every finding not resolved yet is still mapped. */
  resolveRemaining(): void {
    // A sequence the trace does not show whole is not the one that makes its findings benign.
    for (const sequence of this.sequences.values()) this.notBenign(sequence);
    this.sequences.clear();
    for (const finding of this.all) {
      if (finding.resolution === null) this.resolve(finding, 'still-mapped', null);
    }
  }

  /** Findings already out (live views, NDJSON) hear of the new pid. */
  renumber(from: number, to: number): void {
    for (const finding of this.all) {
      if (finding.pid !== from) continue;
      finding.pid = to;
      this.push({ type: 'updated', finding });
    }
  }

  /** The first benign finding of an unlink starts the thread's sequence; the mapping's others join it. */
  private awaitSequence(rule: BenignRule, finding: Finding, mapping: MappingState, event: EventBase): void {
    const unlink = 'kind' in event && (event as TraceEvent).kind === 'unlink' ? (event as UnlinkEvent) : null;
    let sequence = this.sequences.get(event.tid);
    if (sequence === undefined || sequence.rule !== rule) {
      // A rename over the name is no step of the sequence.
      if (unlink === null || rule.thenUnlinks === undefined) {
        this.notBenign({ rule, thenUnlinks: '', dir: 'cwd', findings: [finding], mappings: [mapping] });
        return;
      }
      sequence = { rule, thenUnlinks: rule.thenUnlinks(unlink.path), dir: unlink.dir.fd, findings: [], mappings: [] };
      this.sequences.set(event.tid, sequence);
    }
    sequence.findings.push(finding);
    sequence.mappings.push(mapping);
  }

  /** The thread did not go on as the rule says: its findings are what an unlink that leaves a mapping is. */
  private notBenign(sequence: SequenceInProgress): void {
    for (const finding of sequence.findings) {
      finding.severity = SEVERITY_OF[finding.kind];
      delete finding.benign;
      finding.note = `Its own process removed the name, but its next calls were not the rest of the sequence "${sequence.rule.name}" is benign for: the mapping outlived the file as any other does.`;
      this.push({ type: 'updated', finding });
    }
  }

  private decide(kind: FindingKind, mapping: MappingState, facts: KindFacts, seconds: number | null, held = stillMapped(mapping), rule: BenignRule | null = null, unlinkedByOwner = true): Finding {
    const finding = new DecidedFinding(`F${this.all.length + 1}`, kind, mapping, facts, seconds, held, rule, unlinkedByOwner);
    mapping.file.findingRefs++;
    this.all.push(finding);
    this.push({ type: 'decided', finding });
    return finding;
  }

  /** Called before a change of `finding` is queued: its mapping says what it holds (Mappings.sayHeldOf). */
  beforeChange: (finding: Finding) => void = () => {};

  private push(change: EngineChange): void {
    this.beforeChange(change.finding);
    if (this.changes === NO_CHANGES) {
      this.changes = [];
      this.changedNow.clear();
    }
    // A finding is written as it stands once the call is done: one line says every change of that call.
    if (change.type === 'updated' && this.changedNow.has(change.finding)) return;
    this.changedNow.add(change.finding);
    this.changes.push(change);
  }

  /** The findings of `changes`: an `updated` one of a finding already there says nothing more. */
  private readonly changedNow = new Set<Finding>();
}

/**
 * A finding as the engine decides it: the report's fields, in the order the
 * schema shows them, and in private fields what the engine keeps of it (no
 * copy, report or comparison of a finding sees them): the file whose life is
 * its evidence, and when it was decided, in trace seconds (the start of its
 * delay). As entries of WeakMaps these cost about 1 µs each to set, and every
 * full collection walked them (ephemerons); a literal with the facts spread
 * in, about 5 µs more (issue #14: 31,208 findings).
 */
class DecidedFinding implements Finding {
  // `declare`: no field is defined before the constructor writes it, so the keys come in its order.
  declare id: string;
  declare kind: FindingKind;
  declare severity: Severity;
  declare pid: number;
  declare path: string;
  declare names: readonly string[];
  declare address: string;
  declare length: number;
  declare ranges?: { address: string; length: number }[];
  declare mapped?: { address: string; length: number };
  declare heldLater?: Finding['heldLater'];
  declare mappedAt: At | null;
  declare unlinkedAt: At | null;
  declare remappedAt: At | null;
  declare newAddress: string | null;
  declare resolution: Resolution | null;
  declare resolvedAt: At | null;
  declare delayMs: number | null;
  declare confirmedByMaps: boolean | null;
  declare evidence: EvidenceLine[];
  declare note: string | null;
  declare inheritedFrom?: number;
  declare benign?: string;
  declare mappedByUnclonedTask?: number;
  /** Its file's evidence, and the file while the engine can still reach it. */
  readonly #life: FileLife;
  #decidedSeconds: number | null;
  /** Where its part of the file's life ends, once it is resolved; null: the whole life so far. */
  #evidenceEnd: EvidenceMark | null = null;

  /**
   * @param rule what makes it benign, known from the trace (MAPPED_WITH_NO_NAME); else a rule by the file's name, if any
   * @param unlinkedByOwner the mapping's own process removed the file's last name (see BenignRule.ownUnlinkOnly)
   */
  constructor(id: string, kind: FindingKind, mapping: MappingState, facts: KindFacts, decidedSeconds: number | null, held: Held, rule: BenignRule | null, unlinkedByOwner: boolean) {
    const file = mapping.file;
    this.id = id;
    this.kind = kind;
    this.severity = SEVERITY_OF[kind];
    this.pid = mapping.space.ownerTgid;
    this.path = file.displayName;
    // Shared with the file, and every finding decided before its next name: never changed.
    this.names = file.history;
    this.address = hex(held.address);
    this.length = held.length;
    this.mappedAt = mapping.mappedAt;
    this.unlinkedAt = facts.unlinkedAt ?? null;
    this.remappedAt = facts.remappedAt ?? null;
    this.newAddress = facts.newAddress ?? null;
    this.resolution = null;
    this.resolvedAt = null;
    this.delayMs = null;
    this.confirmedByMaps = null;
    Object.defineProperty(this, 'evidence', LAZY_EVIDENCE);
    this.note = null;
    this.#life = file.findingLife();
    this.#decidedSeconds = decidedSeconds;
    if (held.ranges !== undefined) {
      this.ranges = held.ranges;
      this.mapped = { address: hex(mapping.address), length: mapping.length };
    }
    const benign = rule ?? benignRuleFor(file.displayName, unlinkedByOwner, held.length);
    if (benign !== null) {
      this.note = benign.note;
      this.severity = 'info';
      this.benign = benign.name;
    }
    if (mapping.unclonedMaker !== 0) {
      this.mappedByUnclonedTask = mapping.unclonedMaker;
      this.note ??=
        `Mapped by task ${mapping.unclonedMaker}, which the trace never showed cloned (clone left out of -e trace=…?) and took for a thread of process ${this.pid}: ` +
        'if it was a process of its own, its exit ended this mapping, perhaps before the unlink, and this finding is false. ' +
        'A trace with clone,clone3,fork,vfork in its filter tells.';
    }
  }

  /** The lines of its part of the file's life; undefined for a copy. */
  static evidenceOf(finding: Finding): EvidenceLine[] | undefined {
    return #life in finding ? (finding as DecidedFinding).#life.evidence((finding as DecidedFinding).#evidenceEnd) : undefined;
  }

  /** What tells findings with the same evidence lines: their file's life, and where their part of it ends. */
  static evidenceToken(finding: Finding): object | undefined {
    return #life in finding ? ((finding as DecidedFinding).#evidenceEnd ?? (finding as DecidedFinding).#life) : undefined;
  }

  /** Resolved by `event`: its evidence ends there (or at `mark`, taken when its mapping went). */
  static endEvidence(finding: Finding, mark: EvidenceMark | null, event: EventBase | null): void {
    if (!(#life in finding)) return;
    const decided = finding as DecidedFinding;
    decided.#evidenceEnd = mark ?? decided.#life.kept.mark(event);
  }

  static decidedSecondsOf(finding: Finding): number | null {
    return #decidedSeconds in finding ? (finding as DecidedFinding).#decidedSeconds : null;
  }

  /**
   * A finding of a mapping made with no name left (benign) becomes an orphan:
   * the file got a name since (a link of an O_TMPFILE file) and lost it while
   * the mapping lived. It says what one decided at that unlink would.
   */
  static orphaned(finding: Finding, unlinkedAt: At, seconds: number | null): void {
    finding.severity = SEVERITY_OF[finding.kind];
    delete finding.benign;
    finding.note = null;
    finding.unlinkedAt = unlinkedAt;
    if (!(#decidedSeconds in finding)) return;
    const decided = finding as DecidedFinding;
    decided.#decidedSeconds = seconds;
    // Its last name, and every one it had: the link's. The file is there: a live mapping of it was orphaned, and a
    // file is let go only once it has none (FileNode.letGoOfFindings), and taken back by the finding of a new one.
    const file = decided.#life.file;
    if (file === null) return;
    decided.path = file.displayName;
    decided.names = file.history;
  }
}

/**
 * The file whose life is the finding's evidence, and where the finding's part
 * of it ends, as a token to compare: two findings with the same token have the
 * same evidence lines (a resize and the unlink it explains, unmapped by one
 * call), told without reading them. None for a copy, or for a finding whose
 * evidence was given its own lines.
 */
export function evidenceFileOf(finding: Finding): object | undefined {
  return Object.getOwnPropertyDescriptor(finding, 'evidence')?.get === LAZY_EVIDENCE.get ? DecidedFinding.evidenceToken(finding) : undefined;
}

/**
 * A finding's evidence is its file's life, built into lines only when read (a
 * report, a view, NDJSON): building it for every finding as it was decided
 * and again as it was resolved cost a tenth of the time of a filtered trace
 * and kept 48 lines per finding (issue #14). The property is enumerable, so a
 * spread or JSON.stringify of the finding still carries the lines; a view
 * that assigns its own replaces it with a plain value. One getter and setter
 * for every finding: a pair of closures per finding turned each one into a
 * dictionary of properties, about 1 KiB.
 */
const LAZY_EVIDENCE: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Finding): EvidenceLine[] {
    return DecidedFinding.evidenceOf(this) ?? [];
  },
  set(this: Finding, value: EvidenceLine[]) {
    Object.defineProperty(this, 'evidence', { value, enumerable: true, configurable: true, writable: true });
  },
};

/**
 * How long into the trace a mapping of maps-start.txt may be one the trace
 * makes later: the capture reads /proc/PID/maps once the tracer has attached,
 * in well under a second for all but the largest maps (262,000 mappings took
 * 25 s in review 10; a remap on such a seed later than this is decided at once,
 * as before this rule).
 */
const SEED_DOUBT_SECONDS = 5;

/** The note of a remap whose size change the trace does not show (grownOutOfSight). */
export const GROWN_OUT_OF_SIGHT =
  'No size change orphanmap follows came between them: this mmap reaches further into the file than the older mapping, still live, ' +
  "so the file grew by a call orphanmap does not read (write, pwrite or fallocate, printed in the trace or not), or by a truncate the capture's filter left out. " +
  "(A program that maps the first pages of a file, then the whole file, shows the same, and so does one that maps windows of a file it grows, as systemd's journal does: its evidence tells.)";

/** The note of a resize finding whose size change was an open with O_TRUNC, at `at`. */
export function emptiedByOpen(at: string): string {
  return (
    `The size change between them was an open with O_TRUNC at ${at}, which emptied the file under the older mapping, still live: ` +
    "the older mapping then reads what the rewrite put there, or faults (SIGBUS) past the file's new end, even when the rewrite brought it back to its old size."
  );
}

/** mmap's prot for a mapping that can be neither read, written nor run. */
const PROT_NONE = 0;

/**
 * The file grew between the old mapping and this mmap, though the trace shows
 * no ftruncate or truncate since the old one was made (a Java thread's
 * FileChannel.write past the end, Python's os.posix_fallocate; strace's
 * recommended filter leaves write, pwrite and fallocate out, and the parser
 * does not follow them). A mapping past the end of its file is of no use
 * (SIGBUS), so the new one being longer and ending further into the file than
 * the old one says the file grew; beyond the last size the trace saw, if it
 * saw one (within it, the new mapping is only a bigger window), and beyond
 * the furthest any live mapping of the file in this space reaches (furthestReach).
 * Two mappings of the same length are two readers of one file, or a window
 * moved along it: no resize. A MAP_FIXED mmap is none either, nor a PROT_NONE one.
 */
function grownOutOfSight(file: FileNode, old: MappingState, event: MmapEvent): boolean {
  // At an address the program chose: ld.so laying out a library's segments, two of which share a page of the file (a
  // 4 KiB one, then an 8 KiB one from the same offset), not a file mapped again at its new size.
  if ((event.flags & MAP_FIXED) !== 0) return false;
  // PROT_NONE: address space reserved over the file, not its bytes mapped (glibc's localedef reserves 512 MiB over
  // locale-archive, then maps the file into it MAP_FIXED; review 19). Past the file's end it reads nothing either.
  if (event.prot === PROT_NONE) return false;
  const newEnd = event.offset + event.length;
  // The walk over the file's mappings last: most mmaps are decided before it.
  if (event.length <= old.length || newEnd <= old.offset + old.length || newEnd <= furthestReach(file, old.space)) return false;
  return file.size === null || newEnd > file.size;
}

/**
 * The furthest into the file any live mapping of it in `space` reaches, as
 * it was mapped. A program that maps a library as ld.so laid it out (one
 * mapping of its whole span, then its segments over it, MAP_FIXED) and then
 * maps the whole file to read it (gold links against the libgcc_s it runs)
 * reaches no further than that first mapping did: the file did not grow,
 * though the new mapping reaches past each segment (review 20). Another
 * process's mapping says nothing of it: that one may have been made after
 * the file grew.
 */
function furthestReach(file: FileNode, space: Space): number {
  let reach = 0;
  for (const mapping of file.liveRecords()) if (mapping.space === space) reach = Math.max(reach, mapping.offset + mapping.length);
  return reach;
}

/**
 * What the finding of a leak's last mapping says (Mappings.continued). Not
 * "the one /proc shows": the mapping the process held when the name went
 * showed "(deleted)" too, as its own finding (review 91, 6).
 */
function continuedNote(file: FileNode, pending: PendingOrphan): string {
  const went =
    file.wentHeld !== null
      ? 'Mapped after its last name went, by a process that held the file mapped then'
      : "Mapped after its last name went by a call the trace does not show, by a process that had mapped the file by that name and kept it open (another process removed or replaced it under it, or the capture's filter left the call out)";
  const remapped = pending.remapped ?? 0;
  const before =
    remapped === 0
      ? ''
      : ` ${remapped} other mapping${remapped === 1 ? '' : 's'} of it that this process made after the name went and unmapped (resizes, or windows moved along the file) ${remapped === 1 ? 'is' : 'are'} not listed.`;
  return `${went}: the same leak going on through the fd it kept, not the shared-memory idiom. Of the mappings it made of the file since, this is the last (each shows "(deleted)" in /proc while it lives).${before}`;
}

/** An error finding of a mapping its file's last name went from: its space goes on leaking the file if it maps it again (FileNode.leakedIn). */
function heldWhenGone(finding: Finding, mapping: MappingState): void {
  if (finding.benign !== undefined) return;
  const file = mapping.file;
  if (file.leakedIn === null) file.leakedIn = [mapping.space];
  else if (!file.leakedIn.includes(mapping.space)) file.leakedIn.push(mapping.space);
}

/**
 * The place of the call that took a file's last name: a rename over it says so (At.renamedOver). Not one with
 * RENAME_NOREPLACE, which succeeds only where no file had the name: the file the trace knew by it had gone unseen
 * (code review 92).
 */
export function nameWentAt(event: EventBase): At {
  const at = atOf(event);
  const rename = event as Partial<RenameEvent>;
  if (rename.kind === 'rename' && rename.noReplace !== true) at.renamedOver = true;
  return at;
}

/** A moment of the trace, as a finding places it. */
export function atOf(event: EventBase): At {
  // Copies: a slice of the line would keep the whole line alive as long as the finding.
  const at: At = { file: event.place.file, line: event.place.line, time: event.time === null ? null : flatCopy(event.time), seconds: event.seconds, tid: event.tid };
  if (event.comm !== undefined) at.comm = flatCopy(event.comm);
  return at;
}

/** What a finding says a mapping holds: where, how many bytes, and its pieces once partial munmaps cut it. */
export interface Held {
  address: number;
  length: number;
  ranges?: { address: string; length: number }[];
}

/**
 * What a mapping still holds: mmap's own address and length while it is
 * whole; once partial munmaps cut it, its pieces (page-rounded, as /proc
 * shows them), even if one piece is left.
 */
export function stillMapped(mapping: MappingState): Held {
  return heldOf(mapping, mapping.space.piecesOf(mapping));
}

/** What `mapping` holds as `pieces` (its live pieces, in address order; none: the whole of it). */
export function heldOf(mapping: MappingState, pieces: readonly { start: number; end: number }[]): Held {
  const whole = pieces.length === 1 && pieces[0]!.start === mapping.address && pieces[0]!.end === pageEnd(mapping.address, mapping.length);
  if (pieces.length === 0 || whole) return { address: mapping.address, length: mapping.length };
  const length = pieces.reduce((sum, piece) => sum + piece.end - piece.start, 0);
  return { address: pieces[0]!.start, length, ranges: pieces.map((piece) => ({ address: hex(piece.start), length: piece.end - piece.start })) };
}
