// What a finding says, in the words every view uses: text, Markdown, Jira and
// the TUI render these strings and numbers, and none of them derives its own.
//
// The vocabulary (issue #10, item 7):
//   held when unlinked       bytes a finding's mapping held when its file's last
//                            name was unlinked (`length` of unlinked-while-mapped
//                            findings that are not benign, but for those
//                            whose mapping was made after, mappedAfterUnlink);
//   still mapped at the end  findings whose resolution is `still-mapped` (or not
//                            yet resolved while a trace goes on);
//   benign                   severity `info` (the JVM's hsperfdata at exit, a
//                            file mapped with no name left): counted apart
//                            from errors and warnings, everywhere; never
//                            "held when unlinked".
// Times come from the numbers the parser carries, never from time text.
import { mappedWithNoName } from '../engine/benign.js';
import { FINDING_KINDS, SEVERITY_OF, type At, type Finding, type FindingKind, type HeldLater, type Resolution, type Severity } from '../engine/findings.js';
import type { BundleMeta } from '../ingest/bundle.js';
import { noEventTraced, untracedTarget } from '../ingest/untraced.js';
import { escapeControl, formatBytes, formatCount, isByteCount, MAX_BYTES, outOfRange } from './sanitize.js';

export const HELD_WHEN_UNLINKED = 'held when unlinked';
export const STILL_MAPPED_AT_THE_END = 'still mapped at the end';
export const BENIGN = 'benign';

// ---- severity ---------------------------------------------------------------

/** Errors first: the orphans are what the reader came for; their causes follow, the benign last. */
export const SEVERITY_ORDER: readonly Severity[] = ['error', 'warning', 'info'];

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

export function bySeverity(a: Finding, b: Finding): number {
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
}

/** The severity as prose and table cells say it: `info` is shown as "benign". */
export const SEVERITY_WORD: Readonly<Record<Severity, string>> = { error: 'error', warning: 'warning', info: BENIGN };

/** The label in front of a finding's block (text report, TUI detail). */
export const SEVERITY_TAG: Readonly<Record<Severity, string>> = { error: 'ERROR', warning: 'WARNING', info: 'BENIGN' };

/** Three columns for the TUI table. */
export const SEVERITY_SHORT: Readonly<Record<Severity, string>> = { error: 'ERR', warning: 'WRN', info: 'BEN' };

export const KIND_SHORT: Readonly<Record<FindingKind, string>> = { 'unlinked-while-mapped': 'unlink', 'remapped-without-unmap': 'remap' };

/** "unlinked-while-mapped (error)", "unlinked-while-mapped (benign)". */
export function kindAndSeverity(kind: FindingKind, severity: Severity): string {
  return `${kind} (${SEVERITY_WORD[severity]})`;
}

// ---- time -------------------------------------------------------------------

/**
 * The instant of a place in seconds, as the parser computed it for the event
 * (`seconds` on At). An engine that does not carry it yet gives null: the
 * views then show no age rather than one made up from time text.
 */
export function secondsOf(at: At | null | undefined): number | null {
  const seconds = (at as (At & { seconds?: number | null }) | null | undefined)?.seconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds : null;
}

/** When the finding became true: the unlink, the mmap of a file with no name left, or the second mmap of a resize. */
export function decidedAt(finding: Finding): At | null {
  if (mappedWithNoName(finding)) return finding.mappedAt;
  return finding.kind === 'unlinked-while-mapped' ? finding.unlinkedAt : (finding.remappedAt ?? finding.unlinkedAt);
}

/**
 * The unlink came before the mapping: views say it first, and the delay
 * counts from the mapping. A file mapped with no name left (the benign
 * idiom), or mapped again by a process that held it when its last name went
 * (a leak going on: the unlink a line above the mapping in the same file).
 * In two files (an -ff set, whose remover's lines are in a file of its own:
 * review 91, 1), the engine's word (mappedAfterUnlink), which read them in
 * order: their times may be on two clocks (inputs given together, one -tt and
 * one -ttt) or a day apart (-tt past midnight; code review 92, 1). Not a fork
 * child's copy, whose place is its parent's mapping.
 */
