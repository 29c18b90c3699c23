// What a ticket-ready report says (Markdown and Jira draw the same content):
// a verdict, the environment, summary tables, a diagnosis in plain words, the
// findings with their raw trace lines, and how to reproduce the analysis.
import { MAPPED_WITH_NO_NAME, mappedWithNoName } from '../engine/benign.js';
import { GROWN_OUT_OF_SIGHT } from '../engine/finding-log.js';
import { FINDING_KINDS, SEVERITY_OF, type At, type Finding, type FindingKind } from '../engine/findings.js';
import type { BundleMeta } from '../ingest/bundle.js';
import { filePattern } from '../parse/maps.js';
import { apacheIssue, code, heading, paragraph, strong, table, text, type Block, type Cell, type Inline } from './document.js';
import {
  BENIGN,
  bySeverity,
  describePlace,
  BPFTRACE_TIMES,
  endingsText,
  formatDelay,
  reportHeadline,
  HELD_WHEN_UNLINKED,
  heldWhenUnlinked,
  isStillMapped,
  kindAndSeverity,
  mappedBytes,
  mappingView,
  pagesNote,
  rangesText,
  remapText,
  resolutionText,
  secondsOf,
  unlinkedFirst,
  unlinkedText,
  SEVERITY_WORD,
  STILL_MAPPED_AT_THE_END,
  type MappingView,
} from './finding-view.js';
import { NO_REDACTION, type Redaction } from './redact.js';
import type { Report } from './report.js';
import { escapeControl, formatBytes, formatCount } from './sanitize.js';

/** Findings drawn in full; the rest are counted in one line. */
export const MAX_FINDING_SECTIONS = 10;

export interface TicketOptions {
  /** The command that produced the report, for "how to reproduce". */
  command: string;
  /**
   * The redaction each finding is drawn through (the rest of the report went
   * through it already: redactAllButFindings). Findings are matched and
   * counted without a redacted copy of each (a name compared or a pattern
   * grouped as it is drawn); only the few drawn in full are redacted.
   */
  redaction?: Redaction;
}

const KAFKA_INDEX = /\.(index|timeindex|txnindex)(\.deleted)?$/;

export function reportDocument(report: Report, options: TicketOptions): Block[] {
  const redaction = options.redaction ?? NO_REDACTION;
  const blocks: Block[] = [heading(1, 'orphanmap report'), paragraph(...verdictParagraph(report))];
  const environment = report.environment === null ? [] : environmentRows(report.environment);
  if (environment.length > 0) blocks.push(heading(2, 'Environment'), table(['', 'value'], environment));
  blocks.push(...summaryBlocks(report, redaction));
  // Names compared as drawn: two that redact alike are one name, as in a report redacted whole.
  const resizes = resizesOf(report.findings, redaction.path);
  const diagnosis = diagnosisBlocks(report, resizes, redaction);
  if (diagnosis.length > 0) blocks.push(heading(2, 'Diagnosis'), ...diagnosis);
  blocks.push(...findingBlocks(report, resizes, redaction));
  if (report.warnings.length > 0 || report.summary.unparsedLines > 0) blocks.push(...caveatBlocks(report));
  blocks.push(...reproduceBlocks(report, options));
  return blocks;
}

function verdictParagraph(report: Report): Inline[] {
  const content: Inline[] = [strong(reportHeadline(report))];
  const meta = report.environment;
  const pids = [...new Set(report.findings.filter((f) => f.severity === 'error').map((f) => f.pid))];
  const cmdline = meta === null ? undefined : metaWords(meta.cmdline);
  if (meta !== null && cmdline !== undefined && pids.length === 1 && pids[0] === meta.pid) {
    content.push(text(` Process ${meta.pid} runs `), code(cmdline), text('.'));
  }
  const s = report.summary;
  content.push(
    text(
      ` Read ${formatCount(s.lines)} trace lines (${formatCount(s.events)} events, ${formatCount(s.processes)} process${s.processes === 1 ? '' : 'es'}) from ${report.inputs.length} input${report.inputs.length === 1 ? '' : 's'}.`,
    ),
  );
  return content;
}

/**
 * The environment table, from meta.json. Each cell is text (or a code span of
 * text) made here from a string or a number of meta.json, whatever it holds:
 * the loader refuses a field of the wrong type (checkMeta), and a value that
 * is not a string is still never handed to a renderer, which would draw an
 * object as markup (a link, bold text) of the bundle's choosing.
 */
