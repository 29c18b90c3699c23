// The bottom of the screen: the focused pane's keys from the keymap, a status
// message (where an export was saved, a finding's full path), the line being
// edited, or the question `q` asks in `live -- CMD`.
import { Box, Text } from 'ink';
import { endWithin, startWithin, textWidth } from '../columns.js';
import { shownText, wrapRows, wrapWords } from '../format.js';
import { bindingsFor, keyLabel, KEYMAP, type Binding, type Pane } from '../keymap.js';

export interface HintBarProps {
  pane: Pane;
  width: number;
}

export function hintsFor(pane: Pane): { keys: string; hint: string }[] {
  const out: { keys: string; hint: string }[] = [];
  for (const binding of bindingsFor(pane)) {
    if (binding.hint === undefined) continue;
    const keys = shortKey(binding);
    const same = out.find((item) => item.hint === binding.hint);
    if (same !== undefined) same.keys = `${same.keys}/${keys}`;
    else out.push({ keys, hint: binding.hint });
  }
  return out;
}

/** The key a user types most easily: a letter over an arrow, Enter over nothing. */
function shortKey(binding: Binding): string {
  const char = binding.keys.find((spec) => spec.type === 'char' && spec.char !== ' ');
  return keyLabel(char ?? binding.keys[0]!);
}

/** As many hints as fit whole: `? help` and `q quit` are kept at the end whatever the width. */
export function HintBar({ pane, width }: HintBarProps) {
  const all = hintsFor(pane);
  const last = all.filter((item) => item.hint === 'help' || item.hint === 'quit');
  const first = all.filter((item) => !last.includes(item));
  const length = (items: typeof all) => items.reduce((sum, item, k) => sum + (k > 0 ? 1 : 0) + item.keys.length + 1 + item.hint.length, 0);
  while (first.length > 0 && length([...first, ...last]) > width) first.pop();
  return (
    <Text wrap="truncate">
      {[...first, ...last].map((item, k) => (
        <Text key={k}>
          {k > 0 ? ' ' : ''}
          <Text bold color="cyan">
            {item.keys}
          </Text>
          <Text dimColor> {item.hint}</Text>
        </Text>
      ))}
    </Text>
  );
}

const EDITOR_KEYS = '  Enter keep  Esc cancel  Ctrl-U/Ctrl-W delete';

/** The line being edited: as much of its end as fits, then the keys when there is room for them. */
export function EditorBar({ label, text, width }: { label: string; text: string; width: number }) {
  const shown = shownText(text);
  const room = Math.max(4, width - textWidth(label) - 1);
  const tail = textWidth(shown) > room ? `…${endWithin(shown, room - 1).text}` : shown;
  const keys = textWidth(label) + textWidth(tail) + 1 + EDITOR_KEYS.length <= width ? EDITOR_KEYS : '';
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">
        {label}
      </Text>
      {tail}
      <Text inverse> </Text>
      <Text dimColor>{keys}</Text>
    </Text>
  );
}

/** Status rows: a long message (a full path) wraps over up to `maxRows` rows. */
export function statusRows(text: string, width: number, maxRows = 4): string[] {
  const rows = wrapRows(shownText(text), Math.max(1, width));
  return rows.length <= maxRows ? rows : [...rows.slice(0, maxRows - 1), `${startWithin(rows[maxRows - 1]!, width - 1).text}…`];
}

export function StatusLine({ text, tone, width }: { text: string; tone: 'ok' | 'error' | 'info'; width: number }) {
  return (
    <Box flexDirection="column" width={width}>
      {statusRows(text, width).map((row, k) => (
        <Text key={k} wrap="truncate" color={tone === 'ok' ? 'green' : tone === 'error' ? 'red' : 'yellow'}>
          {row}
        </Text>
      ))}
    </Box>
  );
}

/** The question `q` asks when orphanmap launched the program: its rows, drawn from the keymap. */
export function quitRows(program: string, detach: { ok: true } | { ok: false; why: string }): { keys: string; text: string; off: boolean }[] {
  const rows = [{ keys: '', text: `Quit? orphanmap started ${program}: what becomes of it?`, off: false }];
  for (const binding of KEYMAP) {
    if (!binding.panes.includes('quit')) continue;
    const off = binding.action.type === 'quit-detach' && !detach.ok;
    const text = off && !detach.ok ? `detach is not offered: ${detach.why}` : binding.description;
    rows.push({ keys: binding.keys.map(keyLabel).join('/'), text, off });
  }
  return rows;
}

/** A row of the question on screen: a choice's key (on the first row of its description), and its text. */
export interface QuitLine {
  key: string;
  keys: string;
  text: string;
  off: boolean;
  title: boolean;
}

/**
 * The question's screen rows at a width: each description wrapped beside its
 * key. Where `maxRows` cannot hold them all (a small terminal), one row per
 * choice, key first, its description cut at the edge: squeezed any further,
 * the rows with the keys were the ones that went, leaving descriptions without
 * the key that chooses them.
 */
export function quitLines(program: string, detach: { ok: true } | { ok: false; why: string }, width: number, maxRows = Infinity): QuitLine[] {
  const rows = quitRows(program, detach);
  const wrapped = rows.map((row, k) => (k === 0 ? [row.text] : wrapWords(row.text, Math.max(10, width - 10))));
  const compact = wrapped.reduce((sum, parts) => sum + parts.length, 0) > maxRows;
  const keyWidth = compact ? Math.max(...rows.map((row) => row.keys.length)) : 8;
  return rows.flatMap((row, k) => (compact ? [row.text] : wrapped[k]!).map((text, j) => ({ key: `${k}:${j}`, keys: (j === 0 ? row.keys : '').padEnd(keyWidth), text, off: row.off, title: k === 0 })));
}

/** The question, in the rows the layout gave it (`rows`: quitHeight's answer for the same room). */
export function QuitQuestion({ program, detach, width, rows }: { program: string; detach: { ok: true } | { ok: false; why: string }; width: number; rows?: number }) {
  return (
    <Box flexDirection="column" width={width}>
      {quitLines(program, detach, width, rows).map((line) =>
        line.title ? (
          <Text key={line.key} wrap="truncate" bold color="yellow">
            {line.text}
          </Text>
        ) : (
          <Text key={line.key} wrap="truncate" dimColor={line.off}>
            <Text bold color={line.off ? undefined : 'cyan'}>
              {line.keys}
            </Text>
            {'  '}
            {line.text}
          </Text>
        ),
      )}
    </Box>
  );
}

/** Rows the question takes at a width, with at most `maxRows` for it (one row per choice when its wrapped descriptions do not fit). */
export function quitHeight(program: string, detach: { ok: true } | { ok: false; why: string }, width: number, maxRows = Infinity): number {
  return quitLines(program, detach, width, maxRows).length;
}
