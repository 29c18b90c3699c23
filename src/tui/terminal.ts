// Deciding whether to draw, and preparing the environment, before ink is loaded.

/** True when both stdin and stdout are terminals: the only case the TUI draws in. */
export function hasTerminal(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true;
}

/**
 * Call before importing ink (and so React).
 *
 * React picks its build when it is first loaded, from NODE_ENV. Unset, that is
 * the development build, which in React 19 records a performance.measure()
 * entry with a diff of the props for every component render: with 10,000
 * findings the TUI then held gigabytes and took seconds a key. The TUI always
 * runs the production build.
 *
 * Ink decides at load time, from the CI variable, to draw only the last frame
 * at exit; with a real terminal at hand (a CI job under tmux, a debug shell on
 * a build agent) that would leave a blank screen.
 */
export function loadInkInteractively(): void {
  process.env.NODE_ENV = 'production';
  if (hasTerminal() && process.env.CI !== undefined) process.env.CI = 'false';
}