export function unlinkedFirst(finding: Finding): boolean {
  if (mappedWithNoName(finding)) return true;
  const { unlinkedAt, mappedAt } = finding;
  if (finding.kind !== 'unlinked-while-mapped' || unlinkedAt === null || mappedAt === null) return false;
  if (unlinkedAt.file === mappedAt.file) return unlinkedAt.line < mappedAt.line;
  return finding.mappedAfterUnlink === true && finding.inheritedFrom === undefined;
}

/**
 * What a bpftrace trace's "+seconds" count from: its script's begin line,
 * printed once its probes attached, 8 to 40 s after a capture began (review
 * 90, S-6: "+17.16" added to the capture's start missed the server's own log
 * line by the attach's 6.6 s).
 */
export const BPFTRACE_TIMES = 'times "+s.us": seconds since the bpftrace script began (once its probes attached), not wall-clock times';

/** Where the file's last name went, as every view says it: "trace.txt:5  12.000001  tid 100", "… (before it was mapped)". */
export function unlinkedText(finding: Finding, separator = '  '): string {
  if (!unlinkedFirst(finding)) {
    // Not "(before the trace)": a name can go during the capture by a call the trace does not show (another process's, maps-end.txt's word).
    if (finding.unlinkedAt === null) return finding.note === null ? 'not in the trace' : 'not in the trace (see the note)';
    return withWords(finding.unlinkedAt, separator, null);
  }
  if (finding.unlinkedAt === null) return 'not in the trace: the file had no name when it was mapped';
  return withWords(finding.unlinkedAt, separator, 'before it was mapped');
}

/** A place where the last name went, and in parentheses how (a rename over it) and `more`. */
function withWords(place: At, separator: string, more: string | null): string {
  const words = [place.renamedOver === true ? 'another file renamed over it' : null, more].filter((word) => word !== null);
  return words.length === 0 ? describePlace(place, separator) : `${describePlace(place, separator)}${separator.trim() === '' ? separator : ' '}(${words.join(', ')})`;
}

