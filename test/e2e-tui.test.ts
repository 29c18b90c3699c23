// The TUI in a real pseudo-terminal: tmux runs the built CLI on the bundled
// traces at 80x24, 60x15 and 200x60; keys go in with send-keys, each once
// (several in one send-keys where a burst is the point), and the screen comes
// back with capture-pane, polled until it shows the key's effect.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { escapeControl } from '../src/report/sanitize.js';
import { helpLines, helpText } from '../src/tui/components/HelpScreen.js';
import { KEYMAP, bindingLabel } from '../src/tui/keymap.js';
import { TmuxSession, shellQuote } from './tmux.js';
import { requireTool } from './tools.js';
import { bundledInputs, storeFromInputs, storeFromTrace } from './tui-fixture.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TRACE = join(ROOT, 'traces/f-o-ttt-T-y/trace.txt');
const SIZES = [
  [80, 24],
  [60, 15],
  [200, 60],
] as const;

/** Every session a test started, killed after it. */
let sessions: TmuxSession[] = [];

/** Starts the TUI on `inputs` in a terminal of this size. */
function startTui(inputs: string[], width: number, height: number, name: string): TmuxSession {
  const term = new TmuxSession(name);
  sessions.push(term);
  const command = ['node', join(ROOT, 'dist/cli.js'), 'analyze', ...inputs, '--tui'].map(shellQuote).join(' ');
  term.start(`cd ${shellQuote(ROOT)} && ${command}; echo "exited with status $?"; sleep 120`, width, height);
  return term;
}

/** Opens the TUI on `inputs` in a terminal of this size and waits for the end of the reading. */
async function open(inputs: string[], width: number, height: number, name: string): Promise<TmuxSession> {
  const term = startTui(inputs, width, height, name);
  // Node's start and the read take seconds on a loaded machine.
  await term.waitForScreen((text) => text.includes('read to the end') && text.includes('? help'), 'the trace to be read', 60_000);
  return term;
}

const lines = (screen: string) => screen.split('\n');
const titleOf = (screen: string) => lines(screen).find((line) => line.startsWith('findings ')) ?? '';
const selectedRow = (screen: string) => lines(screen).find((line) => line.startsWith('› ')) ?? '';
const ROW = /^[› ] (ERR|WRN|BEN) +(?:(?:unlink|remap) +)?(\S+)\s+(?:0x[0-9a-f]+\s+)?\d+(?:\.\d)? (?:[KMGTPE]iB|B) /;

/** The PATH cell of a table row. */
function pathCell(row: string): string {
  const match = ROW.exec(row);
  if (match === null) throw new Error(`not a table row: ${row}`);
  return match[2]!;
}

afterEach(() => {
  for (const term of sessions) term.kill();
  sessions = [];
});

