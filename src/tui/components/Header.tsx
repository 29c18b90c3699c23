// The top three lines: the state (PAUSED, ended), the elapsed time and where
// the data comes from; the counters an engineer watches; deleted-but-mapped
// first among them. Each line is built from parts with priorities (fitParts):
// a long command line is cut before PAUSED or the elapsed time could be, and a
// part that does not fit is dropped whole, never cut in the middle of a number.
// Once the input is read or the capture ended, the deleted-but-mapped counter
// is what the report calls "still mapped at the end", in the report's words.
import { Box, Text } from 'ink';
import { HELD_WHEN_UNLINKED, STILL_MAPPED_AT_THE_END } from '../../report/finding-view.js';
import { escapeControl, formatBytes, formatCount } from '../../report/sanitize.js';
import { fitParts, formatElapsed, type LinePart } from '../format.js';
import type { TuiSnapshot } from '../snapshot.js';

export interface HeaderProps {
  snapshot: TuiSnapshot;
  width: number;
}

type Tone = 'title' | 'paused' | 'ended' | 'dim' | 'alert' | 'good' | 'warn' | 'plain';

interface Part extends LinePart {
  tone: Tone;
}

const part = (text: string, priority: number, tone: Tone = 'plain', extra: Partial<LinePart> = {}): Part => ({ text, priority, tone, ...extra });

export function headerLines(snapshot: TuiSnapshot, width: number): (Part & { shown: string; gap: string })[][] {
  const c = snapshot.counters;
  const live = snapshot.source.kind === 'live';
  const t = snapshot.tally;
  const ended = snapshot.phase === 'done' || snapshot.phase === 'ended';

  const first: Part[] = [part('orphanmap', 100, 'title')];
  if (snapshot.paused) first.push(part(`PAUSED${snapshot.pendingChanges > 0 ? ` +${formatCount(snapshot.pendingChanges)} updates waiting` : ''}`, 95, 'paused', { shrink: 'end', min: 6 }));
  first.push(...sourceParts(snapshot));
  first.push(part(`elapsed ${formatElapsed(snapshot.elapsedMs)}`, 90, 'dim'));
  first.push(...originParts(snapshot));

  const second: Part[] = [];
  if (live && c.mapCount !== null) second.push(part(`maps ${mapCountText(c.mapCount, c.maxMapCount)}`, 90, mapTone(c.mapCount, c.maxMapCount)));
  second.push(part(`lines ${formatCount(c.lines)}`, 40), part(`events ${formatCount(c.events)}`, 50));
  second.push(part(`unreadable ${formatCount(c.unparsedLines)}`, 45, c.unparsedLines > 0 ? 'warn' : 'plain'));
  if (live) second.push(part(`lost ${formatCount(c.lostEvents)}`, 60, c.lostEvents > 0 ? 'alert' : 'plain'));
  second.push(part(`processes ${formatCount(c.processes)}`, 30), part(`live mappings ${formatCount(c.liveMappings)}`, 20));
  // Read with ? (the help lists them first).
  if (snapshot.warnings.length > 0) second.push(part(`warnings ${formatCount(snapshot.warnings.length)} (?)`, 85, 'warn'));

  const [nowLabel, nowCount, nowBytes] = ended ? [STILL_MAPPED_AT_THE_END, t.stillMappedAtEnd, t.stillMappedAtEndBytes] : ['deleted but mapped', c.deletedMappings, c.deletedBytes];
  // What keeps the verdict from being plain (mappings in doubt, a trace that may miss some), in the report's words: the
  // list's empty message said it, and with a finding listed nothing did (review 93, D1: a green "0" and no doubt).
  const notClear = snapshot.undecided === null ? null : `not clear: ${escapeControl(snapshot.undecided)}`;
  const third: Part[] = [part(`${nowLabel} ${formatCount(nowCount)} (${formatBytes(nowBytes)})`, 100, nowCount > 0 ? 'alert' : notClear === null ? 'good' : 'warn')];
  third.push(part(`peak ${formatCount(snapshot.peak.count)} (${formatBytes(snapshot.peak.bytes)})`, 60, 'dim'));
  if (t.orphans > 0) third.push(part(`${HELD_WHEN_UNLINKED} ${formatBytes(t.heldWhenUnlinkedBytes)}`, 50));
  if (notClear !== null) third.push(part(notClear, 88, 'warn', { shrink: 'end', min: 24 }));
  if (snapshot.error !== null) third.push(part(`error: ${escapeControl(snapshot.error)}`, 95, 'alert', { shrink: 'end', min: 12 }));
  return [first, second, third].map((line) => fitParts(line, width));
}