export function formatDelay(ms: number): string {
  // A clock that went back, or a time strace never printed that way.
  if (!(ms >= 0 && ms <= Number.MAX_SAFE_INTEGER)) return `? (${outOfRange(ms, 'ms')})`;
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 2 * 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Where and when, as every view prints it: file:line, time, thread (and its name when known). */
export function describePlace(place: At | null, separator = '  '): string {
  if (place === null) return '(before the trace)';
  const parts = [`${escapeControl(place.file)}:${place.line}`];
  if (place.time !== null) parts.push(escapeControl(place.time));
  if (place.tid !== null && place.tid !== 0) parts.push(place.comm === undefined ? `tid ${place.tid}` : `tid ${place.tid} (${escapeControl(place.comm)})`);
  return parts.join(separator);
}

// ---- how it ended -----------------------------------------------------------

/** What a finding's delay counts from, in words after the delay: "later" (than the unlink or the remap). */
function delayFrom(finding: Finding): string {
  if (finding.inheritedFrom !== undefined) return 'after the fork';
  return unlinkedFirst(finding) ? 'after it was mapped' : 'later';
}

/**
 * A release timed before the unlink it is counted from: the two calls ran at
 * once on two CPUs ("released while the unlink ran"; strace's release is
 * timed at its call's start, bpftrace's unlink at its return). Its delay is
 * no clock gone wrong.
 */
function releasedBeforeUnlink(finding: Finding): boolean {
  return finding.delayMs !== null && finding.delayMs < 0 && Number.isFinite(finding.delayMs) && !unlinkedFirst(finding);
}

/** The resolution in full: "released when the process exited or exec'd 32.6 ms later". */
export function resolutionText(finding: Finding): string {
  const delay =
    finding.delayMs === null
      ? ''
      : releasedBeforeUnlink(finding)
        ? ` ${formatDelay(-finding.delayMs)} before the unlink's time (the two calls ran at once)`
        : ` ${formatDelay(finding.delayMs)} ${delayFrom(finding)}`;
  switch (finding.resolution) {
    case 'unmapped':
      // "unmapped at PLACE, 17.5 ms after it was mapped": the delay does not run to that place's own words.
      if (unlinkedFirst(finding) || releasedBeforeUnlink(finding)) return `unmapped${finding.resolvedAt === null ? '' : ` at ${describePlace(finding.resolvedAt)}${delay === '' ? '' : ','}`}${delay}`;
      return `unmapped${delay}${finding.resolvedAt === null ? '' : ` at ${describePlace(finding.resolvedAt)}`}`;
    case 'process-exited':
      // A launched command's maps at the end, read before the capture stopped it, showed the mapping (review 24, D3).
      return `released when the process exited or exec'd${delay}${finding.confirmedByMaps === true ? ` (confirmed by /proc/${finding.pid}/maps at the end, read before)` : ''}`;
    case 'still-mapped': {
      // Named by process, not by file: the captured process's maps are maps-end.txt, every other's maps-end.N.txt.
      const maps = `/proc/${finding.pid}/maps at the end`;
      const confirm = finding.confirmedByMaps === null ? '' : finding.confirmedByMaps ? ` (confirmed by ${maps})` : ` (NOT in ${maps}: released after the trace ended?)`;
      return `${STILL_MAPPED_AT_THE_END} of the trace${confirm}`;
    }
    case null:
      return 'still mapped (trace goes on)';
  }
}

/**
 * How some findings ended, counted: "3 still mapped at the end, 2,300 unmapped
 * later (median 1.2 s, max 4.0 s), 59 released when the process exited". The
 * delays tell a release the garbage collector only delayed from a leak held
 * until the exit (review 46, L6: 2,359 Lucene findings, each its own block).
 */
export function endingsText(findings: readonly Finding[]): string {
  const still = findings.filter(isStillMapped).length;
  const exited = findings.filter((f) => f.resolution === 'process-exited').length;
  const unmapped = findings.filter((f) => f.resolution === 'unmapped');
  const delays = unmapped
    .map((f) => f.delayMs)
    .filter((ms): ms is number => ms !== null && ms >= 0 && ms <= Number.MAX_SAFE_INTEGER)
    .sort((a, b) => a - b);
  const parts: string[] = [];
  if (still > 0) parts.push(`${formatCount(still)} ${STILL_MAPPED_AT_THE_END}`);
  if (unmapped.length > 0) {
    const spread = delays.length === 0 ? '' : delays.length === 1 ? ` (${formatDelay(delays[0]!)})` : ` (median ${formatDelay(median(delays))}, max ${formatDelay(delays[delays.length - 1]!)})`;
    parts.push(`${formatCount(unmapped.length)} unmapped later${spread}`);
  }
  if (exited > 0) parts.push(`${formatCount(exited)} released when the process exited`);
  return parts.join(', ');
}

/** The median of SORTED: of an even count, the mean of the middle two (review 90: "median" of two delays said the smaller). */
function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The resolution in a table cell: "still mapped", "unmapped after 16.4 ms", "released at exit". */
export function stateLabel(finding: Finding): string {
  switch (finding.resolution) {
    case null:
    case 'still-mapped':
      return 'still mapped';
    case 'unmapped':
      if (releasedBeforeUnlink(finding)) return 'unmapped as it was unlinked';
      return finding.delayMs === null ? 'unmapped' : `unmapped after ${formatDelay(finding.delayMs)}`;
    case 'process-exited':
      return 'released at exit';
  }
}

/** Still holding its mapping when the trace (so far) ends. */
export function isStillMapped(finding: Finding): boolean {
  return finding.resolution === 'still-mapped' || finding.resolution === null;
}

// ---- the mapping ------------------------------------------------------------

const PAGE_BYTES = 4096;
const PAGE = BigInt(PAGE_BYTES);

export interface RangeView {
  start: string;
  /** Exclusive, page-rounded as /proc/PID/maps shows it. */
  end: string;
}

export interface MappingView {
  /** What was still mapped when the finding was decided, in address order. */
  ranges: RangeView[];
  bytes: number;
  /** False when the trace gave a length no mapping can have (negative, over 2^64): `size` says so, and `end`s are "?". */
  plausible: boolean;
  /** "10.0 MiB, 10,485,760 bytes" ("2.3 KiB, 2,398 bytes mapped as 1 page"); "length -5 bytes: out of range" when not plausible. */
  size: string;
  /** For a mapping partial munmaps, or mmaps over part of it (ld.so lays a library out so), had cut: "still mapped in 2 pieces; the rest was unmapped or mapped over". */
  cut: string | null;
  /**
   * For a mapping an mremap moved or resized, or a munmap cut, after the
   * finding (Finding.heldLater): "moved by mremap to 0x…-0x… (256.0 KiB) at
   * trace.txt:32", "cut by munmap at trace.txt:40 to 0x…-0x… (192.0 KiB)".
   */
  later: string | null;
}

export function mappingView(finding: Finding): MappingView {
  const pieces = finding.ranges !== undefined && finding.ranges.length > 0 ? finding.ranges : [{ address: finding.address, length: finding.length }];
  const ranges = pieces.map((piece) => ({ start: piece.address, end: rangeEnd(piece.address, piece.length) }));
  const split = finding.ranges !== undefined && finding.ranges.length > 0;
  const cut = !split ? null : `still mapped${ranges.length > 1 ? ` in ${ranges.length} pieces` : ''}; the rest was unmapped or mapped over`;
  const plausible = isByteCount(finding.length);
  const size = plausible ? `${formatBytes(finding.length)}, ${formatCount(finding.length)} bytes${pagesNote(finding.length)}` : `length ${outOfRange(finding.length, 'bytes')}`;
  return { ranges, bytes: finding.length, plausible, size, cut, later: laterText(finding.heldLater, finding.address) };
}

/** Pieces named one by one in a line before the rest are counted. */
const LATER_PIECES_NAMED = 4;

/** How a call other than the mapping's own mremap changed it (HeldLater.by). */
const CUT_BY: Record<Exclude<HeldLater['by'], 'mremap'>, string> = {
  munmap: 'cut by munmap',
  mmap: 'cut by an mmap over part of it',
  'mremap-over': 'cut by an mremap over part of it',
};

function laterText(later: HeldLater | undefined, address: string): string | null {
  if (later === undefined) return null;
  const pieces = later.ranges ?? [later];
  const named = pieces.slice(0, LATER_PIECES_NAMED).map((piece) => `${piece.address}-${rangeEnd(piece.address, piece.length)}`);
  if (pieces.length > LATER_PIECES_NAMED) named.push(`${formatCount(pieces.length - LATER_PIECES_NAMED)} more`);
  const held = `${named.join(', ')} (${isByteCount(later.length) ? formatBytes(later.length) : outOfRange(later.length, 'bytes')}${pieces.length > 1 ? ` in ${pieces.length} pieces` : ''})`;
  const at = `${escapeControl(later.at.file)}:${later.at.line}`;
  // Grown or shrunk where it was (Python's mmap.resize()), not moved (code review 60, F2).
  if (later.by === 'mremap') return `${later.ranges === undefined && later.address === address ? 'resized' : 'moved'} by mremap to ${held} at ${at}`;
  return `${CUT_BY[later.by]} at ${at} to ${held}`;
}

/**
 * " mapped as 1 page" for a length that is no whole number of pages: the
 * range beside it is page-rounded, as /proc/PID/maps prints it (a Kafka time
 * index maps 10,485,756 bytes), and without this the two would disagree.
 */
export function pagesNote(length: number): string {
  if (length % PAGE_BYTES === 0) return '';
  return ` mapped as ${plural(Math.ceil(length / PAGE_BYTES), 'page', 'pages')}`;
}

/** "0x7f00-0x8000 and 0x9000-0xa000 (8.0 KiB, 8,192 bytes still mapped in 2 pieces; the rest was unmapped or mapped over)". */
export function mappingText(view: MappingView): string {
  return `${rangesText(view.ranges)} (${view.size}${view.cut === null ? '' : ` ${view.cut}`})${view.later === null ? '' : `; ${view.later}`}`;
}

export function rangesText(ranges: readonly RangeView[]): string {
  return listWords(ranges.map((range) => `${range.start}-${range.end}`));
}

/**
 * End of a range as maps prints it, or "?" when the start or the length is no
 * address or size (the end would be past 2^64). BigInt: user addresses fit a
 * double, but nothing here should depend on it.
 */
function rangeEnd(address: string, length: number): string {
  if (!isByteCount(length) || !/^0x[0-9a-f]{1,16}$/i.test(address)) return '?';
  // A user address (at most 12 hex digits) and a length below 2^52: exact as doubles, and a BigInt each was a twentieth of a text report.
  if (address.length <= 14 && length < 2 ** 52) return `0x${(Number.parseInt(address, 16) + Math.ceil(length / PAGE_BYTES) * PAGE_BYTES).toString(16)}`;
  const pages = (BigInt(length) + PAGE - 1n) / PAGE;
  const end = BigInt(address) + pages * PAGE;
  return end > BigInt(MAX_BYTES) ? '?' : `0x${end.toString(16)}`;
}

/** The second mmap of a resize, without printing an address the trace did not give. */
export function remapText(finding: Pick<Finding, 'newAddress'>): string {
  return finding.newAddress === null ? '' : `new mapping at ${finding.newAddress}`;
}

// ---- counts -----------------------------------------------------------------

/** The counts every summary prints, computed once. */
export interface Tally {
  findings: number;
  errors: number;
  warnings: number;
  benign: number;
  /** Findings that are not benign, by kind. */
  byKind: Record<FindingKind, number>;
  /** unlinked-while-mapped findings that are not benign: the mappings that outlived their files. */
  orphans: number;
  /** Thread groups of the orphans, ascending. */
  orphanPids: number[];
  heldWhenUnlinkedBytes: number;
  /** Orphans still mapped at the end, and their bytes. */
  stillMappedAtEnd: number;
  stillMappedAtEndBytes: number;
  /**
   * Of those, the ones a bundle's maps at the end no longer list
   * (confirmedByMaps false): released between the end of the trace and the
   * read of the maps (a GC while bpftrace took its probes off; review 46, L3).
   */
  stillMappedGoneFromMaps: number;
  /** Orphans by how they ended. */
  orphanResolutions: Record<Resolution | 'open', number>;
  /** Non-benign findings of any kind still mapped at the end (the summary tables' column). */
  stillMappedFindings: number;
}

export function tally(findings: Iterable<Finding>): Tally {
  const t: Tally = {
    findings: 0,
    errors: 0,
    warnings: 0,
    benign: 0,
    byKind: Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>,
    orphans: 0,
    orphanPids: [],
    heldWhenUnlinkedBytes: 0,
    stillMappedAtEnd: 0,
    stillMappedAtEndBytes: 0,
    stillMappedGoneFromMaps: 0,
    orphanResolutions: { unmapped: 0, 'process-exited': 0, 'still-mapped': 0, open: 0 },
    stillMappedFindings: 0,
  };
  const pids = new Set<number>();
  for (const finding of findings) {
    t.findings++;
    if (finding.severity === 'info') {
      t.benign++;
      continue;
    }
    if (finding.severity === 'error') t.errors++;
    else t.warnings++;
    t.byKind[finding.kind]++;
    if (isStillMapped(finding)) t.stillMappedFindings++;
    if (finding.kind !== 'unlinked-while-mapped') continue;
    t.orphans++;
    pids.add(finding.pid);
    t.heldWhenUnlinkedBytes += heldWhenUnlinked(finding);
    t.orphanResolutions[finding.resolution ?? 'open']++;
    if (isStillMapped(finding)) {
      t.stillMappedAtEnd++;
      // Where an mremap took it since, as /proc shows it at the end (review 56, F6).
      t.stillMappedAtEndBytes += mappedBytes(finding);
      if (finding.confirmedByMaps === false) t.stillMappedGoneFromMaps++;
    }
  }
  t.orphanPids = [...pids].sort((a, b) => a - b);
  return t;
}

/**
 * Bytes a finding held when its file was unlinked: an unlinked-while-mapped
 * finding's mapping. A length no mapping can have adds nothing to a sum (the
 * finding's own view says it is out of range).
 */
export function heldWhenUnlinked(finding: Finding): number {
  return finding.kind === 'unlinked-while-mapped' && finding.mappedAfterUnlink !== true ? plausibleBytes(finding.length) : 0;
}

/** Bytes a finding's mapping holds now: what an mremap or munmap left since, else its length (0 for a length no mapping can have). */
export function mappedBytes(finding: Finding): number {
  return plausibleBytes(finding.heldLater?.length ?? finding.length);
}

/**
 * The bytes a mapping of `length` holds, as /proc/PID/maps counts them: whole
 * pages (mmap of 5,000 bytes maps two). Summed as given, 10,000 such mappings
 * totalled a third less than maps shows (review 28, exactness 2).
 */
function plausibleBytes(length: number): number {
  return isByteCount(length) ? Math.ceil(length / PAGE_BYTES) * PAGE_BYTES : 0;
}

/** The benign rule's name ("JVM hsperfdata at exit") when one rule covers every benign finding; else null. */
export function benignReason(findings: readonly Finding[]): string | null {
  const names = new Set(findings.filter((f) => f.severity === 'info').map((f) => f.benign ?? null));
  if (names.size !== 1) return null;
  return names.values().next().value ?? null;
}

/** "8 unlinked-while-mapped (error), 8 remapped-without-unmap (warning), 1 benign". */
export function findingCountsText(t: Tally): string {
  const parts = FINDING_KINDS.map((kind) => `${formatCount(t.byKind[kind])} ${kindAndSeverity(kind, SEVERITY_OF[kind])}`);
  parts.push(`${formatCount(t.benign)} ${BENIGN}`);
  return parts.join(', ');
}

/** "80.0 MiB held when unlinked; still mapped at the end: none, 8 released when the process exited". */
export function endStateText(t: Tally): string {
  const gone = t.stillMappedGoneFromMaps === 0 ? '' : ` (${formatCount(t.stillMappedGoneFromMaps)} of them not in the maps read after the trace: released after it ended?)`;
  const still = t.stillMappedAtEnd === 0 ? 'none' : `${formatCount(t.stillMappedAtEnd)}, ${formatBytes(t.stillMappedAtEndBytes)}${gone}`;
  const others: string[] = [];
  if (t.orphanResolutions.unmapped > 0) others.push(`${formatCount(t.orphanResolutions.unmapped)} unmapped later`);
  if (t.orphanResolutions['process-exited'] > 0) others.push(`${formatCount(t.orphanResolutions['process-exited'])} released when the process exited`);
  return `${formatBytes(t.heldWhenUnlinkedBytes)} ${HELD_WHEN_UNLINKED}; ${STILL_MAPPED_AT_THE_END}: ${still}${others.length > 0 ? `${t.stillMappedAtEnd === 0 ? ',' : ';'} ${others.join(', ')}` : ''}`;
}

/**
 * The one-sentence verdict, without the "orphanmap: " prefix. What was held
 * when unlinked and what is still mapped at the end are said apart: a JVM
 * that exits releases every orphan, and the headline must not call them still mapped.
 */
export function headline(findings: readonly Finding[], mappingsInDoubt = 0, undecided: string | null = null, removedUnseen = 0): string {
  const t = tally(findings);
  const parts: string[] = [];
  if (t.orphans > 0) {
    const who = t.orphanPids.length === 1 ? `process ${t.orphanPids[0]}` : `${t.orphanPids.length} processes`;
    parts.push(`${plural(t.orphans, 'mapping outlived its file', 'mappings outlived their files')} in ${who} (${endStateText(t)})`);
    if (mappingsInDoubt > 0) parts.push(`${inDoubtText(mappingsInDoubt, true)}: see the warnings)`);
    if (undecided !== null) parts.push(blindText(undecided));
    if (removedUnseen > 0) parts.push(removedUnseenText(removedUnseen));
  } else {
    const notClear = notClearText(mappingsInDoubt, undecided, removedUnseen);
    parts.push(notClear === null ? 'no mapping outlived its file' : `no mapping was seen to outlive its file, but ${notClear}`);
  }
  if (t.byKind['remapped-without-unmap'] > 0) {
    parts.push(`${plural(t.byKind['remapped-without-unmap'], 'resize', 'resizes')} mapped a file again without unmapping the old mapping`);
  }
  const falseMaybe = findings.filter((f) => f.severity !== 'info' && mayBeFalse(f)).length;
  if (falseMaybe > 0) parts.push(mayBeFalseText(falseMaybe));
  if (t.benign > 0) {
    const reason = benignReason(findings);
    parts.push(`${formatCount(t.benign)} ${BENIGN}${reason === null ? '' : ` (${reason})`}`);
  }
  return `${parts.join('; ')}.`;
}

/**
 * A finding whose mapping was made by a task the trace never showed cloned
 * (Finding.mappedByUnclonedTask): it may have ended with that task. The
 * headline counts those that are errors or warnings, and --fail-on does not
 * count them as failing: if they are all that would fail it, the verdict is
 * undecided (refuseUndecided).
 */
export const mayBeFalse = (finding: Finding): boolean => finding.mappedByUnclonedTask !== undefined;

/** "2 findings may be false (…)": errors and warnings whose mapping a task the trace never showed cloned made (Finding.mappedByUnclonedTask), for the headline and --fail-on. */
export function mayBeFalseText(findings: number): string {
  return findings === 1
    ? '1 finding may be false (its mapping was made by a task the trace never showed cloned, perhaps a process of its own whose exit ended it: see its note)'
    : `${formatCount(findings)} findings may be false (their mappings were made by tasks the trace never showed cloned, perhaps processes of their own whose exits ended them: see their notes)`;
}

/**
 * Why no finding is no pass, in the headline's words after "no mapping was
 * seen to outlive its file, but": mappings in doubt, and why the trace may
 * miss some (Report.summary.undecided); null when neither.
 */
export function notClearText(mappingsInDoubt: number, undecided: string | null, removedUnseen = 0): string | null {
  const parts = [...(mappingsInDoubt > 0 ? [`${inDoubtText(mappingsInDoubt)}: see the warnings)`] : []), ...(undecided === null ? [] : [blindText(undecided)])];
  // Not a doubt (--fail-on passes): most such names are a daemon's pid files and temporary files. But no plain verdict
  // either: what the process mapped before the trace is not known (review 59, H2: a library replaced as dpkg does).
  if (removedUnseen > 0) parts.push(removedUnseenText(removedUnseen));
  return parts.length === 0 ? null : parts.join('; and ');
}

const blindText = (undecided: string): string => `the trace may miss some: ${undecided} (see the warnings)`;

/** Report.summary.removedUnseen, for the headline. */
const removedUnseenText = (names: number): string =>
  `${names === 1 ? 'the name of a file' : `${formatCount(names)} names of files`} the trace holds no mapping of went while a process that ran before the trace ran, ` +
  'and what that process mapped before the trace is not known (see the warnings)';

/** "2 mappings are in doubt (their files may have lost their last names where the trace cannot tell": report.summary.mappingsInDoubt, for the headline and --fail-on. */
export function inDoubtText(mappings: number, more = false): string {
  const why = mappings === 1 ? 'its file may have lost its last name where the trace cannot tell' : 'their files may have lost their last names where the trace cannot tell';
  return `${formatCount(mappings)} ${more ? 'more ' : ''}${mappings === 1 ? 'mapping is' : 'mappings are'} in doubt (${why}`;
}

/**
 * The report's verdict: the headline of its findings, unless its bundle holds
 * nothing of its process (untracedTarget), or a trace without a bundle holds
 * no event (noEventTraced), where "no mapping outlived its file" would read
 * as a process checked and found sound.
 */
export function reportHeadline(report: {
  findings: readonly Finding[];
  environment: BundleMeta | null;
  summary: { events: number; fileEvents: number; lines: number; mappingsInDoubt: number; removedUnseen?: number; undecided: string | null };
}): string {
  const untraced =
    report.findings.length > 0
      ? null
      : report.environment === null
        ? noEventTraced(report.summary.fileEvents, report.summary.lines)
        : untracedTarget(report.environment, report.summary.events, report.summary.lines);
  return untraced === null ? headline(report.findings, report.summary.mappingsInDoubt, report.summary.undecided, report.summary.removedUnseen ?? 0) : `no verdict: ${untraced}.`;
}

/** "a", "a and b", "a, b and c". */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** "1 warning", "2,000 warnings". */
export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
