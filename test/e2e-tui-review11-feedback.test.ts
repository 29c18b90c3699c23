// What `live` says while nothing else moves on screen (review 11), in a
// real pseudo-terminal (tmux). After q's stop the UI is gone at once while
// the capture finishes the bundle: the screen said nothing of it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, shellQuote } from './tmux.js';
import { CLI, REPO, requireTool } from './tools.js';

describe('live: feedback while it waits (tmux, strace)', () => {
  let work: string;
  let term: TmuxSession | null = null;

  beforeAll(() => {
    requireTool('tmux');
    requireTool('strace');
    work = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-r11-feedback-'));
    if (!existsSync(join(REPO, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  });

  afterEach(() => {
    term?.kill();
    term = null;
  });

  it('q then s says that it is stopping the program and finishing the bundle, before what became of it', async () => {
    const bundle = join(work, 'bundle-stop');
    term = new TmuxSession('r11-stop');
    term.start(`node ${shellQuote(CLI)} live --save ${shellQuote(bundle)} -- sleep 60; echo "exited with status $?"; sleep 120`, 160, 30);
    await term.waitForScreen((text) => text.includes('live via strace') && text.includes('q quit'), 'the live TUI', 30_000);
    term.send('q');
    await term.waitForScreen((text) => text.includes('Quit? orphanmap started sleep'), 'the question');
    term.send('s');
    const screen = await term.waitForScreen((text) => text.includes('exited with status'), 'the shell after orphanmap', 30_000);
    const lines = screen.split('\n');
    const stopping = lines.findIndex((line) => /^orphanmap: stopping: ending sleep \(pid \d+\), finishing the bundle…$/.test(line));
    const stopped = lines.findIndex((line) => /^orphanmap: stopped pid \d+ \(sleep\)/.test(line));
    expect(stopping).toBeGreaterThan(0);
    expect(stopped).toBeGreaterThan(stopping);
    expect(screen).toContain('exited with status 0');
  }, 50_000);
});