/** What the input is doing: reading (how far), read to the end, live, capture ended. */
function sourceParts(snapshot: TuiSnapshot): Part[] {
  const source = snapshot.source;
  switch (source.kind) {
    case 'file': {
      if (snapshot.phase === 'done') return [part('read to the end', 92)];
      const progress = snapshot.progress;
      const parts = [part('reading', 92)];
      if (progress?.percent != null) parts.push(part(`${Math.floor(progress.percent)}%`, 85));
      if (progress?.linesPerSecond != null) parts.push(part(`${formatCount(Math.round(progress.linesPerSecond))} lines/s`, 40));
      return parts;
    }
    case 'live':
      return snapshot.phase === 'ended' ? [part('capture ended', 96, 'ended')] : [part(`live via ${source.backend}`, 92)];
  }
}

/** Which file or process: last on the line, and the first thing cut. */
function originParts(snapshot: TuiSnapshot): Part[] {
  const source = snapshot.source;
  switch (source.kind) {
    case 'file': {
      const name = escapeControl(snapshot.progress?.source ?? source.names.join(' '));
      return [part(name, 70, 'plain', { shrink: 'middle', min: 12 })];
    }
    case 'live': {
      const parts: Part[] = [];
      if (source.pid !== null) parts.push(part(`pid ${source.pid}`, 80));
      if (source.command !== null) parts.push(part(escapeControl(source.command), 10, 'dim', { shrink: 'end', min: 8 }));
      return parts;
    }
  }
}

/** "60 / 65,530 vm.max_map_count (0.1%)", shortened to what fits by fitParts' caller. */
function mapCountText(count: number, max: number | null): string {
  if (max === null || max <= 0) return formatCount(count);
  return `${formatCount(count)} / ${formatCount(max)} (${((100 * count) / max).toFixed(1)}% of vm.max_map_count)`;
}

function mapTone(count: number, max: number | null): Tone {
  if (max === null || max <= 0) return 'plain';
  return count / max >= 0.8 ? 'alert' : count / max >= 0.5 ? 'warn' : 'plain';
}

export function Header({ snapshot, width }: HeaderProps) {
  const lines = headerLines(snapshot, width);
  return (
    <Box flexDirection="column" width={width}>
      {lines.map((parts, k) => (
        <Text key={k} wrap="truncate">
          {parts.map((item, j) => (
            <Text key={j}>
              {item.gap}
              <PartText tone={item.tone} text={item.shown} />
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}

function PartText({ tone, text }: { tone: Tone; text: string }) {
  switch (tone) {
    case 'title':
      return (
        <Text bold color="cyan">
          {text}
        </Text>
      );
    case 'paused':
      return (
        <Text inverse bold color="yellow">
          {text}
        </Text>
      );
    case 'ended':
      return (
        <Text inverse color="magenta">
          {text}
        </Text>
      );
    case 'dim':
      return <Text dimColor>{text}</Text>;
    case 'alert':
      return (
        <Text bold color="red">
          {text}
        </Text>
      );
    case 'good':
      return (
        <Text bold color="green">
          {text}
        </Text>
      );
    case 'warn':
      return <Text color="yellow">{text}</Text>;
    case 'plain':
      return <Text>{text}</Text>;
  }
}
