// React hooks that connect views to the store and to the terminal's input.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useStdin, useStdout } from 'ink';
import { KeyReader, type Key } from './keys.js';
import type { TuiSnapshot } from './snapshot.js';
import type { TuiStore } from './store.js';

export function useSnapshot(store: TuiStore): TuiSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** How long a lone ESC waits for the rest of a sequence before it is the Esc key. */
export const ESCAPE_WAIT_MS = 40;

/**
 * Every key the terminal sends, in order, as lists (one per read). Ink reads
 * stdin (its 'readable' handler calls read()); each read also emits 'data',
 * which is where the raw chunk is taken from and split into keys here (keys.ts),
 * so a read holding "timex\x7f\x7f" is seven keys, not one string.
 */
export function useKeys(onKeys: (keys: Key[]) => void): void {
  const { stdin, setRawMode, isRawModeSupported } = useStdin();
  const handler = useRef(onKeys);
  handler.current = onKeys;
  useEffect(() => {
    if (isRawModeSupported) setRawMode(true);
    const reader = new KeyReader();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const deliver = (keys: Key[]) => {
      if (keys.length > 0) handler.current(keys);
    };
    const onData = (chunk: string | Buffer) => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      deliver(reader.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
      if (reader.hasPending) {
        timer = setTimeout(() => {
          timer = null;
          deliver(reader.flush());
        }, ESCAPE_WAIT_MS);
      }
    };
    stdin.on('data', onData);
    return () => {
      if (timer !== null) clearTimeout(timer);
      stdin.off('data', onData);
      if (isRawModeSupported) setRawMode(false);
    };
  }, [stdin, setRawMode, isRawModeSupported]);
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

function terminalSize(stdout: NodeJS.WriteStream): TerminalSize {
  return { columns: stdout.columns || 80, rows: stdout.rows || 24 };
}

/** The terminal's size, following resizes; 80x24 when it is not a terminal. */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => terminalSize(stdout));
  useEffect(() => {
    const onResize = () => setSize(terminalSize(stdout));
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