function environmentRows(meta: BundleMeta): Cell[][] {
  const rows: Cell[][] = [];
  const add = (label: string, value: string | Inline | undefined) => {
    if (value !== undefined && value !== '' && (typeof value === 'string' || value.text !== '')) rows.push([label, value]);
  };
  const hostname = metaText(meta.hostname);
  const cmdline = metaWords(meta.cmdline);
  const comm = metaText(meta.comm);
  add('host kernel', metaText(meta.kernel));
  add('host name', hostname === undefined ? undefined : code(hostname));
  add('process', metaCount(meta.pid) === undefined ? undefined : `${meta.pid}${comm === undefined ? '' : ` (${comm})`}`);
  add('command line', cmdline === undefined ? undefined : code(cmdline));
  const cwd = metaText(meta.cwd);
  add('working directory', cwd === undefined ? undefined : code(cwd));
  add('JVM', metaText(meta.jvmVersion));
  add('tracer', [metaText(meta.backend), metaText(meta.tracerVersion)].filter((part) => part !== undefined).join(', '));
  const maxMapCount = metaCount(meta.maxMapCount);
  const start = metaCount(meta.mapCountStart);
  const end = metaCount(meta.mapCountEnd);
  add('vm.max_map_count', maxMapCount === undefined ? undefined : formatCount(maxMapCount));
  if (start !== undefined || end !== undefined) {
    const headroom = end !== undefined && maxMapCount !== undefined ? ` (headroom ${formatCount(maxMapCount - end)})` : '';
    add('mappings at start / end', `${start === undefined ? '?' : formatCount(start)} / ${end === undefined ? '?' : formatCount(end)}${headroom}`);
  }
  const startTime = metaText(meta.startTime);
  add('capture', startTime === undefined ? undefined : `${startTime} to ${metaText(meta.endTime) ?? '(not recorded)'}`);
  if (meta.backend === 'bpftrace') add('trace times', BPFTRACE_TIMES.replace(/^times /, ''));
  const lost = metaCount(meta.lostEvents);
  if (lost !== undefined) add('lost events', formatCount(lost));
  return rows;
}

/** A string of meta.json; anything else, as if the field were not there. */
function metaText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A count of meta.json (a whole number); anything else, as if the field were not there. */
function metaCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** An array of strings of meta.json (a command line), joined by spaces; empty or anything else, as if it were not there. */
function metaWords(value: unknown): string | undefined {
  return Array.isArray(value) && value.length > 0 && value.every((word) => typeof word === 'string') ? value.join(' ') : undefined;
}

function summaryBlocks(report: Report, redaction: Redaction): Block[] {
  // Benign findings get rows of their own: they are neither errors nor warnings.
  const byKind: Cell[][] = [];
  for (const kind of FINDING_KINDS) {
    const of = report.findings.filter((f) => f.kind === kind);
    const real = of.filter((f) => f.severity !== 'info');
    byKind.push([code(kind), SEVERITY_WORD[SEVERITY_OF[kind]], formatCount(real.length), ...endCells(kind, real)]);
    const benign = of.filter((f) => f.severity === 'info');
    if (benign.length > 0) byKind.push([code(kind), BENIGN, formatCount(benign.length), ...endCells(kind, benign)]);
  }
  const blocks: Block[] = [heading(2, 'Summary'), table(['kind', 'severity', 'findings', HELD_WHEN_UNLINKED, STILL_MAPPED_AT_THE_END], byKind)];
  const groups = patternGroups(report.findings, redaction.path);
  if (groups.length > 0) {
    blocks.push(
      table(
        ['file pattern', 'kind', 'findings', HELD_WHEN_UNLINKED, STILL_MAPPED_AT_THE_END],
        groups.map((group) => [code(group.pattern), code(group.kind), groupCount(group.findings), ...endCells(group.kind, group.findings)]),
      ),
    );
  }
  return blocks;
}

/** "4", "1 benign", "3, 1 benign": benign findings are counted apart. */
export function groupCount(findings: readonly Finding[]): string {
  const benign = findings.filter((f) => f.severity === 'info').length;
  const real = findings.length - benign;
  return [real > 0 || benign === 0 ? formatCount(real) : '', benign > 0 ? `${formatCount(benign)} ${BENIGN}` : ''].filter((part) => part !== '').join(', ');
}

/** The held-when-unlinked bytes and the still-mapped-at-the-end count (with bytes) of some findings of one kind. */
function endCells(kind: FindingKind, findings: readonly Finding[]): [string, string] {
  const still = findings.filter(isStillMapped);
  const stillBytes = still.reduce((sum, f) => sum + mappedBytes(f), 0);
  if (kind !== 'unlinked-while-mapped') return ['', formatCount(still.length)];
  // A file mapped with no name left held nothing when it was unlinked: the mapping came after.
  const held = findings.filter((f) => !unlinkedFirst(f));
  const heldCell = held.length === 0 && findings.length > 0 ? '' : formatBytes(held.reduce((sum, f) => sum + heldWhenUnlinked(f), 0));
  return [heldCell, still.length === 0 ? '0' : `${formatCount(still.length)} (${formatBytes(stillBytes)})`];
}

export interface PatternGroup {
  pattern: string;
  kind: Finding['kind'];
  findings: Finding[];
}

