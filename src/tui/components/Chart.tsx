// Deleted-but-mapped mappings and their bytes over the whole trace read so
// far (or the whole live session), as two sparklines on one time axis whose
// start and end are labelled: growth is seen rather than read, and a mapping
// held only in the last milliseconds of a trace is a sliver at the right edge,
// not a solid bar.
import { Box, Text } from 'ink';
import { formatBytes, formatCount } from '../../report/sanitize.js';
import { clockLabel, sparkline, spanLabel } from '../format.js';
import type { SeriesPoint, TimeAxis } from '../snapshot.js';

export interface ChartProps {
  series: readonly SeriesPoint[];
  axis: TimeAxis | null;
  width: number;
  /** The highest values seen: the scale of both lines. */
  peak: { count: number; bytes: number };
}

const LABEL = 16;
const VALUE = 14;
export const CHART_ROWS = 3;

/** The axis row: where the graph starts and ends, in words that fit under it. */
export function axisLabels(axis: TimeAxis | null, graph: number): string {
  if (axis === null) return ''.padEnd(graph);
  let start: string;
  let end: string;
  switch (axis.unit) {
    case 'session':
      start = `${clockLabel(axis.startedAt)} start`;
      end = `+${spanLabel(axis.end - axis.start)} now`;
      break;
    case 'trace-seconds':
      // From the trace's first event to its last (while reading, the times seen so far).
      start = '0';
      end = `+${spanLabel(axis.end - axis.start)}`;
      break;
    case 'events':
      start = 'event 0';
      end = `event ${formatCount(Math.round(axis.end))}`;
      break;
  }
  const left = `└${start}`;
  const right = `${end}┘`;
  if (left.length + right.length + 1 > graph) return `${right.padStart(graph)}`.slice(-graph);
  return `${left}${' '.repeat(graph - left.length - right.length)}${right}`;
}

export function Chart({ series, axis, width, peak }: ChartProps) {
  const graph = Math.max(4, width - LABEL - VALUE - 2);
  const counts = series.map((point) => ({ x: point.x, value: point.count }));
  const bytes = series.map((point) => ({ x: point.x, value: point.bytes }));
  const start = axis?.start;
  const end = axis?.end;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text dimColor>{'deleted+mapped'.padEnd(LABEL)}</Text>
        <Text color="red">{sparkline(counts, graph, start, end)}</Text>
        <Text> {`peak ${formatCount(peak.count)}`.padStart(VALUE)}</Text>
      </Text>
      <Text wrap="truncate">
        <Text dimColor>{'bytes'.padEnd(LABEL)}</Text>
        <Text color="magenta">{sparkline(bytes, graph, start, end)}</Text>
        <Text> {formatBytes(peak.bytes).padStart(VALUE)}</Text>
      </Text>
      <Text wrap="truncate" dimColor>
        {(axis?.unit === 'events' ? 'events' : 'time').padEnd(LABEL)}
        {axisLabels(axis, graph)}
      </Text>
    </Box>
  );
}
