// A hostile trace's names, hundreds of thousands of graphemes each, in the TUI
// (review 19's safety review, F5). Every frame measured each name it drew
// grapheme by grapheme, for every row: five such names held `analyze --tui`
// for minutes, and neither q nor Ctrl-C ended it. The screen now draws at
// most MAX_SHOWN_UNITS of a name (its head and tail); reports keep it whole.
// A real terminal (tmux); the trace is made here, in strace's own format.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { MAX_SHOWN_UNITS } from '../src/tui/format.js';
import { runCli } from './support/tools.js';
import { shellQuote, TmuxSession } from './tmux.js';
import { requireTool } from './tools.js';

const ROOT = new URL('..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-tui-long-names-'));
const TRACE = join(scratch, 'trace.txt');
/** Each name: 120 times 1,000 e + U+0301 and 500 U+4E00 (two columns each), then its number: 300,000 graphemes. */
const STEM = `/d/${`${'e\u0301'.repeat(1000)}${'\u4e00'.repeat(500)}`.repeat(120)}`;

let term: TmuxSession | null = null;

beforeAll(() => {
  requireTool('tmux');
  const lines: string[] = [];
  let seconds = 1_700_000_000;
  for (let i = 0; i < 5; i++) {
    const path = `${STEM}${i}`;
    for (const call of [
      `openat(AT_FDCWD, "${path}", O_RDWR|O_CREAT, 0644) = 3`,
      `mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f000${i}000`,
      'close(3) = 0',
      `unlink("${path}") = 0`,
    ]) {
      seconds += 0.01;
      lines.push(`4242 ${seconds.toFixed(6)} ${call}`);
    }
  }
  writeFileSync(TRACE, `${lines.join('\n')}\n`);
});
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('lists the findings of names of 300,000 graphemes, shows one, and quits on q', async () => {
  // The precondition: the report keeps each whole name.
  const report = JSON.parse(runCli(['analyze', TRACE, '--format', 'json']).stdout) as { findings: { path: string }[] };
  expect(report.findings.map((finding) => finding.path)).toEqual([0, 1, 2, 3, 4].map((i) => `${STEM}${i}`));
  expect(STEM.length).toBeGreaterThan(100 * MAX_SHOWN_UNITS);
  term = new TmuxSession('longnames');
  const command = ['node', join(ROOT, 'dist/cli.js'), 'analyze', TRACE, '--tui'].map(shellQuote).join(' ');
  term.start(`${command}; echo "exited with status $?"; sleep 120`, 120, 40);
  await term.waitForScreen((text) => text.includes('read to the end') && text.includes('findings 5 (5 error'), 'the five findings listed', 60_000);
  term.send('Enter');
  await term.waitForScreen((text) => text.includes('file      /d/'), "the first finding's detail");
  term.send('q');
  const screen = await term.waitForScreen((text) => text.includes('exited with status'), 'the TUI to quit');
  expect(screen).toContain('exited with status 0');
}, 120_000);