beforeAll(() => {
  requireTool('tmux');
  if (!existsSync(join(ROOT, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
});

describe('TUI in a real terminal (tmux), bundled JVM trace', () => {
  for (const [width, height] of SIZES) {
    describe(`at ${width}x${height}`, () => {
      it('walks every row with j, one key at a time: each path label fits and tells its file apart', async () => {
        const { store } = storeFromTrace(TRACE);
        const rows = store.getSnapshot().rows;
        const t = await open([TRACE], width, height, `walk${width}`);
        const labels = new Map<string, string>();
        for (let k = 0; k < rows.length; k++) {
          if (k > 0) t.send('j');
          // The title and the selected row both drawn (capture-pane can catch a frame half written).
          const screen = await t.waitForScreen(
            (text) => titleOf(text).includes(`row ${k + 1} of 17`) && ROW.test(selectedRow(text)) && lines(text).filter((line) => ROW.test(line)).length >= Math.min(17, height - 12),
            `row ${k + 1}`,
          );
          for (const line of lines(screen)) expect(line.length, line).toBeLessThanOrEqual(width);
          const label = pathCell(selectedRow(screen));
          const path = escapeControl(rows[k]!.path);
          const other = labels.get(label);
          expect(other === undefined || other === path, `"${label}" shows both ${other} and ${path}`).toBe(true);
          labels.set(label, path);
        }
        expect(new Set(labels.values()).size).toBe(new Set(rows.map((row) => row.path)).size);
      });

      it('edits the filter with Backspace, Ctrl-U and Ctrl-W sent in one burst with the text', async () => {
        const t = await open([TRACE], width, height, `filter${width}`);
        t.send('/');
        await t.waitForScreen((text) => text.includes('filter (path text or pid):'), 'the filter line');
        // `tmux send-keys "timex" BSpace BSpace`, as the issue saw it.
        t.send('timex', 'BSpace', 'BSpace');
        let screen = await t.waitForScreen((text) => /filter \(path text or pid\): tim(\s|$)/m.test(text) && titleOf(text).startsWith('findings 8 of 17'), 'the filter "tim"');
        expect(screen).not.toContain('\\x7f');
        t.send('C-u', 'hsperf');
        await t.waitForScreen((text) => /filter \(path text or pid\): hsperf(\s|$)/m.test(text) && titleOf(text).startsWith('findings 1 of 17'), 'Ctrl-U, then "hsperf"');
        t.send('C-w', 'topic-0/x', 'C-w', 'Enter');
        screen = await t.waitForScreen((text) => titleOf(text).includes('filter "topic-0/"') && titleOf(text).startsWith('findings 8 of 17'), 'Ctrl-W, then Enter');
        expect(screen).not.toContain('filter (path text or pid)');
        t.send('Escape');
        await t.waitForScreen((text) => titleOf(text).startsWith('findings 17 ') && !titleOf(text).includes('filter'), 'Esc clearing the filter');
      });

      it('handles every key of a burst: four j, then six k in the detail', async () => {
        const t = await open([TRACE], width, height, `burst${width}`);
        t.send('j', 'j', 'j', 'j');
        await t.waitForScreen((text) => titleOf(text).includes('row 5 of 17'), 'four rows down');
        t.send('Enter');
        const detail = await t.waitForScreen((text) => text.includes('timeline of the file'), 'the detail');
        // The detail keeps its title however small the terminal.
        expect(detail).toMatch(/^F\d+ {2}(unlinked-while-mapped|remapped-without-unmap) {2}(ERROR|WARNING|BENIGN) {2}pid \d+/m);
        const range = /rows (\d+)-(\d+) of (\d+)/.exec(detail);
        if (range === null) {
          // A terminal tall enough for the whole timeline: nothing to scroll.
          expect(height).toBeGreaterThanOrEqual(40);
        } else {
          t.send('G');
          const end = await t.waitForScreen((text) => /rows \d+-(\d+) of \1\b/.test(text), 'G: the end of the timeline');
          const bottom = Number(/rows (\d+)-/.exec(end)![1]);
          t.send('k', 'k', 'k', 'k', 'k', 'k');
          await t.waitForScreen((text) => text.includes(`rows ${Math.max(1, bottom - 6)}-`), 'six rows up, every k of the burst');
          t.send('g');
          await t.waitForScreen((text) => text.includes('rows 1-'), 'g: the top of the timeline');
        }
        t.send('Escape');
        await t.waitForScreen((text) => text.includes('SEV▼'), 'the list again');
        t.send('q');
        const after = await t.waitForScreen((text) => text.includes('exited with status'), 'the TUI to quit');
        expect(after).toContain('exited with status 0');
      });

      it('scrolls the help: every line readable, every binding shown, no line drawn over another', async () => {
        const t = await open([TRACE], width, height, `help${width}`);
        t.send('?');
        const first = await t.waitForScreen((text) => text.includes('Esc or ? closes'), 'the help');
        const expected = helpLines(width, 'quits');
        const known = new Set(expected.map((line) => helpText(line).trimEnd()));
        const seen = new Set<string>();
        let screen = first;
        for (let top = 1; ; top++) {
          const rows = lines(screen);
          const at = rows.findIndex((line) => line.startsWith('keys'));
          expect(at, screen).toBeGreaterThanOrEqual(0);
          // The help body: between its title and the hint line (the last line with text).
          const hint = rows.map((line) => line.trim() !== '').lastIndexOf(true);
          for (const line of rows.slice(at + 1, hint)) {
            const text = line.trimEnd();
            if (text === '') continue;
            expect(known.has(text), `a help line not drawn as written: "${text}"`).toBe(true);
            seen.add(text);
          }
          const range = /lines (\d+)-(\d+) of (\d+)/.exec(rows[at]!);
          if (range === null || Number(range[2]) >= Number(range[3])) break;
          t.send('j');
          screen = await t.waitForScreen((text) => text.includes(`lines ${top + 1}-`), `help line ${top + 1}`);
        }
        const all = [...seen].join('\n');
        for (const binding of KEYMAP) expect(all).toContain(bindingLabel(binding));
        t.send('Escape');
        await t.waitForScreen((text) => text.includes('SEV▼'), 'the list again');
      });
    });
  }
});

describe('TUI in a real terminal (tmux), the chart', () => {
  it("labels the time axis with the trace's whole span, first line to last, read from the trace text", async () => {
    // `11020 1795606335.190288 execve(…` … `11020 1795606335.486742 +++ exited with 0 +++`
    const traceLines = readFileSync(TRACE, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    const seconds = (line: string) => Number(/^\d+ (\d+\.\d{6}) /.exec(line)![1]);
    const span = `+${((seconds(traceLines[traceLines.length - 1]!) - seconds(traceLines[0]!)) * 1000).toFixed(1)} ms┘`;
    expect(span).toBe('+296.5 ms┘');
    const t = await open([TRACE], 100, 30, 'axis100');
    // The span is read after the findings (the header says "read to the end" first).
    const axisOf = (text: string) => lines(text).find((line) => line.startsWith('time ')) ?? '';
    const screen = await t.waitForScreen((text) => axisOf(text).trimEnd().endsWith(span), `the time axis to end with ${span}`);
    expect(axisOf(screen).trimEnd()).toMatch(/^time +└0 +\+296\.5 ms┘$/);
  });
});

describe('TUI in a real terminal (tmux), every bundled trace', () => {
  for (const { name, inputs } of bundledInputs()) {
    it(`tells every finding's file apart at 70, 80 and 100 columns: traces/${name}`, async () => {
      const store = await storeFromInputs(inputs);
      const rows = store.getSnapshot().rows;
      if (rows.length === 0) return;
      // The three widths at once: each its own tmux server, its own CLI.
      await Promise.all(
        [70, 80, 100].map(async (width) => {
          // Tall enough for every row on one screen.
          const t = startTui(inputs, width, Math.max(24, rows.length + 12), `all-${name}-${width}`);
          const screen = await t.waitForScreen((text) => lines(text).filter((line) => ROW.test(line)).length === rows.length, 'every row', 60_000);
          const shown = lines(screen)
            .filter((line) => ROW.test(line))
            .map(pathCell);
          const byLabel = new Map<string, Set<string>>();
          shown.forEach((label, k) => {
            const set = byLabel.get(label) ?? new Set<string>();
            set.add(rows[k]!.path);
            byLabel.set(label, set);
          });
          for (const [label, paths] of byLabel) expect(paths.size, `"${label}" at ${width} columns shows ${[...paths].join(' and ')}`).toBe(1);
          t.send('q');
          await t.waitForScreen((text) => text.includes('exited with status 0'), 'the TUI to quit');
        }),
      );
    }, 120_000);
  }
});

describe('TUI without a terminal', () => {
  it('draws nothing and prints the text report', () => {
    const result = spawnSync('node', [join(ROOT, 'dist/cli.js'), 'analyze', TRACE, '--tui'], { cwd: ROOT, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('\u001b[?1049h');
    expect(result.stdout).toMatch(/^orphanmap: 8 mappings outlived their files/);
  });
});