/**
 * Findings grouped by (file pattern, kind), in kind order then pattern order.
 * `shownPath`: the path as drawn (redacted), whose pattern is shown.
 */
export function patternGroups(findings: readonly Finding[], shownPath: (path: string) => string = asItIs): PatternGroup[] {
  const groups = new Map<string, PatternGroup>();
  for (const finding of findings) {
    const pattern = filePattern(shownPath(finding.path));
    const key = `${finding.kind}\u0000${pattern}`;
    const group = groups.get(key) ?? { pattern, kind: finding.kind, findings: [] };
    group.findings.push(finding);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) || compare(a.pattern, b.pattern));
}

const asItIs = (path: string): string => path;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Each unlink finding's resize: the remapped-without-unmap finding that explains it. */
export type Resizes = ReadonlyMap<Finding, Finding>;

/**
 * The resize of each unlink finding: the first remapped-without-unmap finding,
 * in report order, whose old mapping is the unlink finding's own mapping (the
 * same process and address, mapped at the same place), and which came before
 * the unlink. An address alone is no mapping: a file mapped again and again as
 * it grows, each old mapping unmapped a moment later by another thread (H2's
 * trace file and the JVM's Reference Handler, review 50), has its addresses
 * handed out again, and the first remap at the orphan's address was of a
 * mapping long gone. Nor does a remap after the unlink explain the orphan (a
 * file grown through an fd kept open after its unlink). A mapping with no
 * place (seeded from a maps snapshot) is matched as before: the same process
 * and address and a name in common. Found through an index of the remaps by
 * pid and address: a search of every finding for each one made a ticket of
 * f20's 1,887 findings take 9 s, and of leaky20's 7,734 several minutes
 * (issue #14). Names are compared as `shownName` draws them (redacted).
 */
export function resizesOf(findings: readonly Finding[], shownName: (name: string) => string = asItIs): Resizes {
  // pid → address → the remaps of a mapping there (their places in `findings`, in order): one number for most
  // addresses, a list only where mappings were made there again. A map of names for each address was 15,652
  // maps for leaky80's, most of them for one remap, kept until every unlink was matched: 2.8 MiB made old.
  const remapsAt = new Map<number, Map<string, number | RemapsAtOneAddress>>();
  findings.forEach((remap, index) => {
    if (remap.kind !== 'remapped-without-unmap') return;
    const byAddress = mapOf(remapsAt, remap.pid);
    const there = byAddress.get(remap.address);
    if (there === undefined) byAddress.set(remap.address, index);
    else if (typeof there === 'number') byAddress.set(remap.address, { all: [there, index], byPlace: null });
    else there.all.push(index);
  });
  const resizes = new Map<Finding, Finding>();
  for (const finding of findings) {
    if (finding.kind !== 'unlinked-while-mapped') continue;
    const there = remapsAt.get(finding.pid)?.get(finding.address);
    if (there === undefined) continue;
    const explains = (index: number): boolean => {
      const remap = findings[index]!;
      return sameMapping(remap, finding, shownName) && !remappedAfterUnlink(remap, finding);
    };
    const first = typeof there === 'number' ? (explains(there) ? there : undefined) : firstAt(there, finding.mappedAt, findings, explains);
    if (first !== undefined) resizes.set(finding, findings[first]!);
  }
  return resizes;
}

/**
 * The remaps of mappings made at one address, in report order, and (made when
 * first asked, for an address reused often: a long-running JVM's GC-released
 * buffers) the same by the place their old mapping was made.
 */
interface RemapsAtOneAddress {
  all: number[];
  byPlace: Map<string, number[]> | null;
}

/** A key for a place of a trace: its input and line. */
const placeKey = (at: Pick<At, 'file' | 'line'>): string => `${at.line}\u0000${at.file}`;

/** Past this many remaps at one address, they are looked up by place rather than read through. */
const REMAPS_READ_THROUGH = 16;

/** The first of the remaps `at` one address that `explains` the unlink finding of a mapping made at `mappedAt`. */
function firstAt(at: RemapsAtOneAddress, mappedAt: At | null, findings: readonly Finding[], explains: (index: number) => boolean): number | undefined {
  if (mappedAt === null || at.all.length <= REMAPS_READ_THROUGH) return at.all.find(explains);
  if (at.byPlace === null) {
    at.byPlace = new Map<string, number[]>();
    for (const index of at.all) {
      const old = findings[index]!.mappedAt;
      const key = old === null ? '' : placeKey(old);
      const same = at.byPlace.get(key);
      if (same === undefined) at.byPlace.set(key, [index]);
      else same.push(index);
    }
  }
  // The remaps of this very mapping, and those whose old mapping has no place (matched by name): the first of either.
  const own = at.byPlace.get(placeKey(mappedAt))?.find(explains);
  const unplaced = at.byPlace.get('')?.find(explains);
  return own === undefined ? unplaced : unplaced === undefined ? own : Math.min(own, unplaced);
}

