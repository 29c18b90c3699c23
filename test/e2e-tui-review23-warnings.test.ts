// Review 23 (attack), F7: the TUI drew no warning at all, and over a bundle
// whose verdict is undecided (its capture did not finish) it said "no mapping
// outlived its file", where the text report says why it cannot; and
// `analyze --tui --fail-on error` exited 0 with an error finding on screen.
// Now the header counts the warnings, `?` lists them first, the empty list
// says what the report's headline says, and --fail-on decides on what the
// screen showed once the TUI closes.
//
// In a real terminal (tmux). The bundles: traces/launched-late-snapshot's
// real capture cut before its leak as a full disk cuts it (as
// input-review22-unfinished), and traces/f-o-ttt-T-y's trace, whose errors
// its ground truth (/proc during the run) lists.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { REPO, runCli } from './support/tools.js';
import { shellQuote, TmuxSession } from './tmux.js';
import { requireTool } from './tools.js';

let term: TmuxSession | null = null;
beforeAll(() => requireTool('tmux'));
afterEach(() => {
  term?.kill();
  term = null;
});

/** `analyze INPUT --tui ARGS…` in tmux, its exit status printed once it ends. */
function startTui(name: string, input: string, args: string[]): TmuxSession {
  const session = new TmuxSession(name);
  const command = ['node', join(REPO, 'dist/cli.js'), 'analyze', input, '--tui', ...args].map(shellQuote).join(' ');
  session.start(`${command}; echo "exited with status $?"; sleep 120`, 160, 40);
  return session;
}

describe('analyze --tui: warnings, an undecided verdict, --fail-on', () => {
  it('an unfinished bundle: the header counts the warnings, ? lists them, and the list says the verdict is not clear', async () => {
    const whole = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
    const cut = join(workspace('tui-unfinished'), 'bundle');
    cpSync(whole, cut, { recursive: true });
    const lines = readFileSync(join(whole, 'trace.txt'), 'utf8').split('\n');
    writeFileSync(join(cut, 'trace.txt'), `${lines.slice(0, 80).join('\n')}\n`);
    const meta = JSON.parse(readFileSync(join(whole, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(cut, 'meta.json'), `${JSON.stringify({ ...meta, exitReason: 'disk-full', complete: false }, null, 2)}\n`);
    // What the text report says, the screen must say too.
    const report = JSON.parse(runCli(['analyze', cut, '--format', 'json']).stdout) as { warnings: string[] };
    expect(report.warnings).toHaveLength(1);

    term = startTui('tuiundecided', cut, []);
    const screen = await term.waitForScreen((text) => text.includes('read to the end') && text.includes('? help'), 'the bundle to be read', 60_000);
    expect(screen).toContain('warnings 1 (?)');
    expect(screen).toContain('no mapping was seen to outlive its file, but the trace may miss some: the capture did not finish');
    expect(screen).not.toContain('no mapping outlived its file');

    term.send('?');
    const help = await term.waitForScreen((text) => text.includes('warnings (1): what the trace could not show'), 'the help with the warnings');
    // The warning's own words, its start at least (it wraps at the width).
    expect(help.replace(/\s+/g, ' ')).toContain(`- ${cut}: the capture did not finish this bundle`);
    // ? again closes the help (Escape followed at once by q could read as Alt-q).
    term.send('?');
    await term.waitForScreen((text) => !text.includes('warnings (1): what the trace could not show') && text.includes('? help'), 'the help to close');
    term.send('q');
    await term.waitForScreen((text) => text.includes('exited with status 0'), 'the TUI to quit');
  }, 120_000);

  it('--fail-on error with errors on screen: exit 3 once the TUI closes, as without --tui', async () => {
    const trace = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
    expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(3);
    term = startTui('tuifailon', trace, ['--fail-on', 'error']);
    await term.waitForScreen((text) => text.includes('read to the end') && text.includes('(8 error, 8 warning, 1 benign)'), 'the trace to be read', 60_000);
    term.send('q');
    await term.waitForScreen((text) => text.includes('exited with status 3'), 'the TUI to quit');
  }, 120_000);
});
