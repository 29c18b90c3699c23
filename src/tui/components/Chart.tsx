// Deleted-but-mapped mappings and their bytes over trace time, as two
// sparklines, so growth is seen rather than read.
import { Box, Text } from 'ink';
import { formatBytes, formatCount } from '../../report/sanitize.js';
import { sparkline } from '../format.js';
import type { SeriesPoint } from '../store.js';

export interface ChartProps {
  series: readonly SeriesPoint[];
  width: number;
  /** The highest values seen: the scale of both lines. */
  peak: { count: number; bytes: number };
}

const LABEL = 16;
const VALUE = 14;

export function Chart({ series, width, peak }: ChartProps) {
  const graph = Math.max(4, width - LABEL - VALUE - 2);
  const counts = series.map((point) => ({ x: point.x, value: point.count }));
  const bytes = series.map((point) => ({ x: point.x, value: point.bytes }));
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text dimColor>{'deleted+mapped'.padEnd(LABEL)}</Text>
        <Text color="red">{sparkline(counts, graph)}</Text>
        <Text> {`peak ${formatCount(peak.count)}`.padStart(VALUE)}</Text>
      </Text>
      <Text wrap="truncate">
        <Text dimColor>{'bytes'.padEnd(LABEL)}</Text>
        <Text color="magenta">{sparkline(bytes, graph)}</Text>
        <Text> {formatBytes(peak.bytes).padStart(VALUE)}</Text>
      </Text>
    </Box>
  );
}
