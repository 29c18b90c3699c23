// What a file keeps of its life for a finding's evidence: the first few events
// and the most recent. Each event is what its keeper (ingest's) made of it:
// numbers, mostly (where its lines are in an input that can be read again),
// held here in one array of numbers per file, and a handle that reads them back.
// An object per line kept was 80 bytes, and its slot in an array 8 more; the
// numbers of a line are 24 (issue #14, goal 3: heap per finding).
import type { EventBase, EvidenceKeeper } from '../parse/events.js';
import type { EvidenceHandle, EvidenceLine, EvidenceSource, KeptEvent } from './findings.js';

/** How many events of a file's life are kept: the first few and the most recent. */
const EVIDENCE_HEAD = 8;
const EVIDENCE_TAIL = 40;

/** What was kept of one event: a keeper's handle, or the event itself when it came with no keeper (engine tests). */
type Kept = EvidenceHandle | EventBase;

/**
 * What keepers write, before it is copied into its file's numbers: emptied
 * only once it is long (setting an array's length to 0 drops its storage,
 * and the next write allocates it again).
 */
const written: number[] = [];
const WRITTEN_LIMIT = 4096;

/**
 * Where a finding's part of its file's life ends: the events kept when it was
 * resolved, and the event that resolved it if the file notes that one next (a
 * munmap is noted after the mappings it takes are settled). A finding's
 * evidence stops there: what the file did after is other mappings' story, and
 * the tail of a long life slid past the finding's own lines (review 21: a file
 * Apache mapped 48 times after its finding showed none of that finding's calls).
 * Valid against the file's events while none is dropped; frozen into a copy
 * of them just before one is.
 */
export class EvidenceMark {
  /** How many kept events, and of the numbers, are the finding's. */
  count: number;
  used: number;
  /** The event that resolved the finding, until the file notes its next event. */
  awaiting: EventBase | null;
  frozen: { kept: Kept[]; numbers: number[] } | null = null;

  constructor(count: number, used: number, awaiting: EventBase | null) {
    this.count = count;
    this.used = used;
    this.awaiting = awaiting;
  }
}

export class KeptEvidence {
  /** One per event kept, in order: mostly the same shared source object. */
  private readonly kept: Kept[] = [];
  /** Marks into `kept` not frozen yet: frozen before an event is dropped from the tail. */
  private marks: EvidenceMark[] = [];
  /**
   * The numbers each event's keeper wrote, in order (its handle says how
   * many), in [0, used). Grown by hand, by half and at least 12 (four lines),
   * not by push: an array grown by push has room for half as many again plus
   * 16, which was a third of what these numbers took. By a quarter, leaky80's
   * files reallocated 95,525 times (25 MiB, most of it garbage that outlived
   * young collections); so, 56,821 times (15 MiB), and 0.6 MiB less kept.
   */
  private numbers: number[] = [];
  private used = 0;
  /** The numbers of the first EVIDENCE_HEAD events end here: the tail's begin. */
  private headEnd = 0;
  /** Events added so far: tells a cached reading of the lines from a stale one. */
  added = 0;

  /** @param keeper what keeps the event (ingest's); the event's own by default */
  add(event: EventBase, keeper: EvidenceKeeper | undefined = event.keeper): void {
    this.added++;
    const marks = this.marks;
    let takers = false;
    for (let k = 0; k < marks.length; k++) {
      const mark = marks[k]!;
      if (mark.awaiting === event) takers = true;
      else mark.awaiting = null;
    }
    if (this.kept.length === EVIDENCE_HEAD + EVIDENCE_TAIL) {
      if (marks.length > 0) {
        for (const mark of marks) mark.frozen = { kept: this.kept.slice(0, mark.count), numbers: this.numbers.slice(0, mark.used) };
        this.marks = [];
      }
      this.dropOldestOfTail();
    }
    // An event that came with no keeper (engine tests) is kept as itself, with no numbers.
    const kept = keeper === undefined ? event : this.keepNumbers(keeper, event);
    this.kept.push(kept);
    if (this.kept.length <= EVIDENCE_HEAD) this.headEnd = this.used;
    if (!takers) return;
    // The finding's resolving event, noted now: its mark takes it.
    for (const mark of marks) {
      if (mark.awaiting !== event) continue;
      mark.awaiting = null;
      if (mark.frozen === null) {
        mark.count = this.kept.length;
        mark.used = this.used;
      } else {
        mark.frozen.kept.push(kept);
        for (let k = this.used - numberCount(kept); k < this.used; k++) mark.frozen.numbers.push(this.numbers[k]!);
      }
    }
  }

