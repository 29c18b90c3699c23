// The TUI in a real pseudo-terminal: tmux runs the built CLI (or, until the
// CLI has --tui, a two-line script calling runAnalyzeTui), keys go in with
// send-keys, and the screen comes back with capture-pane.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { readStrace } from './helpers.js';
import { TmuxSession, shellQuote } from './tmux.js';
import { requireTool } from './tools.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TRACE = join(ROOT, 'traces/f-o-ttt-T-y/trace.txt');
const term = new TmuxSession('analyze');

/** The command that opens the TUI on a trace. */
function tuiCommand(trace: string): string[] {
  return ['node', join(ROOT, 'dist/cli.js'), 'analyze', trace, '--tui'];
}

/** What the engine says about the trace: the first real orphan in id order, and its row. */
function expectedOrphan() {
  const { events } = readStrace(readFileSync(TRACE, 'utf8'), TRACE);
  const engine = new Engine();
  for (const event of events) engine.apply(event);
  engine.finish();
  const findings = engine.findings();
  const index = findings.findIndex((f) => f.kind === 'unlinked-while-mapped' && f.severity === 'error');
  return { finding: findings[index]!, index };
}

describe('TUI in a real terminal (tmux)', () => {
  beforeAll(() => {
    requireTool('tmux');
    if (!existsSync(join(ROOT, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  afterAll(() => {
    term.kill();
  });

  it('navigates to an orphaned mapping and shows its path, address and unlink line', async () => {
    const { finding, index } = expectedOrphan();
    const command = tuiCommand(TRACE).map(shellQuote).join(' ');
    term.start(`cd ${shellQuote(ROOT)} && ${command}; echo "exited with status $?"; sleep 60`);
    await term.waitForScreen((text) => text.includes('read to the end') && text.includes('findings 17'), 'the trace to be read');
    for (let k = 0; k < index; k++) term.send('j');
    await term.waitForScreen((text) => (text.split('\n').find((line) => line.startsWith('› ')) ?? '').includes(finding.address), `the selection on ${finding.id}`);
    const detail = await term.pressUntil('Enter', (text) => text.includes('timeline of the file'), 'the detail pane');
    expect(detail).toContain(`file      ${finding.path}`);
    expect(detail).toContain(`mapping   ${finding.address}-`);
    expect(detail).toContain(`unlinked  ${TRACE}:${finding.unlinkedAt!.line}`);
    const unlinkRow = detail.split('\n').find((line) => line.startsWith('unlink▶'));
    expect(unlinkRow).toMatch(new RegExp(`\\s${finding.unlinkedAt!.line} unlink\\(`));
    // Esc closes the detail (ink waits a moment to tell a lone Esc from a sequence).
    await term.pressUntil('Escape', (text) => !text.includes('timeline of the file') && text.includes('SEV KIND'), 'Esc to close the detail');
    term.send('q');
    const after = await term.waitForScreen((text) => text.includes('exited with status'), 'the TUI to quit');
    expect(after).toContain('exited with status 0');
    // The alternate screen is gone: the shell's screen is back, without the table.
    expect(after).not.toContain('timeline of the file');
  });

  it('draws nothing without a terminal and tells the caller to print text', () => {
    const command = tuiCommand(TRACE);
    const result = spawnSync(command[0]!, command.slice(1), { cwd: ROOT, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('\u001b[?1049h');
    expect(result.stdout).toMatch(/^orphanmap: 8 mappings outlived their files/);
  });
});
