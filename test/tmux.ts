// A real pseudo-terminal for end-to-end TUI tests: a private tmux server,
// one session, keys in and the screen out. Keys are sent once: a test waits
// for the screen to show their effect (polling capture-pane with a timeout),
// and never sends a key again because the screen was slow to change.
import { execFileSync, spawnSync } from 'node:child_process';

export class TmuxSession {
  private readonly socket: string;

  constructor(readonly session: string) {
    this.socket = `orphanmap-e2e-${session}-${process.pid}`;
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Run a shell command in a new detached session of the given size. */
  start(command: string, width = 120, height = 40): void {
    this.tmux('new-session', '-d', '-s', this.session, '-x', String(width), '-y', String(height), command);
  }

  /**
   * Keys in tmux's names (`j`, `Enter`, `BSpace`, `C-u`, `Escape`, `PageDown`),
   * all in one send-keys: tmux writes them to the program together, so they
   * usually reach it in one read, as fast typing over ssh does.
   */
  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  /** Text typed as is (no key names): `send-keys -l`. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session);
  }

  /**
   * Poll the screen until `predicate` holds; throws with the last screen after `timeoutMs`.
   * Every 20 ms for the first half second (a key's effect is usually drawn within a frame or two, and
   * a suite walks hundreds of rows one key at a time), then every 100 ms (a program's start, a capture).
   */
  async waitForScreen(predicate: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const start = Date.now();
    const end = start + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      last = this.screen();
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, Date.now() - start < 500 ? 20 : 100));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
