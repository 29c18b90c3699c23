// A real pseudo-terminal for end-to-end TUI tests: a private tmux server,
// one session, keys in and the screen out.
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

  send(key: string): void {
    this.tmux('send-keys', '-t', this.session, key);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session);
  }

  async waitForScreen(predicate: (text: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      last = this.screen();
      if (predicate(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
  }

  /**
   * Send a key and wait for its effect. On a loaded machine a key is now and
   * then not seen by the app (about one run in four while other test files
   * run beside it; never in 15 quiet cycles): press once more, and say so.
   */
  async pressUntil(key: string, predicate: (text: string) => boolean, what: string, attempts = 3): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      this.send(key);
      try {
        return await this.waitForScreen(predicate, what, attempt < attempts ? 5_000 : 20_000);
      } catch (error) {
        if (attempt >= attempts) throw error;
        console.warn(`tmux ${this.session}: ${key} had no effect after 5 s (attempt ${attempt}); pressing it again`);
      }
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
