// What a bundle's maps-end.txt shows that no finding explains: a mapping of a
// deleted file, in the captured process, that no finding is about. The
// removal of its last name is not in the trace: another process removed or
// replaced the file (`sed -i`, a deploy's rename over it, a cleaner, `git
// gc`), the filter left the call out, or it went after the trace ended
// (maps-end.txt is read just after the tracer stops). Such lines become
// findings (Mappings.deletedAtEnd). What is left for a warning: a file the
// trace shows keeping another name (a hard link) after the name it was
// mapped by went, which /proc shows "(deleted)" too (a review's finding).
// Pure: no I/O.
import { type EndMapping, findingNameMayBe } from '../engine/mappings.js';
import { findingStart, heldNow, type Finding } from '../engine/findings.js';
import { firstEndingAfter, isDeletedFile, parseDev, type MapsEntry } from '../parse/maps.js';
import type { MapsLine } from './bundle.js';

/** How many of them the warning names. */
const NAMED = 3;

/** A warning and the paths of the files it names, which --redact replaces whole (Redaction.withWholePaths). */
export interface UnexplainedDeleted {
  warning: string;
  paths: string[];
}

/**
 * The deleted files' mappings of process `pid` in maps-end.txt that no finding of `findings` overlaps, in address order.
 * @param readBeforeStop the maps were read before the process was stopped (a launched command: the capture reads
 * them, then sends it SIGTERM), so the trace goes on past them
 */
