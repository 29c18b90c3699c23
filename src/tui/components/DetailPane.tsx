// One finding in full: what, where, and the file's timeline from its
// evidence, with the orphaned mapping's mmap and the event that orphaned it
// (the unlink, or the second mmap of a resize) marked. The summary stays put;
// the timeline scrolls.
import { Box, Text } from 'ink';
import type { At, EvidenceLine, Finding } from '../../engine/findings.js';
import { describePlace, mappingText, mappingView, remapText, resolutionText, SEVERITY_TAG, unlinkedFirst, unlinkedText } from '../../report/finding-view.js';
import { escapeControl } from '../../report/sanitize.js';
import { callText, fit, fitRight, shownText, wrapRows } from '../format.js';
import type { Evidence } from '../listed.js';
import { Highlighted, SEVERITY_COLOR } from './FindingsTable.js';

export interface DetailPaneProps {
  finding: Finding;
  /** Its evidence lines, read for this view (the store's copy keeps none). */
  evidence: Evidence;
  width: number;
  height: number;
  /** First timeline row shown; null: placed so the orphaning line is in view. */
  scroll: number | null;
  /** Filter text: highlighted in the timeline. */
  highlight: string;
  /** The bundle's maps line at its address at the end, as the text report shows it. */
  mapsLine?: string | null;
}

export type Mark = 'mapped' | 'unlink' | 'remap' | 'freed' | null;

/** A screen row of the timeline: the first row of an evidence line carries its columns. */
interface TimelineRow {
  key: string;
  mark: Mark;
  head: string | null;
  text: string;
}

const MARK = 7;
const TIME = 17;
const TID = 7;
const LINE = 6;

/** Which role an evidence line plays in this finding. */
export function markOf(finding: Finding, line: EvidenceLine, resumedMmapLine: number | null): Mark {
  const same = (at: At | null) => at !== null && at.line === line.line && at.file === line.file;
  if (finding.kind === 'unlinked-while-mapped' && same(finding.unlinkedAt)) return 'unlink';
  if (finding.kind === 'remapped-without-unmap' && same(finding.remappedAt)) return 'remap';
  if (same(finding.mappedAt) || line.line === resumedMmapLine) return 'mapped';
  if (same(finding.unlinkedAt)) return 'unlink';
  if (same(finding.resolvedAt)) return 'freed';
  return null;
}

/**
 * mappedAt names the line where the mmap began; with -f that is often an
 * `<unfinished ...>` whose address is on the `<... mmap resumed>` line of the
 * same thread that follows. Both belong to the mapping.
 */
export function resumedLineOf(finding: Finding, evidence: readonly EvidenceLine[]): number | null {
  const mapped = finding.mappedAt;
  if (mapped === null) return null;
  const at = evidence.findIndex((line) => line.line === mapped.line && line.file === mapped.file);
  if (at < 0 || !evidence[at]!.text.includes('<unfinished')) return null;
  for (const line of evidence.slice(at + 1)) {
    if (line.tid === evidence[at]!.tid && line.text.includes('resumed>')) return line.line;
  }
  return null;
}

export function timelineRows(finding: Finding, width: number, evidence: readonly EvidenceLine[] = finding.evidence): { rows: TimelineRow[]; focus: number } {
  const callWidth = Math.max(10, width - MARK - TIME - TID - LINE - 4);
  const resumed = resumedLineOf(finding, evidence);
  const rows: TimelineRow[] = [];
  let focus = 0;
  for (const line of evidence) {
    const mark = markOf(finding, line, resumed);
    // The line that made the finding: the unlink, the second mmap of a resize, or the mmap of a file with no name left.
    const deciding = unlinkedFirst(finding)
      ? mark === 'mapped' && focus === 0
      : (mark === 'unlink' && finding.kind === 'unlinked-while-mapped') || (mark === 'remap' && finding.kind === 'remapped-without-unmap');
    if (deciding) focus = rows.length;
    const head = `${fit(line.time ?? '', TIME)} ${fitRight(line.tid === null ? '' : String(line.tid), TID)} ${fitRight(String(line.line), LINE)}`;
    wrapRows(shownText(callText(line.text)), callWidth).forEach((text, k) => {
      rows.push({ key: `${line.file}:${line.line}:${k}`, mark: k === 0 ? mark : null, head: k === 0 ? head : null, text });
    });
  }
  return { rows, focus };
}

/** Timeline rows on screen never drop below this while summary lines can give way. */
const MIN_TIMELINE = 3;

/**
 * What the pane shows at a given scroll: the title (always), as many summary
 * lines as leave room for the timeline (the least telling go first), the
 * timeline's own title, and the timeline window. `needle` is the filter
 * text: the timeline rows holding it, for n/N and the highlight.
 */
