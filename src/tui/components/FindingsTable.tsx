// The findings, one row each, windowed to the height it is given: only the
// rows on screen are drawn, however many findings there are. The path column
// gets the room that tells its files apart (paths.ts); the other columns give
// way in order (address, then age, pid and kind) on narrow terminals.
import { useRef } from 'react';
import { Box, Text } from 'ink';
import type { Finding, Severity } from '../../engine/findings.js';
import { KIND_SHORT, SEVERITY_SHORT, stateLabel } from '../../report/finding-view.js';
import { ageLabel, fit, fitRight, highlightPieces, shownText, sizeLabel, wrapWords } from '../format.js';
import { neededWidth, pathLabels } from '../paths.js';
import type { SortKey } from '../snapshot.js';

export interface FindingsTableProps {
  rows: readonly Finding[];
  selectedIndex: number;
  width: number;
  /** Lines available, including the column header. */
  height: number;
  ageOf: (finding: Finding) => number | undefined;
  pathDepth: (path: string) => number;
  sort: SortKey;
  reversed: boolean;
  /** Filter text to highlight in the paths. */
  highlight: string;
  /** What is shown when there are no rows. */
  empty: string;
}

export const SEVERITY_COLOR: Readonly<Record<Severity, string>> = { error: 'red', warning: 'yellow', info: 'gray' };

export interface Layout {
  path: number;
  kind: boolean;
  address: boolean;
  pid: boolean;
  age: boolean;
  state: number;
}

const MARK = 2;
/** ERR and a space for the sort marker of SEV▼. */
const SEV = 4;
const KIND = 6;
const ADDRESS = 14;
const SIZE = 9;
const PID = 7;
const AGE = 10;
const STATE_SHORT = 18;
const STATE_LONG = 22;
/** The path column never gets less than this while another column could give way. */
const PATH_FLOOR = 16;
/** Nor does it ask for more than this before the other columns are shown. */
const PATH_WANT_CAP = 48;

/**
 * Columns for a width, given the path width the rows need to be told apart
 * (`want`): severity, path, size and state always; then kind, pid, age and
 * address, each only while the path keeps what it needs.
 */
export function layoutFor(width: number, want = 32): Layout {
  const target = Math.max(PATH_FLOOR, Math.min(PATH_WANT_CAP, want));
  // mark, SEV and the spaces between columns: one before each column after SEV.
  let used = MARK + SEV + 1 + (SIZE + 1) + (STATE_SHORT + 1);
  const layout: Layout = { path: 0, kind: false, address: false, pid: false, age: false, state: STATE_SHORT };
  const optional: [keyof Omit<Layout, 'path' | 'state'>, number][] = [
    ['kind', KIND + 1],
    ['pid', PID + 1],
    ['age', AGE + 1],
    ['address', ADDRESS + 1],
  ];
  for (const [column, size] of optional) {
    if (width - used - size >= target) {
      layout[column] = true;
      used += size;
    }
  }
  if (width - used - (STATE_LONG - STATE_SHORT) >= target + 8) {
    layout.state = STATE_LONG;
    used += STATE_LONG - STATE_SHORT;
  }
  layout.path = Math.max(8, width - used);
  return layout;
}

