// The help screen, drawn from the keymap table: what is bound is what is shown.
import { Box, Text } from 'ink';
import { bindingLabel, KEYMAP, type Pane } from '../keymap.js';

export interface HelpScreenProps {
  width: number;
  height: number;
}

const PANE_NAMES: Readonly<Record<Pane, string>> = { table: 'list', detail: 'detail', help: 'help', filter: 'filter' };

export function HelpScreen({ width, height }: HelpScreenProps) {
  const keysWidth = Math.max(...KEYMAP.map((binding) => bindingLabel(binding).length)) + 2;
  const whereWidth = 20;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>keys</Text>
      {KEYMAP.map((binding, k) => (
        <Text key={k} wrap="truncate">
          <Text bold color="cyan">{bindingLabel(binding).padEnd(keysWidth)}</Text>
          <Text dimColor>{binding.panes.map((pane) => PANE_NAMES[pane]).join(',').padEnd(whereWidth)}</Text>
          {binding.description}
        </Text>
      ))}
      <Text dimColor wrap="truncate">{'\n'}Paths and lines from the trace are shown with control characters escaped (\x1b, \n).</Text>
    </Box>
  );
}
