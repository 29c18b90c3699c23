// Findings as the report schema `orphanmap/report@1` names them (docs/report.md).
// The field names are a public contract: scripts and jq users depend on them.

export type FindingKind = 'unlinked-while-mapped' | 'remapped-without-unmap';
/** `info` marks a finding known to be benign: a rule of benign.ts names why (`benignRuleFor`). */
export type Severity = 'error' | 'warning' | 'info';
export type Resolution = 'unmapped' | 'process-exited' | 'still-mapped';

export const FINDING_KINDS: readonly FindingKind[] = ['unlinked-while-mapped', 'remapped-without-unmap'];

export const SEVERITY_OF: Readonly<Record<FindingKind, Severity>> = {
  'unlinked-while-mapped': 'error',
  'remapped-without-unmap': 'warning',
};

/** A moment in a trace: where, when and which thread. */
export interface At {
  file: string;
  line: number;
  time: string | null;
  /** The same moment as a number of seconds, as the trace counts them (null when the trace has no times). */
  seconds?: number | null;
  tid: number | null;
  /** The thread's name when the trace has it (strace -Y; orphanmap.bt prints none): on a JVM it names the thread. */
  comm?: string;
  /**
   * Only on the place where a file's last name went (`unlinkedAt`): the call
   * was a rename of another file over that name, not an unlink. The file was
   * replaced (`mv new old`, a cache or database rewritten and swapped in),
   * which an on-call engineer looks for in other code than a delete (review
   * 91, 2; review 85, 3: Dovecot's cache, TDB and fontconfig read "deleted").
   */
  renamedOver?: true;
}

export interface EvidenceLine {
  file: string;
  line: number;
  text: string;
  time: string | null;
  tid: number | null;
}

/**
 * What a file keeps of an event for its evidence, in place of the event: its
 * lines' positions in an input that can be read again, as numbers the keeper
 * writes, or their text. Made by the event's `keeper` (ingest's) and read
 * back by its `source`, the only one that knows what it holds: the engine
 * only keeps it (issue #14, goal 3). Most events' handle is their source itself.
 */
export interface EvidenceHandle {
  readonly source: EvidenceSource;
  /** How many numbers the keeper wrote for the event (shared handles stand for events of one shape). */
  readonly numberCount: number;
}

/** One event as it was kept: its handle and the numbers its keeper wrote. */
export interface KeptEvent {
  handle: EvidenceHandle;
  numbers: readonly number[];
}

export interface EvidenceSource {
  /** The lines of `events`, all kept by this source, in order. */
  linesOf(events: readonly KeptEvent[]): EvidenceLine[];
}