export function FindingsTable({ rows, selectedIndex, width, height, ageOf, pathDepth, sort, reversed, highlight, empty }: FindingsTableProps) {
  const visible = Math.max(1, height - 1);
  // Scroll only as far as needed to keep the selection in view, so rows do
  // not jump under the user's eyes when findings arrive.
  const top = useRef(0);
  if (selectedIndex >= 0) {
    if (selectedIndex < top.current) top.current = selectedIndex;
    else if (selectedIndex >= top.current + visible) top.current = selectedIndex - visible + 1;
  }
  top.current = Math.max(0, Math.min(top.current, Math.max(0, rows.length - visible)));
  const shown = rows.slice(top.current, top.current + visible);
  const paths = shown.map((finding) => shownText(finding.path));
  // The widest need seen at this width: columns give way as paths need it and
  // do not come back and go again while the list scrolls.
  const want = useRef({ width, need: 0 });
  if (want.current.width !== width) want.current = { width, need: 0 };
  for (const path of paths) want.current.need = Math.max(want.current.need, neededWidth(path, pathDepth(path)));
  const layout = layoutFor(width, want.current.need);
  const labels = pathLabels(paths, layout.path, pathDepth);
  const needle = highlight.trim();
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {headerLine(layout, sort, reversed)}
      </Text>
      {/* Wrapped, not cut: the words that say why a verdict is not clean come last (review 93, D2: "but 3 mappings ar…"). */}
      {rows.length === 0
        ? wrapWords(empty, Math.max(1, width - 1))
            .slice(0, visible)
            .map((row, k) => (
              <Text key={`empty-${k}`} dimColor wrap="truncate">
                {' '}
                {row}
              </Text>
            ))
        : null}
      {shown.map((finding, k) => {
        const selected = top.current + k === selectedIndex;
        const label = labels.get(paths[k]!) ?? paths[k]!;
        return (
          <Text key={finding.id} inverse={selected} wrap="truncate">
            {selected ? '› ' : '  '}
            <Text color={SEVERITY_COLOR[finding.severity]} bold={finding.severity === 'error'}>
              {fit(SEVERITY_SHORT[finding.severity], SEV)}
            </Text>{' '}
            {layout.kind ? `${fit(KIND_SHORT[finding.kind], KIND)} ` : ''}
            <Highlighted text={fit(label, layout.path)} needle={needle} />
            {layout.address ? ` ${fit(finding.address, ADDRESS)}` : ''} {fitRight(sizeLabel(finding.length), SIZE)}
            {layout.pid ? ` ${fitRight(String(finding.pid), PID)}` : ''} {fit(state(finding, layout, ageOf(finding)), layout.state)}
            {layout.age ? ` ${fitRight(ageLabel(finding, ageOf(finding)), AGE)}` : ''}
          </Text>
        );
      })}
    </Box>
  );
}

/** Occurrences of the filter text shown underlined in yellow. */
export function Highlighted({ text, needle }: { text: string; needle: string }) {
  if (needle === '') return <Text>{text}</Text>;
  const pieces = highlightPieces(text, needle);
  return (
    <Text>
      {pieces.map((piece, k) =>
        piece.hit ? (
          <Text key={k} color="yellow" underline>
            {piece.text}
          </Text>
        ) : (
          <Text key={k}>{piece.text}</Text>
        ),
      )}
    </Text>
  );
}

/** The column the order is by carries ▼ (as listed) or ▲ (reversed). */
const SORT_COLUMN: Readonly<Partial<Record<SortKey, string>>> = { severity: 'SEV', age: 'AGE/DELAY', size: 'SIZE', path: 'PATH', pid: 'PID' };

export function headerLine(layout: Layout, sort: SortKey = 'id', reversed = false): string {
  const mark = reversed ? '▲' : '▼';
  const title = (name: string) => (SORT_COLUMN[sort] === name ? `${name}${mark}` : name);
  return [
    ' '.repeat(MARK) + fit(title('SEV'), SEV),
    ...(layout.kind ? [fit('KIND', KIND)] : []),
    fit(title('PATH'), layout.path),
    ...(layout.address ? [fit('ADDRESS', ADDRESS)] : []),
    fitRight(title('SIZE'), SIZE),
    ...(layout.pid ? [fitRight(title('PID'), PID)] : []),
    fit('STATE', layout.state),
    ...(layout.age ? [fitRight(title('AGE/DELAY'), AGE)] : []),
  ].join(' ');
}

/**
 * The state, compact on narrow terminals ("unmapped +16.4 ms"), and without the delay the AGE/DELAY column shows.
 * Without that column, a finding still mapped says its age too ("mapped +2.1 min"): how long it has been held
 * was on the screen nowhere (review 93, D9).
 */
function state(finding: Finding, layout: Layout, ageMs: number | undefined): string {
  const label = stateLabel(finding);
  if (layout.age) return label.replace(/^unmapped after .*/, 'unmapped');
  if (label === 'still mapped' && ageMs !== undefined) return `${layout.state >= STATE_LONG ? 'still mapped' : 'mapped'} +${ageLabel(finding, ageMs)}`;
  return layout.state >= STATE_LONG ? label : label.replace('unmapped after ', 'unmapped +');
}
