// What a bundle's maps-end.txt shows that the trace does not explain: a
// mapping of a deleted file, in the captured process, that no finding is
// about. The removal of its last name is not in the trace: another process
// removed the file (a cleaner, `git gc`, retention run by another program),
// or the file was mapped and removed by calls the filter left out. Or the
// file lives on: /proc says "(deleted)" once the name a mapping was made by
// is gone, though a hard link (`cp -al`, a backup) keeps the file and its
// blocks (a review's finding). Which one, the trace alone cannot tell: it
// is said as a warning. Pure: no I/O.
import { findingStart, type Finding } from '../engine/findings.js';
import { isDeletedFile, type MapsEntry } from '../parse/maps.js';

/** How many of them the warning names. */
const NAMED = 3;

/** A warning and the paths of the files it names, which --redact replaces whole (Redaction.withWholePaths). */
export interface UnexplainedDeleted {
  warning: string;
  paths: string[];
}

/**
 * The warning for the deleted files' mappings of process `pid` in
 * maps-end.txt (at `path`) that no finding of `findings` overlaps, or null
 * when every one is explained.
 */
export function unexplainedDeleted(findings: readonly Finding[], mapsEnd: readonly MapsEntry[], pid: number, path: string): UnexplainedDeleted | null {
  const spans: [number, number][] = [];
  for (const finding of findings) {
    if (finding.pid !== pid) continue;
    for (const range of finding.ranges ?? [finding]) {
      const start = findingStart(range);
      spans.push([start, start + Math.max(range.length, 1)]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const deleted = mapsEnd.filter(isDeletedFile).sort((a, b) => a.start - b.start);
  // In address order: a line is explained when a span that starts before its
  // end reaches past its start; the farthest such end is all that matters.
  const unexplained: MapsEntry[] = [];
  let next = 0;
  let farthest = Number.NEGATIVE_INFINITY;
  for (const line of deleted) {
    while (next < spans.length && spans[next]![0] < line.end) farthest = Math.max(farthest, spans[next++]![1]);
    if (farthest <= line.start) unexplained.push(line);
  }
  if (unexplained.length === 0) return null;
  // One file is often several lines (an executable's or a library's segments):
  // counted and named once, by device and inode. Files mapped shared come
  // first: a library or the program's own image replaced under it is a file
  // mapped private, and it would crowd out the shared data files the warning
  // is for.
  const files = new Map<string, { path: string; start: number; lines: number; shared: boolean }>();
  for (const line of unexplained) {
    const key = `${line.dev} ${line.inode} ${line.path}`;
    const file = files.get(key);
    const shared = line.perms[3] === 's';
    // Named as a finding names its file: the kernel's \012 read back as the newline it stands for (as redactMapsLine reads it).
    if (file === undefined) files.set(key, { path: line.path.replaceAll('\\012', '\n'), start: line.start, lines: 1, shared });
    else {
      file.lines++;
      file.shared ||= shared;
    }
  }
  const count = files.size;
  const shown = [...files.values()].sort((a, b) => Number(b.shared) - Number(a.shared) || a.start - b.start).slice(0, NAMED);
  const named = shown.map((file) => `${file.path} at 0x${file.start.toString(16)}${file.lines > 1 ? ` (${file.lines} mappings)` : ''}`).join(', ');
  const warning =
    `${path}: process ${pid} still maps ${count === 1 ? 'a deleted file' : `${count} deleted files`} that no finding explains: ` +
    `the trace does not show the removal of ${count === 1 ? 'its' : 'their'} last name (another process removed the file, the filter left the calls out, ` +
    `or a hard link keeps the file though the name it was mapped by is gone, which /proc shows as deleted too), ` +
    `so ${count === 1 ? 'it is not reported as a finding' : 'they are not reported as findings'}: ${named}${count > NAMED ? `, and ${count - NAMED} more` : ''}`;
  return { warning, paths: shown.map((file) => file.path) };
}