/**
 * The remap's old mapping is the unlink finding's mapping: both made at the
 * same place (pid and address are matched already). When either has no place
 * (a mapping seeded from a maps snapshot), a name in common stands for it.
 */
function sameMapping(remap: Finding, orphan: Finding, shownName: (name: string) => string): boolean {
  if (remap.mappedAt !== null && orphan.mappedAt !== null) return remap.mappedAt.line === orphan.mappedAt.line && remap.mappedAt.file === orphan.mappedAt.file;
  return orphan.names.some((name) => remap.names.some((other) => shownName(other) === shownName(name)));
}

/**
 * The trace shows the remap after the unlink: a later line of the same
 * input, or (across inputs: strace -ff's files) a later time. When it cannot
 * tell (a place or a time missing), the remap is taken to explain the orphan.
 */
function remappedAfterUnlink(remap: Finding, orphan: Finding): boolean {
  const remapped = remap.remappedAt;
  const unlinked = orphan.unlinkedAt;
  if (remapped === null || unlinked === null) return false;
  if (remapped.file === unlinked.file) return remapped.line > unlinked.line;
  const remappedSeconds = secondsOf(remapped);
  const unlinkedSeconds = secondsOf(unlinked);
  return remappedSeconds !== null && unlinkedSeconds !== null && remappedSeconds > unlinkedSeconds;
}

/** The inner map under `key`, made empty when there is none. */
function mapOf<O, K, V>(outer: Map<O, Map<K, V>>, key: O): Map<K, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map<K, V>();
    outer.set(key, inner);
  }
  return inner;
}

const KEPT_UNTIL =
  "The kernel keeps the file's blocks on disk (at most the file's size, however far the mapping reaches), and the mapping keeps its slot in vm.max_map_count, until it is unmapped or the process exits.";
const REPLACED_HOW = 'another file was renamed over its name (an atomic replace, as "mv new old" does, or a cache or database rewritten and swapped in)';
const LOOK_FOR_SWAP = 'the code that swaps the new file in while a mapping of the old one is live, and the readers that go on using the old mapping';

/**
 * "Unlinked while mapped", in words: a file that lost its last name to a
 * rename over it was replaced, not deleted, and a search for code that
 * deletes it finds none (review 91, 2: Dovecot's cache, TDB's backups).
 */
function unlinkedMeaning(orphans: readonly Finding[]): string {
  const replaced = orphans.filter((f) => f.unlinkedAt?.renamedOver === true).length;
  if (replaced > 0 && replaced === orphans.length) return `The file was replaced while a mapping of it was still live: ${REPLACED_HOW}. ${KEPT_UNTIL} Look for ${LOOK_FOR_SWAP}.`;
  const deleted = `The file was deleted while a mapping of it was still live. ${KEPT_UNTIL} Look for code that deletes the file before unmapping it (in Java, a MappedByteBuffer left to the garbage collector).`;
  if (replaced === 0) return deleted;
  const those = `${replaced} of the ${orphans.length} mappings ${replaced === 1 ? 'was of a file' : 'were of files'}`;
  return `${deleted} ${those} replaced rather than deleted (the unlinked row says "another file renamed over it"): ${REPLACED_HOW}; for those, look for ${LOOK_FOR_SWAP}.`;
}

/** What the findings mean and what to do, in plain words: the ticket's Diagnosis, and the text report's. */
export function diagnosis(report: Report, redaction: Redaction = NO_REDACTION): Block[] {
  return diagnosisBlocks(report, resizesOf(report.findings, redaction.path), redaction);
}

