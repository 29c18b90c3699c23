// One finding in full: what, where, and the file's timeline from its
// evidence, with the orphaned mapping's mmap and the event that orphaned it
// (the unlink, or the second mmap of a resize) marked. The summary stays put;
// the timeline scrolls.
import { Box, Text } from 'ink';
import type { At, EvidenceLine, Finding } from '../../engine/findings.js';
import { describePlace, mappingText, mappingView, remapText, resolutionText, SEVERITY_TAG } from '../../report/finding-view.js';
import { escapeControl } from '../../report/sanitize.js';
import { callText, fit, fitRight, wrapRows } from '../format.js';
import { SEVERITY_COLOR } from './FindingsTable.js';

export interface DetailPaneProps {
  finding: Finding;
  width: number;
  height: number;
  /** First timeline row shown; null: placed so the orphaning line is in view. */
  scroll: number | null;
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

export function timelineRows(finding: Finding, width: number): { rows: TimelineRow[]; focus: number } {
  const callWidth = Math.max(10, width - MARK - TIME - TID - LINE - 4);
  const resumed = resumedLineOf(finding, finding.evidence);
  const rows: TimelineRow[] = [];
  let focus = 0;
  for (const line of finding.evidence) {
    const mark = markOf(finding, line, resumed);
    if ((mark === 'unlink' && finding.kind === 'unlinked-while-mapped') || (mark === 'remap' && finding.kind === 'remapped-without-unmap')) focus = rows.length;
    const head = `${fit(line.time ?? '', TIME)} ${fitRight(line.tid === null ? '' : String(line.tid), TID)} ${fitRight(String(line.line), LINE)}`;
    wrapRows(escapeControl(callText(line.text)), callWidth).forEach((text, k) => {
      rows.push({ key: `${line.file}:${line.line}:${k}`, mark: k === 0 ? mark : null, head: k === 0 ? head : null, text });
    });
  }
  return { rows, focus };
}

/** What the pane shows at a given scroll: the fixed summary and the timeline window. */
export function detailView(finding: Finding, width: number, height: number, scroll: number | null) {
  const summary = summaryLines(finding, width);
  const { rows, focus } = timelineRows(finding, width);
  const room = Math.max(1, height - summary.length - 2);
  let top = Math.max(0, Math.min(scroll ?? focus - Math.floor(room / 3), rows.length - room));
  // Placed automatically: the orphaning line a third of the way down, and the
  // window starting on a line's first row rather than inside a wrapped one.
  if (scroll === null) while (top < focus && rows[top]!.head === null) top++;
  return { summary, rows, room, top };
}

export function DetailPane({ finding, width, height, scroll }: DetailPaneProps) {
  const { summary, rows, room, top } = detailView(finding, width, height, scroll);
  const blank = ' '.repeat(MARK + TIME + TID + LINE + 4);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {summary.map((line, k) => (
        <Text key={`s${k}`} wrap="truncate" bold={k === 0} color={k === 0 ? SEVERITY_COLOR[finding.severity] : undefined}>
          {line}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {`timeline of the file: ${finding.evidence.length} lines${rows.length > room ? `, ${top + 1}-${Math.min(rows.length, top + room)} of ${rows.length} rows` : ''}`}
      </Text>
      <Text dimColor wrap="truncate">{`${fit('', MARK)} ${fit('TIME', TIME)} ${fitRight('TID', TID)} ${fitRight('LINE', LINE)} CALL`}</Text>
      {rows.slice(top, top + room).map((row) => (
        <Text key={row.key} wrap="truncate" color={markColor(row.mark)} bold={row.mark === 'unlink' || row.mark === 'remap'}>
          {row.head === null ? blank : `${fit(markText(row.mark), MARK)} ${row.head} `}
          {row.text}
        </Text>
      ))}
    </Box>
  );
}

function summaryLines(finding: Finding, width: number): string[] {
  const lines = [
    `${finding.id}  ${finding.kind}  ${SEVERITY_TAG[finding.severity]}  pid ${finding.pid}`,
    ...wrapRows(`file      ${escapeControl(finding.path)}`, width),
  ];
  const earlier = finding.names.filter((name) => name !== finding.path);
  if (earlier.length > 0) lines.push(...wrapRows(`was       ${earlier.map(escapeControl).join(' → ')}`, width));
  lines.push(...wrapRows(`mapping   ${mappingText(mappingView(finding))}`, width));
  lines.push(`mapped    ${describePlace(finding.mappedAt, ' ')}`);
  if (finding.remappedAt !== null) lines.push(`remapped  ${[describePlace(finding.remappedAt, ' '), remapText(finding)].filter((part) => part !== '').join('  ')}`);
  if (finding.kind === 'unlinked-while-mapped' || finding.unlinkedAt !== null) lines.push(`unlinked  ${describePlace(finding.unlinkedAt, ' ')}`);
  lines.push(`now       ${escapeControl(resolutionText(finding))}`);
  if (finding.note !== null) lines.push(...wrapRows(`note      ${escapeControl(finding.note)}`, width));
  return lines;
}


function markText(mark: Mark): string {
  return mark === null ? '' : `${mark}▶`;
}

function markColor(mark: Mark): string | undefined {
  switch (mark) {
    case 'mapped': return 'cyan';
    case 'unlink':
    case 'remap': return 'red';
    case 'freed': return 'green';
    case null: return undefined;
  }
}