  /** Where a finding resolved by `event` (null: by none of the file's) ends its part of the life kept so far. */
  mark(event: EventBase | null): EvidenceMark {
    const last = this.marks[this.marks.length - 1];
    // Findings resolved together (one munmap of several mappings) share one mark, and so their lines.
    if (last !== undefined && last.count === this.kept.length && last.used === this.used && last.awaiting === event) return last;
    const mark = new EvidenceMark(this.kept.length, this.used, event);
    // Most files have one mark: an array made with it has room for one, where a push into [] makes room for 17.
    if (this.marks.length === 0) this.marks = [mark];
    else this.marks.push(mark);
    return mark;
  }

  /** What the keeper writes of the event, appended to the numbers; its handle. */
  private keepNumbers(keeper: EvidenceKeeper, event: EventBase): EvidenceHandle {
    if (written.length > WRITTEN_LIMIT) written.length = 0;
    const start = written.length;
    const kept = keeper.keep(event, written);
    const count = written.length - start;
    if (count !== kept.numberCount) throw new Error(`an evidence keeper wrote ${count} numbers for an event, and says ${kept.numberCount}`);
    const used = this.used;
    if (used + count > this.numbers.length) this.grow(used + count);
    const numbers = this.numbers;
    for (let k = 0; k < count; k++) numbers[used + k] = written[start + k]!;
    this.used = used + count;
    return kept;
  }

  private dropOldestOfTail(): void {
    const gone = numberCount(this.kept[EVIDENCE_HEAD]!);
    const numbers = this.numbers;
    for (let k = this.headEnd + gone; k < this.used; k++) numbers[k - gone] = numbers[k]!;
    this.used -= gone;
    this.kept.splice(EVIDENCE_HEAD, 1);
  }

  private grow(needed: number): void {
    const grown = new Array<number>(needed + Math.max(12, needed >> 1));
    for (let k = 0; k < this.used; k++) grown[k] = this.numbers[k]!;
    this.numbers = grown;
  }

  /** The lines of what was kept, in order (up to `mark`: a finding's part); each run of one source's events read back together. */
  lines(mark: EvidenceMark | null = null): EvidenceLine[] {
    if (mark?.frozen != null) return linesOf(mark.frozen.kept, mark.frozen.numbers, mark.frozen.kept.length);
    return linesOf(this.kept, this.numbers, mark === null ? this.kept.length : mark.count);
  }
}

function linesOf(kepts: readonly Kept[], numbers: readonly number[], count: number): EvidenceLine[] {
  const lines: EvidenceLine[] = [];
  let source: EvidenceSource | null = null;
  let run: KeptEvent[] = [];
  const flush = () => {
    if (source !== null && run.length > 0) for (const line of source.linesOf(run)) lines.push(line);
    run = [];
  };
  let at = 0;
  for (let k = 0; k < count; k++) {
    const kept = kepts[k]!;
    const from = at;
    at += numberCount(kept);
    if ('source' in kept) {
      if (kept.source !== source) flush();
      source = kept.source;
      run.push({ handle: kept, numbers: numbers.slice(from, at) });
    } else {
      flush();
      for (const line of evidenceLines(kept)) lines.push(line);
    }
  }
  flush();
  return lines;
}

function numberCount(kept: Kept): number {
  return 'source' in kept ? kept.numberCount : 0;
}

/** The physical lines an event was read from (two for an unfinished/resumed pair). */
function evidenceLines(event: EventBase): EvidenceLine[] {
  const texts = event.raw.split('\n');
  const numbers = event.lines ?? [event.place.line];
  const tid = event.tid === 0 ? null : event.tid;
  // Each physical line with its own time: a `<... resumed>` line is found in the trace by the time printed on it.
  return texts.map((text, index) => ({ file: event.place.file, line: numbers[index] ?? event.place.line, text, time: event.lineTimes?.[index] ?? event.time, tid }));
}