function diagnosisBlocks(report: Report, resizes: Resizes, redaction: Redaction): Block[] {
  const blocks: Block[] = [];
  const orphans = report.findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.severity !== 'info');
  const resized = orphans.filter((f) => resizes.has(f));
  const multi = new Set(report.inputs.map((input) => input.path)).size > 1;
  if (resized.length > 0) {
    const example = resized[0]!;
    blocks.push(
      paragraph(
        strong('Resize signature. '),
        text(`${resized.length} of ${orphans.length} orphaned mapping${orphans.length === 1 ? '' : 's'} ${resized.length === 1 ? 'shows' : 'show'} it. `),
        ...resizeStory(redaction.finding(example), redaction.finding(resizes.get(example)!), multi),
        text(" The old mapping keeps the deleted file's blocks on disk and one slot of vm.max_map_count until the process unmaps it or exits."),
      ),
    );
  } else if (orphans.length > 0) {
    blocks.push(paragraph(strong('Unlinked while mapped. '), text(unlinkedMeaning(orphans))));
  }
  const explained = new Set(orphans.map((o) => resizes.get(o)));
  const lone = report.findings.filter((f) => f.kind === 'remapped-without-unmap' && !explained.has(f));
  if (lone.length > 0) blocks.push(paragraph(strong('Mapped again without unmapping. '), text(loneRemapsText(lone, resized.length))));
  const kafkaNamed = report.findings.filter((f) => f.severity !== 'info' && f.names.some((name) => KAFKA_INDEX.test(redaction.path(name))));
  // The bug is a resize: a name alone is no diagnosis (review 30: a python program's "00000000.index", never resized).
  const kafkaResized = kafkaNamed.some((f) => f.kind === 'remapped-without-unmap' || resizes.has(f));
  if (kafkaNamed.length > 0) {
    blocks.push(
      paragraph(
        strong('Kafka index files. '),
        text(
          kafkaResized
            ? 'This is the known Kafka bug: AbstractIndex.resize() maps an index file again without unmapping the old MappedByteBuffer, which lives until a garbage collection. See '
            : "The names are those of Kafka's index files, but the trace shows no resize of them: if this is a Kafka broker, its known bug (AbstractIndex.resize() maps an index file again without unmapping the old MappedByteBuffer) is one way to get here, and this trace does not show it. See ",
        ),
        apacheIssue('KAFKA-7442'),
        text(' and '),
        apacheIssue('KAFKA-19390'),
        text(
          '; KAFKA-19390 fixed resize() in July 2025 (it always unmaps, under a lock around buffer reads) and was backported to the 3.9 and 4.0 lines. ' +
            (kafkaResized
              ? 'Upgrade the brokers to a release that contains that fix; until then, watch the deleted mappings in /proc/PID/maps against vm.max_map_count.'
              : 'Check which program held these files before blaming that bug, and watch the deleted mappings in /proc/PID/maps against vm.max_map_count.'),
        ),
      ),
    );
  }
  // One paragraph per rule that made findings benign, in the order their first finding comes.
  const byRule = new Map<string, Finding[]>();
  for (const finding of report.findings) {
    if (finding.severity !== 'info') continue;
    const rule = finding.benign ?? '';
    const of = byRule.get(rule);
    if (of === undefined) byRule.set(rule, [finding]);
    else of.push(finding);
  }
  for (const benign of byRule.values()) {
    blocks.push(
      paragraph(
        strong('Benign. '),
        text(`${benign.map((f) => f.id).join(', ')}: `),
        text(
          (mappedWithNoName(benign[0]!) ? `mapped when their file had no name left (unlinked first through an fd kept open, or an O_TMPFILE file no link named). ${MAPPED_WITH_NO_NAME.note}` : null) ??
            redaction.finding(benign[0]!).note ??
            'known benign: the JVM unlinks its performance-data file (hsperfdata) at exit without unmapping it first; the mapping goes away with the process. Not a leak.',
        ),
      ),
    );
  }
  return blocks;
}

/**
 * The remaps no unlink finding's story tells, by how they ended (review 50): an
 * old mapping still live at the end, or until the exit, outlives its file if
 * the file is deleted meanwhile; one unmapped a moment after the remap (H2's
 * dropped buffers, unmapped by the JVM's Reference Handler 0.1-3 ms later) was
 * released, though late. "Resized" only where the trace shows a size change.
 */
function loneRemapsText(lone: readonly Finding[], resizesTold: number): string {
  const resized = lone.filter((f) => f.note === null).length;
  const grown = lone.filter((f) => f.note === GROWN_OUT_OF_SIGHT).length;
  const sizes =
    resized === lone.length
      ? ''
      : grown === lone.length
        ? `, each reaching further into the file than the old one: the file grew by a call orphanmap does not read (${GROWN_BY})`
        : [
            resized > 0 ? `${formatCount(resized)} after a size change the trace shows` : '',
            grown > 0 ? `${formatCount(grown)} after the file grew by a call orphanmap does not read (${GROWN_BY})` : '',
          ]
            .filter((part) => part !== '')
            .map((part, i, parts) => (i === 0 ? ` (${part}` : `, ${part}`) + (i === parts.length - 1 ? ')' : ''))
            .join('');
  const sentences = [
    `${formatCount(lone.length)} time${lone.length === 1 ? '' : 's'} ${resized === lone.length ? 'a file was resized and mapped again' : 'a file was mapped again'} while its old mapping was still live${resizesTold === 0 ? '' : `, besides the resize${resizesTold === 1 ? '' : 's'} above`}${sizes}. How ${lone.length === 1 ? 'it' : 'they'} ended: ${endingsText(lone)}.`,
  ];
  const held = lone.filter((f) => f.resolution !== 'unmapped').length;
  if (held > 0) {
    sentences.push(
      held === 1
        ? `The old mapping that stayed live (to the end of the trace, or until its process exited) outlives its file if the file is deleted while it is live.`
        : `The ${formatCount(held)} old mappings that stayed live (to the end of the trace, or until their process exited) outlive their files if the files are deleted while they are live.`,
    );
  }
  const released = lone.length - held;
  if (released > 0) {
    sentences.push(
      `${released === lone.length ? (released === 1 ? 'It was' : 'All were') : `${formatCount(released)} ${released === 1 ? 'was' : 'were'}`} unmapped later: released. ` +
        'An old mapping unmapped a moment after the new one was made looks like an asynchronous release (a JVM Cleaner, or the Reference Handler unmapping a MappedByteBuffer the program dropped), which is not a leak unless the file is deleted in between.',
    );
  }
  return sentences.join(' ');
}

