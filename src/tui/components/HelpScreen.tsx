// The help screen, drawn from the keymap table: what is bound is what is
// shown. Descriptions wrap to the width (never cut, never drawn over one
// another) and the whole help scrolls with the same keys as the list.
import { Box, Text } from 'ink';
import { bindingLabel, KEYMAP, PANE_NAMES, type Pane } from '../keymap.js';
import { SORT_KEYS, SORT_WORDS } from '../snapshot.js';
import { escapeControl, formatCount } from '../../report/sanitize.js';
import { wrapWords } from '../format.js';

export interface HelpScreenProps {
  width: number;
  height: number;
  /** First line shown. */
  scroll: number;
  /** What `q` does in this session, in words (live -- CMD asks; live --pid detaches; a file just quits). */
  quitNote: string;
  /** The analysis's warnings: read here, first (review 23: the TUI drew none). */
  warnings: readonly string[];
}

export interface HelpLine {
  keys: string;
  text: string;
  kind: 'binding' | 'heading' | 'note' | 'warning';
}

const SECTIONS: readonly { title: string; panes: readonly Pane[] }[] = [
  { title: 'the list and the detail', panes: ['table', 'detail', 'help'] },
  { title: 'typing a filter or a directory', panes: ['filter', 'export-dir'] },
  { title: 'quitting a live capture of a command (q asks)', panes: ['quit'] },
];

/** Every line of the help at this width, before scrolling: the warnings first, if any. */
export function helpLines(width: number, quitNote: string, warnings: readonly string[] = []): HelpLine[] {
  const keysWidth = Math.min(18, Math.max(...KEYMAP.map((binding) => bindingLabel(binding).length)) + 2);
  const textWidth = Math.max(20, width - keysWidth);
  const lines: HelpLine[] = [];
  if (warnings.length > 0) {
    lines.push({ keys: '', text: `warnings (${formatCount(warnings.length)}): what the trace could not show, and what was assumed`, kind: 'heading' });
    // Paths from the trace, escaped as everywhere else on the screen.
    for (const warning of warnings) {
      // Wrapped two columns short of the width, then each row indented by "- " or "  ": a row wrapped to the whole width
      // and indented after lost its last two characters to the truncation (review 93, D3: "pass --p… PID").
      const rows = wrapWords(escapeControl(warning), Math.max(1, width - 2));
      for (let k = 0; k < rows.length; k++) lines.push({ keys: '', text: `${k === 0 ? '- ' : '  '}${rows[k]}`, kind: 'warning' });
    }
  }
  const seen = new Set<(typeof KEYMAP)[number]>();
  for (const section of SECTIONS) {
    lines.push({ keys: '', text: section.title, kind: 'heading' });
    for (const binding of KEYMAP) {
      if (seen.has(binding) || !binding.panes.some((pane) => section.panes.includes(pane))) continue;
      seen.add(binding);
      const where = binding.panes.length >= 3 || section.panes.length === 1 ? '' : ` (${binding.panes.map((pane) => PANE_NAMES[pane]).join(', ')})`;
      const label = bindingLabel(binding);
      const text = wrapWords(`${binding.description}${where}`, label.length + 1 > keysWidth ? width : textWidth);
      if (label.length + 1 > keysWidth) {
        lines.push({ keys: label, text: '', kind: 'binding' });
        for (const row of text) lines.push({ keys: '', text: row, kind: 'binding' });
      } else {
        text.forEach((row, k) => {
          lines.push({ keys: k === 0 ? label : '', text: row, kind: 'binding' });
        });
      }
    }
  }
  const notes = [
    `q here: ${quitNote}`,
    `Sort orders (o): ${SORT_KEYS.map((key) => SORT_WORDS[key]).join('; ')}. The sorted column carries ▼, or ▲ when reversed (r).`,
    'Paths in the list are shortened from the left: what tells two files apart (a partition directory, a base offset) is kept longest; y shows the whole path.',
    'Exports (e) go to new files in the export directory (E chooses it); nothing is ever overwritten.',
    'The chart spans the whole trace read so far (live: the whole session), from its start on the left to now on the right.',
    'Paths and lines from the trace are shown with control characters escaped (\\x1b, \\n).',
  ];
  lines.push({ keys: '', text: 'notes', kind: 'heading' });
  for (const note of notes) for (const row of wrapWords(note, width)) lines.push({ keys: '', text: row, kind: 'note' });
  return lines.map((line) => ({ ...line, keys: line.keys === '' && line.kind !== 'binding' ? '' : line.keys.padEnd(line.text === '' ? 0 : keysWidth) }));
}

export function HelpScreen({ width, height, scroll, quitNote, warnings }: HelpScreenProps) {
  const lines = helpLines(width, quitNote, warnings);
  const room = Math.max(1, height - 1);
  const top = Math.max(0, Math.min(scroll, lines.length - room));
  const shown = lines.slice(top, top + room);
  const more = lines.length > room ? `, lines ${top + 1}-${top + shown.length} of ${lines.length} (j/k, PgUp/PgDn, g/G)` : '';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">{`keys${more}; Esc or ? closes`}</Text>
      {shown.map((line, k) => (
        <Text key={k} wrap="truncate">
          {line.kind === 'heading' ? (
            <Text bold underline>
              {line.text}
            </Text>
          ) : null}
          {line.kind === 'binding' ? (
            <Text bold color="cyan">
              {line.keys}
            </Text>
          ) : null}
          {line.kind === 'binding' ? <Text>{line.text}</Text> : null}
          {line.kind === 'note' ? <Text dimColor>{line.text}</Text> : null}
          {line.kind === 'warning' ? <Text color="yellow">{line.text}</Text> : null}
        </Text>
      ))}
    </Box>
  );
}

/** A help line as the screen shows it (without its colours). */
export function helpText(line: HelpLine): string {
  return line.kind === 'binding' ? `${line.keys}${line.text}` : line.text;
}

/** Help rows and the rows on screen at a height, for scrolling. */
export function helpGeometry(width: number, height: number, quitNote: string, warnings: readonly string[] = []): { lines: number; room: number } {
  return { lines: helpLines(width, quitNote, warnings).length, room: Math.max(1, height - 1) };
}
