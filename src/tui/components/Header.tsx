// The top three lines: where the data comes from, how far along, and the
// counters an engineer watches (deleted-but-mapped first among them). Once the
// input is read or the capture ended, that counter is what the report calls
// "still mapped at the end", in the report's words and numbers.
import { Box, Text } from 'ink';
import { HELD_WHEN_UNLINKED, STILL_MAPPED_AT_THE_END } from '../../report/finding-view.js';
import { escapeControl, formatBytes, formatCount } from '../../report/sanitize.js';
import { formatElapsed } from '../format.js';
import type { TuiSnapshot } from '../store.js';

export interface HeaderProps {
  snapshot: TuiSnapshot;
  width: number;
}

export function Header({ snapshot, width }: HeaderProps) {
  const c = snapshot.counters;
  const live = snapshot.source.kind === 'live';
  const t = snapshot.tally;
  const ended = snapshot.phase === 'done' || snapshot.phase === 'ended';
  const [nowLabel, nowCount, nowBytes] = ended ? [STILL_MAPPED_AT_THE_END, t.stillMappedAtEnd, t.stillMappedAtEndBytes] : ['deleted but mapped', c.deletedMappings, c.deletedBytes];
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color="cyan">orphanmap</Text>
        <Text>  {sourceText(snapshot)}</Text>
        <Text dimColor>  elapsed {formatElapsed(snapshot.now - snapshot.startedAt)}</Text>
        {snapshot.paused ? <Text inverse color="yellow"> PAUSED{snapshot.pendingChanges > 0 ? ` +${formatCount(snapshot.pendingChanges)} updates waiting` : ''} </Text> : null}
      </Text>
      <Text wrap="truncate">
        lines {formatCount(c.lines)}  events {formatCount(c.events)}  unreadable{' '}
        <Text color={c.unparsedLines > 0 ? 'yellow' : undefined}>{formatCount(c.unparsedLines)}</Text>
        {live ? <Text>  lost <Text color={c.lostEvents > 0 ? 'red' : undefined}>{formatCount(c.lostEvents)}</Text></Text> : null}
        {'  '}processes {formatCount(c.processes)}  live mappings {formatCount(c.liveMappings)}
      </Text>
      <Text wrap="truncate">
        {nowLabel}{' '}
        <Text bold color={nowCount > 0 ? 'red' : 'green'}>
          {formatCount(nowCount)} ({formatBytes(nowBytes)})
        </Text>
        <Text dimColor>  peak {formatCount(snapshot.peak.count)} ({formatBytes(snapshot.peak.bytes)})</Text>
        {t.orphans > 0 ? <Text>  {HELD_WHEN_UNLINKED} {formatBytes(t.heldWhenUnlinkedBytes)}</Text> : null}
        {c.mapCount !== null ? <Text>  maps {mapCountText(c.mapCount, c.maxMapCount)}</Text> : null}
        {snapshot.error !== null ? <Text color="red">  error: {escapeControl(snapshot.error)}</Text> : null}
      </Text>
    </Box>
  );
}

function sourceText(snapshot: TuiSnapshot): string {
  const source = snapshot.source;
  switch (source.kind) {
    case 'file': {
      const progress = snapshot.progress;
      const name = escapeControl(progress?.source ?? source.names.join(' '));
      if (snapshot.phase === 'done') return `${name}  read to the end`;
      const parts = [name, 'reading'];
      if (progress?.percent != null) parts.push(`${Math.floor(progress.percent)}%`);
      if (progress?.linesPerSecond != null) parts.push(`${formatCount(Math.round(progress.linesPerSecond))} lines/s`);
      return parts.join('  ');
    }
    case 'live': {
      const who = source.pid === null ? '' : `pid ${source.pid}`;
      const command = source.command === null ? '' : ` ${escapeControl(source.command)}`;
      const state = snapshot.phase === 'ended' ? '  capture ended' : '';
      return `live via ${source.backend}${state}  ${who}${command}`;
    }
  }
}

function mapCountText(count: number, max: number | null): string {
  if (max === null || max <= 0) return formatCount(count);
  return `${formatCount(count)} / ${formatCount(max)} vm.max_map_count (${((100 * count) / max).toFixed(1)}%)`;
}
