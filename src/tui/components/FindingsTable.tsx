// The findings, one row each, windowed to the height it is given. Columns
// drop from the right of importance (age, then pid) on narrow terminals; the
// path keeps its file name and loses its middle.
import { useRef } from 'react';
import { Box, Text } from 'ink';
import type { Finding, Severity } from '../../engine/findings.js';
import { KIND_SHORT, SEVERITY_SHORT, stateLabel } from '../../report/finding-view.js';
import { ageLabel, fit, fitRight, shortenPath, sizeLabel } from '../format.js';

export interface FindingsTableProps {
  rows: readonly Finding[];
  selectedIndex: number;
  width: number;
  /** Lines available, including the column header. */
  height: number;
  /** Ages of still-mapped rows in ms, by id (snapshot.ages). */
  ages: ReadonlyMap<string, number>;
  /** What is shown when there are no rows. */
  empty: string;
}

export const SEVERITY_COLOR: Readonly<Record<Severity, string>> = { error: 'red', warning: 'yellow', info: 'gray' };

interface Layout {
  path: number;
  pid: boolean;
  age: boolean;
  state: number;
}

const MARK = 2;
const SEV = 3;
const KIND = 6;
const ADDRESS = 14;
const SIZE = 9;
const PID = 7;
const AGE = 10;

export function layoutFor(width: number): Layout {
  const wide = width >= 110;
  const state = width >= 100 ? 22 : 17;
  const fixed = MARK + (SEV + 1) + (KIND + 1) + (ADDRESS + 1) + (SIZE + 1) + (state + 1) + (width >= 100 ? PID + 1 : 0) + (wide ? AGE + 1 : 0);
  return { path: Math.max(12, width - fixed - 1), pid: width >= 100, age: wide, state };
}

export function FindingsTable({ rows, selectedIndex, width, height, ages, empty }: FindingsTableProps) {
  const layout = layoutFor(width);
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
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{headerLine(layout)}</Text>
      {rows.length === 0 ? <Text dimColor wrap="truncate">  {empty}</Text> : null}
      {shown.map((finding, k) => {
        const selected = top.current + k === selectedIndex;
        return (
          <Text key={finding.id} inverse={selected} wrap="truncate">
            {selected ? '› ' : '  '}
            <Text color={SEVERITY_COLOR[finding.severity]} bold={finding.severity === 'error'}>{fit(SEVERITY_SHORT[finding.severity], SEV)}</Text>
            {' '}
            {fit(KIND_SHORT[finding.kind], KIND)} {fit(shortenPath(finding.path, layout.path), layout.path)} {fit(finding.address, ADDRESS)} {fitRight(sizeLabel(finding.length), SIZE)}
            {layout.pid ? ` ${fitRight(String(finding.pid), PID)}` : ''} {fit(state(finding, layout), layout.state)}
            {layout.age ? ` ${fitRight(ageLabel(finding, ages.get(finding.id)), AGE)}` : ''}
          </Text>
        );
      })}
    </Box>
  );
}

function headerLine(layout: Layout): string {
  return [
    ' '.repeat(MARK) + fit('SEV', SEV),
    fit('KIND', KIND),
    fit('PATH', layout.path),
    fit('ADDRESS', ADDRESS),
    fitRight('SIZE', SIZE),
    ...(layout.pid ? [fitRight('PID', PID)] : []),
    fit('STATE', layout.state),
    ...(layout.age ? [fitRight('AGE/DELAY', AGE)] : []),
  ].join(' ');
}

/** The state, compact on narrow terminals: "unmapped +16.4 ms". */
function state(finding: Finding, layout: Layout): string {
  const label = stateLabel(finding);
  return layout.state >= 22 ? label : label.replace('unmapped after ', 'unmapped +');
}