export function detailView(
  finding: Finding,
  width: number,
  height: number,
  scroll: number | null,
  needle = '',
  evidence: Evidence = { lines: finding.evidence, error: null },
  mapsLine: string | null = null,
) {
  const title = `${finding.id}  ${finding.kind}  ${SEVERITY_TAG[finding.severity]}  pid ${finding.pid}`;
  const all = summaryLines(finding, width, mapsLine);
  const columns = height >= 12;
  // title, the timeline's title and (when tall enough) its column names.
  const fixed = 2 + (columns ? 1 : 0);
  // The file's name, wrapped, is shown whole even where the timeline then
  // keeps fewer rows than it would (down to one): a path cut short names another file.
  const fileRows = all.filter((line) => line.group === 'file').length;
  const summaryRoom = Math.max(0, Math.min(all.length, Math.max(height - fixed - MIN_TIMELINE, Math.min(fileRows, height - fixed - 1))));
  const summary = keepMostTelling(all, summaryRoom);
  const { rows, focus } = timelineRows(finding, width, evidence.lines);
  const room = Math.max(1, height - fixed - summary.length);
  let top = Math.max(0, Math.min(scroll ?? focus - Math.floor(room / 3), rows.length - room));
  // Placed automatically: the orphaning line a third of the way down, and the
  // window starting on a line's first row rather than inside a wrapped one.
  if (scroll === null) while (top < focus && rows[top]!.head === null) top++;
  const lower = needle.trim().toLowerCase();
  const matches: number[] = [];
  if (lower !== '')
    rows.forEach((row, k) => {
      if (row.text.toLowerCase().includes(lower)) matches.push(k);
    });
  const timelineTitle = evidence.error === null ? `timeline of the file: ${evidence.lines.length} lines` : `timeline of the file: its lines cannot be read again: ${escapeControl(evidence.error)}`;
  return { title, summary, hidden: all.length - summary.length, rows, room, top, matches, columns, timelineTitle };
}

export function DetailPane({ finding, evidence, width, height, scroll, highlight, mapsLine = null }: DetailPaneProps) {
  const needle = highlight.trim().toLowerCase();
  const { title, summary, hidden, rows, room, top, columns, timelineTitle } = detailView(finding, width, height, scroll, needle, evidence, mapsLine);
  const blank = ' '.repeat(MARK + TIME + TID + LINE + 4);
  const range = rows.length > room ? `, rows ${top + 1}-${Math.min(rows.length, top + room)} of ${rows.length}` : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate" bold color={SEVERITY_COLOR[finding.severity]}>
        {title}
      </Text>
      {summary.map((line) => (
        <Text key={line.key} wrap="truncate">
          {line.text}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {`${timelineTitle}${range}${hidden > 0 ? ` (${hidden} summary lines hidden: a taller terminal shows them)` : ''}`}
      </Text>
      {columns ? <Text dimColor wrap="truncate">{`${fit('', MARK)} ${fit('TIME', TIME)} ${fitRight('TID', TID)} ${fitRight('LINE', LINE)} CALL`}</Text> : null}
      {rows.slice(top, top + room).map((row) => (
        <Text key={row.key} wrap="truncate" color={markColor(row.mark)} bold={row.mark === 'unlink' || row.mark === 'remap'}>
          {row.head === null ? blank : `${fit(markText(row.mark), MARK)} ${row.head} `}
          <Highlighted text={row.text} needle={needle} />
        </Text>
      ))}
    </Box>
  );
}

interface SummaryLine {
  key: string;
  /** The summary line this screen row is part of (`file`, `mapping`…): its rows are kept or left together. */
  group: string;
  text: string;
  /** Lower is kept longer when the pane is short. */
  rank: number;
}

/** The most telling summary lines that fit in `room` rows, each with all its rows: one cut at the edge would read as whole. */
function keepMostTelling(lines: readonly SummaryLine[], room: number): SummaryLine[] {
  if (lines.length <= room) return [...lines];
  const groups = new Map<string, SummaryLine[]>();
  for (const line of lines) groups.set(line.group, [...(groups.get(line.group) ?? []), line]);
  const kept = new Set<SummaryLine>();
  let left = room;
  for (const group of [...groups.values()].sort((a, b) => a[0]!.rank - b[0]!.rank)) {
    if (group.length > left) continue;
    for (const line of group) kept.add(line);
    left -= group.length;
  }
  return lines.filter((line) => kept.has(line));
}

function summaryLines(finding: Finding, width: number, mapsLine: string | null): SummaryLine[] {
  const lines: SummaryLine[] = [];
  const add = (key: string, text: string, rank: number) => {
    wrapRows(text, width).forEach((row, k) => {
      lines.push({ key: `${key}${k}`, group: key, text: row, rank: rank + k / 100 });
    });
  };
  add('file', `file      ${shownText(finding.path)}`, 1);
  const earlier = finding.names.filter((name) => name !== finding.path);
  if (earlier.length > 0) add('was', `was       ${earlier.map(shownText).join(' → ')}`, 6);
  add('mapping', `mapping   ${mappingText(mappingView(finding))}`, 2);
  const unlinked = finding.kind === 'unlinked-while-mapped' || finding.unlinkedAt !== null;
  // A file mapped with no name left: its unlink came first, and is the less telling line.
  if (unlinked && unlinkedFirst(finding)) add('unlinked', `unlinked  ${unlinkedText(finding, ' ')}`, 5);
  add('mapped', `mapped    ${describePlace(finding.mappedAt, ' ')}`, unlinkedFirst(finding) ? 3 : 5);
  if (finding.remappedAt !== null) add('remapped', `remapped  ${[describePlace(finding.remappedAt, ' '), remapText(finding)].filter((part) => part !== '').join('  ')}`, 3);
  if (unlinked && !unlinkedFirst(finding)) add('unlinked', `unlinked  ${unlinkedText(finding, ' ')}`, 3);
  add('now', `now       ${shownText(resolutionText(finding))}`, 4);
  // What /proc/PID/maps showed at that address when the capture ended: the proof behind "confirmed by".
  if (mapsLine !== null) add('maps', `maps      ${shownText(mapsLine)}`, 5.5);
  if (finding.note !== null) add('note', `note      ${shownText(finding.note)}`, 7);
  return lines;
}

function markText(mark: Mark): string {
  return mark === null ? '' : `${mark}▶`;
}

function markColor(mark: Mark): string | undefined {
  switch (mark) {
    case 'mapped':
      return 'cyan';
    case 'unlink':
    case 'remap':
      return 'red';
    case 'freed':
      return 'green';
    case null:
      return undefined;
  }
}