/** The calls that grow a file out of the trace's sight, as a remap's note names them (GROWN_OUT_OF_SIGHT). */
const GROWN_BY = 'write, pwrite or fallocate';

/** The resize signature of one file, in plain words, with the lines that show each step. */
function resizeStory(orphan: Finding, resize: Finding, multi: boolean): Inline[] {
  const view = mappingView(orphan);
  const truncate = orphan.evidence.find(
    (line) => /\bf?truncate\(/.test(line.text) && (resize.mappedAt === null || line.line > resize.mappedAt.line) && (resize.remappedAt === null || line.line < resize.remappedAt.line),
  );
  // Only the line that shows it names the call (review 50: "ftruncate" was said of a file H2 grew by write).
  const sizeChange =
    truncate !== undefined
      ? `its size changed (${truncate.text.includes('ftruncate(') ? 'ftruncate' : 'truncate'}, ${place(truncate, multi)}), `
      : resize.note === GROWN_OUT_OF_SIGHT
        ? `it grew by a call orphanmap does not read (${GROWN_BY}: the new mapping reaches further into the file), `
        : '';
  // A removal the trace does not show (the finding's note says how it was seen: the maps at the end, a snapshot) has no place.
  const unlinked =
    orphan.unlinkedAt === null
      ? "the file lost its last name where the trace does not show it (see the finding's note) while the old mapping was still live"
      : orphan.unlinkedAt.renamedOver === true
        ? `the file was replaced: another file was renamed over its name (${place(orphan.unlinkedAt, multi)}) while the old mapping was still live`
        : `the file was unlinked (${place(orphan.unlinkedAt, multi)}) while the old mapping was still live`;
  return [
    text('The file '),
    code(escapeControl(orphan.path)),
    text(
      ` was mapped ${mappedPhrase(view, place(orphan.mappedAt, multi))}, ${sizeChange}it was mapped again${resize.newAddress === null ? '' : ` at ${resize.newAddress}`} (${place(resize.remappedAt, multi)}), ${oldMappingEnd(orphan, unlinked, multi)}.`,
    ),
  ];
}

/**
 * How the old mapping ended, around the unlink (`unlinked`, in words): never
 * unmapped only when it was not (still mapped at the end, or held until the
 * exit); unmapped after the unlink with the delay as the finding's "now" says it.
 */
function oldMappingEnd(orphan: Finding, unlinked: string, multi: boolean): string {
  switch (orphan.resolution) {
    case 'still-mapped':
    case 'process-exited':
      return `the old mapping was never unmapped, and ${unlinked}`;
    case null:
      return `the old mapping has not been unmapped (the trace goes on), and ${unlinked}`;
    case 'unmapped': {
      const where = orphan.resolvedAt === null ? '' : ` (${place(orphan.resolvedAt, multi)})`;
      const delay = orphan.delayMs;
      const call = orphan.unlinkedAt?.renamedOver === true ? 'rename' : 'unlink';
      if (delay !== null && delay < 0 && Number.isFinite(delay))
        return `and ${unlinked}; it was unmapped as the file ${call === 'rename' ? 'was replaced' : 'was unlinked'}${where}, the two calls running at once`;
      return `and ${unlinked}; the old mapping was unmapped only after the ${call}${delay === null ? '' : `, ${formatDelay(delay)} later`}${where}`;
    }
  }
}

/** "at 0x7f… (10.0 MiB, line 504)"; for a mapping partial munmaps had cut, what was left of it. */
function mappedPhrase(view: MappingView, where: string): string {
  const bytes = view.plausible ? formatBytes(view.bytes) : view.size;
  if (view.cut === null) return `at ${view.ranges[0]!.start} (${bytes}, ${where})`;
  return `(${where}; at the unlink ${rangesText(view.ranges)}, ${bytes} ${view.cut})`;
}

function place(at: Pick<At, 'file' | 'line'> | null, multi: boolean): string {
  if (at === null) return 'before the trace';
  return multi ? `${escapeControl(at.file)}:${at.line}` : `line ${at.line}`;
}

function findingBlocks(report: Report, resizes: Resizes, redaction: Redaction): Block[] {
  const folded = new Set(resizes.values());
  const shown = report.findings.filter((f) => !folded.has(f)).sort(bySeverity);
  if (shown.length === 0) return [];
  const multi = new Set(report.inputs.map((input) => input.path)).size > 1;
  const blocks: Block[] = [heading(2, 'Findings')];
  for (const finding of shown.slice(0, MAX_FINDING_SECTIONS)) {
    const resize = resizes.get(finding);
    blocks.push(...findingSection(redaction.finding(finding), report, resize === undefined ? undefined : redaction.finding(resize), multi));
  }
  const left = shown.length - Math.min(shown.length, MAX_FINDING_SECTIONS);
  const foldedNote =
    folded.size > 0 ? ` ${folded.size} remapped-without-unmap finding${folded.size === 1 ? ' is' : 's are'} shown inside the unlink finding${folded.size === 1 ? '' : 's'} they explain.` : '';
  if (left > 0)
    blocks.push(paragraph(text(`${left} more finding${left === 1 ? '' : 's'} not shown (${MAX_FINDING_SECTIONS} of ${shown.length} drawn); every finding is in --format json.${foldedNote}`)));
  else if (foldedNote !== '') blocks.push(paragraph(text(foldedNote.trim())));
  return blocks;
}

function findingSection(finding: Finding, report: Report, resize: Finding | undefined, multi: boolean): Block[] {
  const view = mappingView(finding);
  const rows: Cell[][] = [['file', code(escapeControl(finding.path))]];
  const earlier = finding.names.filter((name) => name !== finding.path);
  if (earlier.length > 0) rows.push(['earlier names', earlier.flatMap((name, i) => (i === 0 ? [code(escapeControl(name))] : [text(', '), code(escapeControl(name))]))]);
  rows.push(['mapping', mappingCell(view)]);
  const unlinked: Cell[] | null = finding.kind === 'unlinked-while-mapped' || finding.unlinkedAt !== null ? ['unlinked', unlinkedText(finding, ', ')] : null;
  if (unlinked !== null && unlinkedFirst(finding)) rows.push(unlinked);
  rows.push(['mapped', describePlace(finding.mappedAt, ', ')]);
  if (finding.remappedAt !== null) rows.push(['mapped again', [describePlace(finding.remappedAt, ', '), remapText(finding)].filter((part) => part !== '').join(', ')]);
  if (resize !== undefined) rows.push(['mapped again', `${[describePlace(resize.remappedAt, ', '), remapText(resize)].filter((part) => part !== '').join(', ')} (${resize.id})`]);
  if (unlinked !== null && !unlinkedFirst(finding)) rows.push(unlinked);
  rows.push(['now', escapeControl(resolutionText(finding))]);
  const blocks: Block[] = [heading(3, `${finding.id} ${kindAndSeverity(finding.kind, finding.severity)}, pid ${finding.pid}`), table(['', ''], rows)];
  if (resize !== undefined) blocks.push(paragraph(strong('Resize signature: '), ...resizeStory(finding, resize, multi)));
  if (finding.note !== null) blocks.push(paragraph(text(finding.note)));
  if (finding.evidence.length > 0) {
    const starts = view.ranges.map((range) => range.start);
    blocks.push(
      paragraph(
        text('Timeline (raw trace lines; '),
        ...starts.flatMap((start, i) => [...(i === 0 ? [] : [text(i === starts.length - 1 ? ' and ' : ', ')]), strong(start)]),
        text(starts.length === 1 ? ' is the orphaned mapping):' : ' are what is left of the orphaned mapping):'),
      ),
    );
    blocks.push({ type: 'preformatted', lines: timeline(finding, multi) });
  }
  const mapsLine = report.mapsLines[finding.id];
  if (mapsLine !== undefined) {
    blocks.push(paragraph(text(`/proc/${finding.pid}/maps at the end of the capture:`)));
    blocks.push({ type: 'preformatted', lines: [escapeControl(mapsLine)] });
  }
  return blocks;
}

/** "**0x7feb45600000**-0x7feb46000000, 10.0 MiB (10,485,760 bytes)", each range's start in bold. */
function mappingCell(view: MappingView): Inline[] {
  const cell: Inline[] = [];
  view.ranges.forEach((range, i) => {
    if (i > 0) cell.push(text(i === view.ranges.length - 1 ? ' and ' : ', '));
    cell.push(strong(range.start), text(`-${range.end}`));
  });
  const size = view.plausible ? `${formatBytes(view.bytes)} (${formatCount(view.bytes)} bytes${pagesNote(view.bytes)})` : view.size;
  cell.push(text(`, ${size}${view.cut === null ? '' : `, ${view.cut}`}${view.later === null ? '' : `; ${view.later}`}`));
  return cell;
}

/**
 * Raw lines with their line numbers, and a caret line under each occurrence
 * of the orphaned address:
 *   459  4871 1764070186.101 mmap(NULL, 10485760, …) = 0x7f606e600000 <0.000022>
 *                                                      ^^^^^^^^^^^^^^ orphaned mapping
 */
export function timeline(finding: Finding, multi: boolean): string[] {
  // Read once: a finding's evidence is built (read from the trace, redacted) each time it is read.
  const evidence = finding.evidence;
  const labels = evidence.map((line) => (multi ? `${escapeControl(line.file)}:${line.line}` : String(line.line)));
  const width = Math.max(...labels.map((label) => label.length));
  const find = addressFinder(mappingView(finding).ranges.map((range) => range.start));
  const out: string[] = [];
  evidence.forEach((line, i) => {
    const prefix = `${labels[i]!.padStart(width)}  `;
    const body = escapeControl(line.text);
    out.push(prefix + body);
    let carets = '';
    const matches = find(body);
    for (let k = 0; k < matches.length; k++) {
      const match = matches[k]!;
      carets = carets.padEnd(prefix.length + match.index, ' ') + '^'.repeat(match.length);
    }
    if (carets !== '') out.push(`${carets} orphaned mapping`);
  });
  return out;
}

/** Where an address shows in a line: its place and length. */
export interface AddressMatch {
  index: number;
  length: number;
}

/**
 * What `new RegExp(`(?:${starts.join('|')})(?![0-9a-f])`, 'gi')` finds, with
 * matchAll: each place a line shows one of `starts` (the first that fits,
 * in their order) with no hex digit after it, case aside, left to right. A
 * RegExp per finding was compiled to machine code each time: trace-lines.txt
 * of 31,208 findings (leaky80) grew the code space by 19 MiB, and the old
 * space by 24 MiB more, all of it garbage left for a full collection (report's
 * peak RSS 250 MiB). Addresses as the engine prints them (`0x` and hex
 * digits) are found by a scan; anything else, by that RegExp, as before.
 */
export function addressFinder(starts: readonly string[]): (line: string) => readonly AddressMatch[] {
  if (starts.length === 0 || !starts.every((start) => HEX_ADDRESS.test(start))) {
    const address = new RegExp(`(?:${starts.join('|')})(?![0-9a-f])`, 'gi');
    return (line) => Array.from(line.matchAll(address), (match) => ({ index: match.index, length: match[0].length }));
  }
  // ASCII only (checked above): lower case has the same length.
  const lower = starts.map((start) => start.toLowerCase());
  // Nothing made for a line without the address (most of them): trace-lines.txt scans 750,000 (leaky80).
  return (line) => {
    let found: AddressMatch[] | null = null;
    // Every start begins with `0x`: a match can begin only where a `0` is followed by an x.
    for (let at = line.indexOf('0'); at >= 0; ) {
      const x = line.charCodeAt(at + 1);
      let length = 0;
      if (x === 0x78 || x === 0x58) {
        for (let k = 0; k < lower.length && length === 0; k++) if (isAddressAt(line, at, lower[k]!)) length = lower[k]!.length;
      }
      if (length === 0) at = line.indexOf('0', at + 1);
      else {
        found ??= [];
        found.push({ index: at, length });
        at = line.indexOf('0', at + length);
      }
    }
    return found ?? NO_MATCHES;
  };
}

const NO_MATCHES: readonly AddressMatch[] = [];

const HEX_ADDRESS = /^0x[0-9a-f]+$/i;

/** `line` shows `address` (lower case) at `at`, case aside, and no hex digit follows it. */
function isAddressAt(line: string, at: number, address: string): boolean {
  if (at + address.length > line.length) return false;
  for (let k = 0; k < address.length; k++) {
    const c = line.charCodeAt(at + k);
    // A-Z to a-z; nothing else folds to ASCII in a RegExp without the u flag.
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== address.charCodeAt(k)) return false;
  }
  return !isHexDigit(line.charCodeAt(at + address.length));
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function caveatBlocks(report: Report): Block[] {
  const blocks: Block[] = [heading(2, 'Caveats')];
  const items: Inline[][] = report.warnings.map((warning) => [text(escapeControl(warning))]);
  if (report.summary.unparsedLines > 0) {
    const first = report.unparsedSamples[0];
    items.push([
      text(
        `${formatCount(report.summary.unparsedLines)} unreadable trace line${report.summary.unparsedLines === 1 ? '' : 's'}${first === undefined ? '' : ` (first: ${escapeControl(first.file)}:${first.line}, ${first.reason})`}`,
      ),
    ]);
  }
  blocks.push({ type: 'list', items });
  return blocks;
}

function reproduceBlocks(report: Report, options: TicketOptions): Block[] {
  return [
    heading(2, 'How to reproduce'),
    table(
      ['input', 'format', 'SHA-256'],
      report.inputs.map((input) => [code(escapeControl(input.path)), input.format, code(input.sha256)]),
    ),
    paragraph(text('Command:')),
    { type: 'preformatted', lines: [escapeControl(options.command)] },
  ];
}