export interface Finding {
  id: string;
  kind: FindingKind;
  severity: Severity;
  /** Thread-group id owning the address space. */
  pid: number;
  /** The file's name when the finding was decided (its last name for unlinks). */
  path: string;
  /** Every name the file had in the trace, in order. */
  names: readonly string[];
  /**
   * Start of what was still mapped when the finding was decided, `0x…`
   * lower-case hex: the address mmap returned, unless a partial munmap had
   * already taken the first pages.
   */
  address: string;
  /**
   * Bytes still mapped when the finding was decided: the length passed to mmap
   * for a whole mapping, the page-rounded sum of `ranges` for a split one.
   */
  length: number;
  /** Only for a mapping that partial munmaps had cut: the pieces still mapped, in address order. */
  ranges?: { address: string; length: number }[];
  /** Only for a mapping that partial munmaps had cut: what mmap returned and the length passed to it. */
  mapped?: { address: string; length: number };
  /**
   * Only for a mapping an mremap moved or resized, or a munmap (or an mmap
   * over part of it) cut, after the finding was decided: what it holds since,
   * as /proc/PID/maps would show it, and the call that left it so (the last
   * such). `address` and `length` stay what it held when decided (review 56,
   * F6: Python's mmap.resize of a leaked mapping read as two leaks, the old
   * place contradicted by maps-end.txt, the new one "not in the trace";
   * review 58, F1 and F2: a moved mapping cut later, and an mremap of part of
   * one, read so too).
   */
  heldLater?: HeldLater;
  mappedAt: At | null;
  unlinkedAt: At | null;
  remappedAt: At | null;
  newAddress: string | null;
  /** null while the mapping is still live and the trace goes on. */
  resolution: Resolution | null;
  resolvedAt: At | null;
  delayMs: number | null;
  confirmedByMaps: boolean | null;
  evidence: EvidenceLine[];
  /** Plain-words context, e.g. for the JVM's own hsperfdata file. */
  note: string | null;
  /**
   * Only on an unlinked-while-mapped finding whose mapping was made after its
   * file's last name went (a leak going on through a kept fd, or a fork's copy
   * of an orphan): it held nothing when the name went, so "held when
   * unlinked" does not count it.
   */
  mappedAfterUnlink?: true;
  /**
   * Only on a fork child's copy of an orphan (mappedAfterUnlink): the parent
   * process's id. Its delay counts from the fork, when the child got the mapping.
   */
  inheritedFrom?: number;
  /** For a benign finding (severity `info`): the name of the rule that says so, e.g. "JVM hsperfdata at exit". */
  benign?: string;
  /**
   * Only when the mapping was made by a task the trace never showed cloned,
   * in a process whose start it showed (a filter left clone out): its tid.
   * Taken for a thread, it may have been a process of its own, whose exit
   * ended the mapping: the finding may be false, and --fail-on cannot tell.
   */
  mappedByUnclonedTask?: number;
}

/** Finding.heldLater. */
export interface HeldLater {
  /** Start of what is mapped: the first piece's. */
  address: string;
  /** Bytes mapped: the length mremap gave a whole mapping, else the page-rounded sum of `ranges`. */
  length: number;
  /** Only when it is no longer one whole mapping: the pieces, in address order, page-rounded. */
  ranges?: { address: string; length: number }[];
  /**
   * The call: `mremap` moved or resized it, `munmap` or `mmap` (MAP_FIXED
   * over part of it) cut it, and so did `mremap-over`, an mremap of another
   * mapping to a place over part of it (code review 60, F2: it read "moved").
   */
  by: 'mremap' | 'munmap' | 'mmap' | 'mremap-over';
  at: At;
}

export function hex(address: number): string {
  // In 16-bit parts: toString(16) of a number past 2^31 (every user-space
  // address) takes the slow path for doubles, about 0.6 µs. Joined into one
  // flat string: `0x${…}` is a pair of strings (64 bytes, not 32), and findings keep their addresses.
  if (!Number.isSafeInteger(address) || address < 0) return `0x${address.toString(16)}`;
  const high = Math.floor(address / 0x1_0000_0000);
  const middle = (address >>> 16) & 0xffff;
  const low = address & 0xffff;
  if (high === 0 && middle === 0) return ['0x', low.toString(16)].join('');
  if (high === 0) return ['0x', middle.toString(16), low.toString(16).padStart(4, '0')].join('');
  return ['0x', high.toString(16), middle.toString(16).padStart(4, '0'), low.toString(16).padStart(4, '0')].join('');
}

/**
 * What a finding's mapping holds now, as /proc/PID/maps would show it: what
 * an mremap or munmap after the finding left, the pieces partial munmaps had
 * left before it, or its address and length.
 */
export function heldNow(finding: Pick<Finding, 'address' | 'length' | 'ranges' | 'heldLater'>): readonly { address: string; length: number }[] {
  const later = finding.heldLater;
  if (later !== undefined) return later.ranges ?? [later];
  return finding.ranges ?? [finding];
}

/** A finding's address as a number, for comparing with /proc/PID/maps ranges (user-space addresses are below 2^53). */
export function findingStart(finding: Pick<Finding, 'address'>): number {
  return Number.parseInt(finding.address.slice(2), 16);
}
