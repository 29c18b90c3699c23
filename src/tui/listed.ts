// The store's copy of a finding: its facts as they were at its last change
// (the engine mutates its findings in place, and a paused view must not
// change under the user), and not its evidence lines. Those are read again
// only when something shows or writes them (the detail view, an export),
// from the engine, which reads them back from the input as the CLI's reports
// do (issue #14, goal 3): copied at every change, 30,000 findings' lines
// were most of the TUI's memory.
import type { EvidenceLine, Finding } from '../engine/findings.js';
import { OrphanmapError } from '../errors.js';

/** Where a finding's evidence lines are read when they are shown: the engine (Engine.evidenceOf), or the finding itself. */
export interface EvidenceReader {
  evidenceOf(finding: Finding): EvidenceLine[];
}

/** A finding that carries its own evidence (a plain one, or the engine's, whose getter reads it back). */
export const OWN_EVIDENCE: EvidenceReader = { evidenceOf: (finding) => finding.evidence };

/** A finding's evidence as a view shows it: the lines, or why they could not be read (the input was replaced or removed since). */
export interface Evidence {
  lines: readonly EvidenceLine[];
  error: string | null;
}

/** Every field of a finding, in the report schema's order; the check below fails to compile when Finding gains one not listed. */
const FIELDS = [
  'id',
  'kind',
  'severity',
  'pid',
  'path',
  'names',
  'address',
  'length',
  'ranges',
  'mapped',
  'heldLater',
  'mappedAt',
  'unlinkedAt',
  'remappedAt',
  'newAddress',
  'resolution',
  'resolvedAt',
  'delayMs',
  'confirmedByMaps',
  'evidence',
  'note',
  'mappedAfterUnlink',
  'inheritedFrom',
  'benign',
  'mappedByUnclonedTask',
] as const satisfies readonly (keyof Finding)[];
const ALL_FIELDS: [Exclude<keyof Finding, (typeof FIELDS)[number]>] extends [never] ? true : never = true;
void ALL_FIELDS;

export class ListedFinding implements Finding {
  // `declare`: written in the constructor, in the report schema's order.
  declare id: string;
  declare kind: Finding['kind'];
  declare severity: Finding['severity'];
  declare pid: number;
  declare path: string;
  declare names: readonly string[];
  declare address: string;
  declare length: number;
  declare ranges?: Finding['ranges'];
  declare mapped?: Finding['mapped'];
  declare heldLater?: Finding['heldLater'];
  declare mappedAt: Finding['mappedAt'];
  declare unlinkedAt: Finding['unlinkedAt'];
  declare remappedAt: Finding['remappedAt'];
  declare newAddress: string | null;
  declare resolution: Finding['resolution'];
  declare resolvedAt: Finding['resolvedAt'];
  declare delayMs: number | null;
  declare confirmedByMaps: boolean | null;
  declare evidence: EvidenceLine[];
  declare note: string | null;
  declare mappedAfterUnlink?: true;
  declare inheritedFrom?: number;
  declare benign?: string;
  declare mappedByUnclonedTask?: number;
  /** The finding the facts were copied from (the engine's, which it goes on updating), and where its lines are read. */
  readonly #origin: Finding;
  readonly #reader: EvidenceReader;

  /** A copy of `finding`'s facts; a copy of a copy reads from the same place as the first. */
  constructor(finding: Finding, reader: EvidenceReader = OWN_EVIDENCE) {
    const facts = this as unknown as Record<string, unknown>;
    const from = finding as unknown as Record<string, unknown>;
    // Field by field, never a spread: a spread reads `evidence`, which builds the lines.
    for (const key of FIELDS) {
      if (key === 'evidence') Object.defineProperty(this, 'evidence', READ_ON_DEMAND);
      else if (key in finding) facts[key] = from[key];
    }
    if (finding instanceof ListedFinding) {
      this.#origin = finding.#origin;
      this.#reader = finding.#reader;
    } else {
      this.#origin = finding;
      this.#reader = reader;
    }
  }

  /** The lines now, read from the engine (and through it, mostly, from the input): may throw the input's error. */
  static linesOf(finding: Finding): EvidenceLine[] {
    return finding instanceof ListedFinding ? finding.#reader.evidenceOf(finding.#origin) : finding.evidence;
  }
}

/**
 * `evidence` is read when it is read: a report, an export or a spread of the
 * copy gets the lines, and the copy keeps none. Own and enumerable, as the
 * engine's findings have it (a spread or JSON.stringify still carries the
 * lines); one descriptor for every copy. A value assigned replaces it.
 */
const READ_ON_DEMAND: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Finding): EvidenceLine[] {
    return ListedFinding.linesOf(this);
  },
  set(this: Finding, value: EvidenceLine[]) {
    Object.defineProperty(this, 'evidence', { value, enumerable: true, configurable: true, writable: true });
  },
};

/** A finding's evidence for a view: never throws (a view cannot draw an exception). */
export function readEvidence(finding: Finding): Evidence {
  try {
    return { lines: ListedFinding.linesOf(finding), error: null };
  } catch (error) {
    return { lines: [], error: errorText(error) };
  }
}

/** An error in a status line: an input's names the input (`trace.txt: is no longer the file that was read …`). */
export function errorText(error: unknown): string {
  const where = error instanceof OrphanmapError && error.file !== undefined ? `${error.file}: ` : '';
  return `${where}${error instanceof Error ? error.message : String(error)}`;
}
