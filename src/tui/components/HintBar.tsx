// The bottom line: the focused pane's keys from the keymap, a status message
// (e.g. where an export was saved), or the filter being typed.
import { Text } from 'ink';
import { escapeControl } from '../../report/sanitize.js';
import { bindingsFor, keyLabel, type Binding, type Pane } from '../keymap.js';

export interface HintBarProps {
  pane: Pane;
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

export function HintBar({ pane }: HintBarProps) {
  return (
    <Text wrap="truncate">
      {hintsFor(pane).map((item, k) => (
        <Text key={k}>
          {k > 0 ? ' ' : ''}
          <Text bold color="cyan">{item.keys}</Text>
          <Text dimColor> {item.hint}</Text>
        </Text>
      ))}
    </Text>
  );
}

export function FilterBar({ text }: { text: string }) {
  return (
    <Text wrap="truncate">
      <Text bold color="cyan">filter (path text or pid): </Text>
      {escapeControl(text)}
      <Text inverse> </Text>
      <Text dimColor>  Enter keep  Esc clear</Text>
    </Text>
  );
}

export function StatusLine({ text, tone }: { text: string; tone: 'ok' | 'error' }) {
  return (
    <Text wrap="truncate" color={tone === 'ok' ? 'green' : 'red'}>
      {escapeControl(text)}
    </Text>
  );
}
