// React hooks that connect views to the store and the keymap.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useInput, useStdout, type Key } from 'ink';
import type { TuiSnapshot, TuiStore } from './store.js';

export function useSnapshot(store: TuiStore): TuiSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

export type KeyPress = Key;

/**
 * Keys for one pane: only the focused pane's listener is active, so a key
 * is handled once, by the pane that has the keyboard.
 */
export function usePaneKeys(focused: boolean, onKey: (input: string, key: KeyPress) => void): void {
  useInput(onKey, { isActive: focused });
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The terminal's size, following resizes; 80x24 when it is not a terminal. */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
