// Deciding whether to draw, before ink is loaded.

/** True when both stdin and stdout are terminals: the only case the TUI draws in. */
export function hasTerminal(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/**
 * Call before importing ink. Ink decides at load time, from the CI variable,
 * to draw only the last frame at exit; with a real terminal at hand (a CI job
 * under tmux, a debug shell on a build agent) that would leave a blank screen.
 */
export function loadInkInteractively(): void {
  if (hasTerminal() && process.env.CI !== undefined) process.env.CI = 'false';
}