export function unexplainedLines<T extends MapsEntry>(findings: readonly Finding[], mapsEnd: readonly T[], pid: number, readBeforeStop = false): T[] {
  const spans: [number, number][] = [];
  const deletedAt = readBeforeStop ? new Map(mapsEnd.filter(isDeletedFile).map((line) => [line.start, line])) : null;
  for (const finding of findings) {
    // An earlier mapping's finding at the same address (reused), unmapped while the process lived, explains no line.
    // One that was live when maps-end.txt was read does, however it ended after: a launched command is ended
    // after that read (process-exited), and the trace may end before it (still-mapped); and a launched command
    // may unmap it as it ends (review 21: Prometheus's five, listed again as still mapped), which the line at
    // its address, of its file, shows.
    // Nor does one the maps contradict (another file's mapping at its address: confirmWithMaps).
    if (finding.pid !== pid || finding.confirmedByMaps === false) continue;
    // A resize finding says the old mapping lived on, not that its file lost its name: a "(deleted)" line of that
    // mapping is a leak still to report (review 51, A1: Kafka's resized 10 MiB index mappings, their segments removed
    // out of the trace's sight, were only warnings, and --fail-on exited 0).
    if (finding.kind === 'remapped-without-unmap' && finding.unlinkedAt === null) continue;
    if (finding.resolution === 'unmapped' && !unmappedAfterRead(finding, deletedAt)) continue;
    for (const range of heldNow(finding)) {
      const start = findingStart(range);
      spans.push([start, start + Math.max(range.length, 1)]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const deleted = mapsEnd.filter(isDeletedFile).sort((a, b) => a.start - b.start);
  // In address order: a line is explained when a span that starts before its
  // end reaches past its start; the farthest such end is all that matters.
  const unexplained: T[] = [];
  let next = 0;
  let farthest = Number.NEGATIVE_INFINITY;
  for (const line of deleted) {
    while (next < spans.length && spans[next]![0] < line.end) farthest = Math.max(farthest, spans[next++]![1]);
    if (farthest <= line.start) unexplained.push(line);
  }
  return unexplained;
}

/**
 * The findings of process `pid`, of mappings live at the end, whose every
 * "(deleted)" line of its maps-end.txt (`mapsEnd`) within their spans is of
 * their own file (by its name) and `named`: counted with a name left. One
 * line of another file mapped over part of a leak, that file with a name
 * left, takes back nothing (review 34's code review, 2). Each span looked up
 * among the lines in address order (they do not overlap).
 */
export function findingsKeptByName<T extends MapsEntry>(findings: readonly Finding[], mapsEnd: readonly T[], pid: number, named: (line: T) => boolean): Finding[] {
  const deleted = mapsEnd.filter(isDeletedFile).sort((a, b) => a.start - b.start);
  if (deleted.length === 0) return [];
  const kept: Finding[] = [];
  for (const finding of findings) {
    if (finding.pid !== pid || finding.kind !== 'unlinked-while-mapped' || finding.resolution !== 'still-mapped' || finding.confirmedByMaps === false) continue;
    let lines = 0;
    let all = true;
    for (const range of heldNow(finding)) {
      const start = findingStart(range);
      const end = start + Math.max(range.length, 1);
      // The first line that ends past the span's start; those after it that begin before its end are in it too.
      for (let k = firstEndingAfter(deleted, start); k < deleted.length && deleted[k]!.start < end; k++) {
        const line = deleted[k]!;
        lines++;
        if (!named(line) || !findingNameMayBe(finding, fromKernelName(line.path))) all = false;
      }
    }
    if (lines > 0 && all) kept.push(finding);
  }
  return kept;
}

/** A finding unmapped in the trace, whose mapping the maps read before the process was stopped still list. */
function unmappedAfterRead(finding: Finding, deletedAt: ReadonlyMap<number, MapsEntry> | null): boolean {
  const line = deletedAt?.get(findingStart(heldNow(finding)[0]!));
  return line !== undefined && findingNameMayBe(finding, fromKernelName(line.path));
}

/**
 * Lines of maps-end.txt (at `path`) as the engine takes them. `noLinkLeft`:
 * the capture counted the links of the line's file (maps-end.nlink), and none
 * was left.
 */
export function endMappings(lines: readonly MapsLine[], path: string, noLinkLeft: (line: MapsLine) => boolean = () => false): EndMapping[] {
  return lines.map((line) => {
    const dev = parseDev(line.dev);
    return {
      noLinkLeft: noLinkLeft(line),
      start: line.start,
      end: line.end,
      offset: line.offset,
      // Named as a finding names its file: the kernel's \012 read back as the newline it stands for (as redactMapsLine reads it).
      path: fromKernelName(line.path),
      // The device as the tracer gives an inode's (the kernel's dev_t: MKDEV is major << 20 | minor).
      inode: dev === null || line.inode === 0 ? null : { dev: dev.major * 2 ** 20 + dev.minor, ino: line.inode },
      place: { file: path, line: line.lineNo },
      text: line.text,
    };
  });
}

/**
 * The warning for the deleted files' mappings of process `pid` in
 * maps-end.txt (at `path`) that no finding of `findings` overlaps, or null
 * when every one is explained. Asked once the engine made findings of those
 * it could (Engine.deletedAtEnd): the rest are mappings of files the trace
 * shows keeping another name.
 */
export function unexplainedDeleted(findings: readonly Finding[], mapsEnd: readonly MapsEntry[], pid: number, path: string, readBeforeStop = false): UnexplainedDeleted | null {
  const unexplained = unexplainedLines(findings, mapsEnd, pid, readBeforeStop);
  if (unexplained.length === 0) return null;
  const { one, named, paths } = filesOf(unexplained);
  const warning =
    `${path}: process ${pid} still maps ${one ? 'a deleted file' : `${paths.count} deleted files`} that no finding explains: ` +
    `the trace shows the name ${one ? 'it was' : 'each was'} mapped by removed while another name kept the file (a hard link: /proc shows the mapping deleted though the file lives), ` +
    `and no removal of that other name; if it went too, it went by a call the trace does not show (another process removed it, the filter left the call out, ` +
    `or it went after the trace ended: maps-end.txt is read just after the tracer stops), ` +
    `so ${one ? 'it is not reported as a finding' : 'they are not reported as findings'}: ${named}`;
  return { warning, paths: paths.shown };
}

/**
 * The warning for the lines of process `pid` in maps-end.txt (at `path`)
 * that print "(deleted)" though the capture found their files with a name
 * left just after (maps-end.nlink: `kept`), or null when there are none:
 * no leak, but what a reader of /proc sees, told; or, `found`, lines a
 * finding of the trace covers, which the count contradicts: the findings
 * `taken back` (made benign), or `in doubt` (maps read while the trace went
 * on, a launched command's; or a finding whose span holds other lines too).
 */
export function keptDeleted(kept: readonly MapsEntry[], pid: number, path: string, found: 'taken back' | 'in doubt' | null = null): UnexplainedDeleted | null {
  if (kept.length === 0) return null;
  const { one, named, paths } = filesOf(kept);
  const counted = `(a hard link: the capture counted ${one ? 'its' : 'their'} links just after reading the maps, maps-end.nlink)`;
  const warning =
    found === 'taken back'
      ? `${path}: process ${pid} maps ${one ? 'a file' : `${paths.count} files`} that /proc prints "(deleted)" and the trace shows losing the name ${one ? 'it was' : 'each was'} mapped by, though another name kept ${one ? 'it' : 'each'} ${counted}: ` +
        `a name the trace did not see made (another process's link), so ${one ? 'its finding is' : 'their findings are'} no leak (info, "kept by another name"): ${named}`
      : found === 'in doubt'
        ? `${path}: process ${pid} maps ${one ? 'a file' : `${paths.count} files`} that /proc prints "(deleted)" and a finding calls unlinked, though another name kept ${one ? 'it' : 'each'} ${counted}: ` +
          `a name the trace did not see made (another process's link), so ${one ? 'that finding' : 'those findings'} may be false; ${one ? 'it stands' : 'they stand'}, as the maps were read while the trace went on ` +
          `(a launched command's: its last name may have gone after), or the finding's span holds other lines than its file's with a name left: ${named}`
        : `${path}: process ${pid} maps ${one ? 'a file' : `${paths.count} files`} that /proc prints "(deleted)" though another name kept ${one ? 'it' : 'each'} ${counted}, so ${one ? 'it is no leak' : 'they are no leaks'}: ${named}`;
  return { warning, paths: paths.shown };
}

/**
 * Maps lines by file: one file is often several lines (an executable's or a
 * library's segments), counted and named once, by device and inode. Files
 * mapped shared come first: a library or the program's own image is a file
 * mapped private, and it would crowd out the shared data files a warning is
 * for.
 */
function filesOf(lines: readonly MapsEntry[]): { one: boolean; named: string; paths: { count: number; shown: string[] } } {
  const files = new Map<string, { path: string; start: number; lines: number; shared: boolean }>();
  for (const line of lines) {
    const key = `${line.dev} ${line.inode} ${line.path}`;
    const file = files.get(key);
    const shared = line.perms[3] === 's';
    if (file === undefined) files.set(key, { path: fromKernelName(line.path), start: line.start, lines: 1, shared });
    else {
      file.lines++;
      file.shared ||= shared;
    }
  }
  const count = files.size;
  const shown = [...files.values()].sort((a, b) => Number(b.shared) - Number(a.shared) || a.start - b.start).slice(0, NAMED);
  const named = `${shown.map((file) => `${file.path} at 0x${file.start.toString(16)}${file.lines > 1 ? ` (${file.lines} mappings)` : ''}`).join(', ')}${count > NAMED ? `, and ${count - NAMED} more` : ''}`;
  return { one: count === 1, named, paths: { count, shown: shown.map((file) => file.path) } };
}

/** /proc prints a newline in a name as the four characters \012. */
export function fromKernelName(path: string): string {
  return path.replaceAll('\\012', '\n');
}
