// The App under ink-testing-library: every key is written once, as a terminal
// would send it (alone, or several in one read), and the test waits for the
// frame that shows its effect. Nothing is ever pressed twice.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { App, type AppProps, type QuitHow } from '../src/tui/App.js';
import { helpLines } from '../src/tui/components/HelpScreen.js';
import { exportTarget } from '../src/tui/export.js';
import { KEYMAP, bindingLabel } from '../src/tui/keymap.js';
import { TuiStore } from '../src/tui/store.js';
import { parseGroundTruth } from './ground-truth.js';
import { JVM_TRACE, storeFromTrace } from './tui-fixture.js';
import { handMadeFinding } from './support/finding.js';
import { frameWhen } from './support/frame.js';

const DOWN = '\u001B[B';
const UP = '\u001B[A';
const ENTER = '\r';
const ESC = '\u001B';
const BACKSPACE = '\u007F';
const CTRL_U = '\u0015';
const CTRL_W = '\u0017';
const F10 = '\u001B[21~';

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

function mount(store: TuiStore, size = { width: 120, height: 40 }, extra: Partial<AppProps> = {}) {
  const view = render(<App store={store} width={size.width} height={size.height} {...extra} />);
  unmount = view.unmount;
  const frame = () => view.lastFrame() ?? '';
  /** One write: a key, or several keys in one read ("kkkkkk", "timex\x7f\x7f"). */
  const send = (data: string) => view.stdin.write(data);
  const until = (check: (text: string) => boolean, what: string) => frameWhen(frame, check, what);
  return { frame, send, until };
}

const selectedRow = (frame: string) => frame.split('\n').find((line) => line.startsWith('› ')) ?? '';
const tableRows = (frame: string) => frame.split('\n').filter((line) => /^[› ] (ERR|WRN|BEN) /.test(line));
const titleOf = (frame: string) => frame.split('\n').find((line) => line.startsWith('findings ')) ?? '';

const groundTruth = parseGroundTruth(readFileSync(new URL('../traces/f-o-ttt-T-y/ground-truth.txt', import.meta.url), 'utf8'));

function firstOrphan(store: TuiStore): { finding: Finding; index: number } {
  const rows = store.getSnapshot().rows;
  const index = rows.findIndex((row) => row.kind === 'unlinked-while-mapped' && row.severity === 'error');
  return { finding: rows[index]!, index };
}

describe('App on the JVM reproducer trace', () => {
  it('shows the header counters, the chart over the whole trace and one row per finding, errors first', async () => {
    const { store, engine } = storeFromTrace();
    const { frame, until } = mount(store);
    const out = await until((text) => text.includes('findings 17'), 'the findings');
    const stats = engine.stats();
    expect(out).toMatch(/^orphanmap {2}read to the end {2}elapsed \d+:\d\d {2}trace\.txt/);
    expect(out).toContain(`events ${stats.events}`);
    expect(out).toContain('unreadable 0');
    expect(out).toContain('still mapped at the end 0 (0 B)');
    expect(out).toMatch(/peak 9 \(80\.0 MiB\)/);
    expect(out).toContain('held when unlinked 80.0 MiB');
    expect(out).toContain('findings 17 (8 error, 8 warning, 1 benign) · row 1 of 17 · sort severity ▼');
    expect(out).toMatch(/deleted\+mapped\s+[▁▂▃▄▅▆▇█ ]+█/);
    expect(out).toMatch(/time\s+└0\s+\+\d+\.\d ms┘/);
    expect(out).toContain('SEV▼');
    const rows = tableRows(out);
    expect(rows).toHaveLength(17);
    // Severity, then age: the eight errors first.
    expect(rows.slice(0, 8).every((row) => row.includes('ERR'))).toBe(true);
    for (const mapping of groundTruth) expect(out).toMatch(new RegExp(`ERR .*${mapping.address}\\s+10\\.0 MiB\\s+\\d+ released at exit`));
    expect(frame()).not.toContain('\u001b');
  });

  it('moves with j/k and the arrows, and G and g; the title says which row', async () => {
    const { store } = storeFromTrace();
    const rows = store.getSnapshot().rows;
    const { send, until } = mount(store);
    await until((text) => selectedRow(text).includes(rows[0]!.address), 'the first row selected');
    send('j');
    await until((text) => selectedRow(text).includes(rows[1]!.address) && titleOf(text).includes('row 2 of 17'), 'j');
    send(DOWN);
    await until((text) => selectedRow(text).includes(rows[2]!.address), '↓');
    send(UP);
    await until((text) => selectedRow(text).includes(rows[1]!.address), '↑');
    send('G');
    await until((text) => selectedRow(text).includes(rows[16]!.address) && titleOf(text).includes('row 17 of 17'), 'G');
    send('g');
    await until((text) => titleOf(text).includes('row 1 of 17'), 'g');
  });

  it('handles every key of a burst: "jjjj" moves four rows, "kkkkkk" in the detail scrolls six', async () => {
    const { store } = storeFromTrace();
    const rows = store.getSnapshot().rows;
    const { send, until } = mount(store, { width: 120, height: 30 });
    await until((text) => text.includes('findings 17'), 'the findings');
    send('jjjj');
    await until((text) => selectedRow(text).includes(rows[4]!.address), 'four rows down');
    send(ENTER);
    const detail = await until((text) => /rows (\d+)-(\d+) of (\d+)/.test(text), 'the detail with a scrolled timeline');
    const top = Number(/rows (\d+)-/.exec(detail)![1]);
    expect(top).toBeGreaterThan(6);
    send('kkkkkk');
    await until((text) => text.includes(`rows ${top - 6}-`), 'six rows up');
    send('g');
    await until((text) => text.includes('rows 1-'), 'g: top of the timeline');
    send('G');
    const bottom = await until((text) => /rows \d+-(\d+) of \1\b/.test(text), 'G: end of the timeline');
    // The title stays while the timeline scrolls.
    expect(bottom).toContain(`${rows[4]!.id}  ${rows[4]!.kind}`);
  });

  it('opens the detail with Enter: full path, mapping, and the unlink line marked; Esc closes it', async () => {
    const { store } = storeFromTrace();
    const { finding, index } = firstOrphan(store);
    const { send, until } = mount(store);
    await until((text) => text.includes('findings 17'), 'the findings');
    send('j'.repeat(index) + ENTER);
    const out = await until((text) => text.includes(`file      ${finding.path}`), 'the detail');
    expect(out).toContain(`mapping   ${finding.address}-`);
    expect(out).toContain(`unlinked  trace.txt:${finding.unlinkedAt!.line}`);
    expect(out.split('\n').find((line) => line.startsWith('unlink▶'))).toMatch(new RegExp(`\\s${finding.unlinkedAt!.line} unlink`));
    expect(out.split('\n').some((line) => line.startsWith('mapped▶') && line.includes(` ${finding.mappedAt!.line} mmap(`))).toBe(true);
    send(ESC);
    await until((text) => !text.includes('timeline of the file') && text.includes('SEV▼'), 'Esc to close the detail');
  });

  it('filters as it is typed; Backspace, Ctrl-W and Ctrl-U edit the filter even when they arrive in one read with the text', async () => {
    const { store } = storeFromTrace();
    const { send, until } = mount(store);
    await until((text) => text.includes('findings 17'), 'the findings');
    send('/');
    await until((text) => text.includes('filter (path text or pid): '), 'the filter line');
    // `tmux send-keys "timex" BSpace BSpace`: one read.
    send(`timex${BACKSPACE}${BACKSPACE}`);
    let out = await until((text) => text.includes('filter (path text or pid): tim ') && tableRows(text).length === 8, 'the filter "tim"');
    expect(out).not.toContain('\\x7f');
    // Ctrl-W deletes back to a blank or a slash, as readline's unix-filename-rubout does.
    send(`eindex/x.y${CTRL_W}`);
    out = await until((text) => text.includes('filter (path text or pid): timeindex/ '), 'Ctrl-W deleting "x.y"');
    send(`${CTRL_W}timeindex.deleted${ENTER}`);
    out = await until((text) => titleOf(text).includes('findings 4 of 17') && titleOf(text).includes('filter "timeindex.deleted"'), 'the kept filter');
    expect(tableRows(out)).toHaveLength(4);
    // / again starts a new filter; Ctrl-U clears a line; Esc puts the old filter back.
    send('/');
    await until((text) => text.includes('filter (path text or pid):    Enter') && tableRows(text).length === 17, 'a new, empty filter');
    send(`hsp${CTRL_U}11020`);
    await until((text) => text.includes('filter (path text or pid): 11020 ') && tableRows(text).length === 17, 'the pid filter after Ctrl-U');
    send(ESC);
    await until((text) => titleOf(text).includes('filter "timeindex.deleted"') && tableRows(text).length === 4, 'Esc putting the old filter back');
    // Esc in the list takes the filter away.
    send(ESC);
    await until((text) => titleOf(text).startsWith('findings 17 ') && !titleOf(text).includes('filter'), 'Esc clearing the filter');
  });

  it('highlights nothing and steps with n through a filtered list, wrapping round', async () => {
    const { store } = storeFromTrace();
    const { send, until } = mount(store);
    await until((text) => text.includes('findings 17'), 'the findings');
    send(`/topic-0${ENTER}`);
    await until((text) => titleOf(text).includes('findings 8 of 17') && titleOf(text).includes('row 1 of 8'), 'the filter');
    send('N');
    await until((text) => titleOf(text).includes('row 8 of 8'), 'N wrapping to the last match');
    send('n');
    await until((text) => titleOf(text).includes('row 1 of 8'), 'n wrapping to the first');
  });

  it('cycles the severity filter with s, the sort with o, and reverses it with r', async () => {
    const { store } = storeFromTrace();
    const { send, until } = mount(store);
    await until((text) => text.includes('findings 17'), 'the findings');
    send('s');
    const errors = await until((text) => titleOf(text).includes('severity error'), 's');
    expect(tableRows(errors).every((row) => row.includes('ERR'))).toBe(true);
    send('sss');
    await until((text) => !/· severity \w/.test(titleOf(text)) && tableRows(text).length === 17, 'all severities again');
    send('r');
    const reversed = await until((text) => titleOf(text).includes('sort severity ▲'), 'r');
    expect(tableRows(reversed)[0]).toContain('BEN');
    expect(reversed).toContain('SEV▲');
    send('o');
    await until((text) => titleOf(text).includes('sort age ▼') && text.includes('AGE/DELAY▼'), 'o: age');
    send('oo');
    const byPath = await until((text) => titleOf(text).includes('sort path ▼') && text.includes('PATH▼'), 'o o: path');
    const paths = tableRows(byPath);
    expect(paths).toHaveLength(17);
  });

  it('opens the help with ? and closes it with ?', async () => {
    const { store } = storeFromTrace();
    const { send, until } = mount(store, { width: 120, height: 40 });
    await until((text) => text.includes('findings 17'), 'the findings');
    send('?');
    await until((text) => text.includes('; Esc or ? closes') && text.includes('the list and the detail'), 'the help');
    send('?');
    await until((text) => text.includes('SEV▼'), 'the list again');
  });

  it('exports the selected finding with e into the export directory, never overwriting', async () => {
    const { store } = storeFromTrace();
    const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-tui-')), 'exports');
    const { finding, index } = firstOrphan(store);
    const exporter = exportTarget(dir, { command: `orphanmap analyze ${JVM_TRACE}` });
    const { send, until } = mount(store, { width: 200, height: 40 }, { exporter });
    await until((text) => text.includes('findings 17'), 'the findings');
    send(`${'j'.repeat(index)}e`);
    await until((text) => text.includes(`${finding.id} evidence saved:`), 'the first export');
    send('e');
    const second = await until((text) => text.includes(`-pid${finding.pid}-2.md`), 'the second export');
    expect(second).toContain(join(dir, `orphanmap-${finding.id}-pid${finding.pid}-2.jira.txt`));
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      [2, 1].flatMap((n) => [`orphanmap-${finding.id}-pid${finding.pid}${n === 1 ? '' : '-2'}.jira.txt`, `orphanmap-${finding.id}-pid${finding.pid}${n === 1 ? '' : '-2'}.md`]).sort(),
    );
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    expect(text).toContain(finding.address);
    expect(text).not.toContain('--tui');
  });

  it('asks for another directory when the export directory cannot be written, and exports there', async () => {
    const { store } = storeFromTrace();
    const base = mkdtempSync(join(tmpdir(), 'orphanmap-tui-'));
    const blocked = join(base, 'file-in-the-way');
    writeFileSync(blocked, 'not a directory');
    chmodSync(base, 0o755);
    const exporter = exportTarget(join(blocked, 'exports'), { command: 'orphanmap analyze trace.txt' });
    const { send, until } = mount(store, { width: 160, height: 40 }, { exporter });
    await until((text) => text.includes('findings 17'), 'the findings');
    send('e');
    await until((text) => text.includes('export failed: cannot write in') && text.includes('export to directory: '), 'the failure and the directory prompt');
    send(`${CTRL_U}${join(base, 'elsewhere')}${ENTER}`);
    await until((text) => text.includes('evidence saved:') && text.includes(join(base, 'elsewhere')), 'the export in the new directory');
    expect(readdirSync(join(base, 'elsewhere'))).toHaveLength(2);
  });

  it('says so when e is pressed on an empty list, and drops a saved message once its finding is filtered out', async () => {
    const { store } = storeFromTrace();
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-tui-'));
    const exporter = exportTarget(dir, { command: 'orphanmap analyze trace.txt' });
    const { send, until } = mount(store, { width: 160, height: 40 }, { exporter });
    await until((text) => text.includes('findings 17'), 'the findings');
    const first = store.getSnapshot().rows[0]!;
    send('e');
    await until((text) => text.includes(`${first.id} evidence saved`), 'the export');
    send(`/hsperf${ENTER}`);
    await until((text) => titleOf(text).includes('findings 1 of 17') && !text.includes('evidence saved'), 'the message gone with its finding');
    send(`/no-such-file${ENTER}`);
    await until((text) => titleOf(text).includes('findings 0 of 17'), 'an empty list');
    send('e');
    await until((text) => text.includes('nothing to export: the list is empty'), 'the empty-list message');
  });

  it('shows the full path with y and copies it', async () => {
    const { store } = storeFromTrace();
    const copied: string[] = [];
    const { send, until } = mount(store, { width: 80, height: 24 }, { onCopy: (text) => copied.push(text) });
    await until((text) => text.includes('findings 17'), 'the findings');
    const first = store.getSnapshot().rows[0]!;
    send('y');
    const out = await until((text) => text.replace(/\n/g, '').includes(first.path), 'the full path');
    expect(out).toContain('OSC 52');
    expect(copied).toEqual([first.path]);
  });

  it('keeps header, table and hint line whole on an 80x24 terminal, each line within 80 columns', async () => {
    const { store } = storeFromTrace();
    const { until } = mount(store, { width: 80, height: 23 });
    const out = await until((text) => tableRows(text).length >= 8, 'the table');
    const lines = out.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(lines[0]).toMatch(/^orphanmap {2}read to the end {2}elapsed /);
    expect(lines[lines.length - 1]).toMatch(/\? help q quit$/);
  });

  it('shows escaped control characters from a hostile path, never raw escapes', async () => {
    const store = new TuiStore({ source: { kind: 'live', pid: 7, command: 'evil', backend: 'strace' }, throttleMs: 0 });
    const path = '/tmp/\u001b[2J\u001b]0;owned\u0007x.index.deleted';
    store.change({
      type: 'decided',
      finding: handMadeFinding('F1', path, {
        pid: 7,
        address: '0x7f0000000000',
        mappedAt: { file: 't', line: 1, time: null, tid: 7 },
        unlinkedAt: { file: 't', line: 2, time: null, tid: 7 },
        evidence: [{ file: 't', line: 2, text: `7 unlink("${path}") = 0`, time: null, tid: 7 }],
      }),
    });
    store.flush();
    const { send, until } = mount(store);
    await until((text) => text.includes('findings 1'), 'the finding');
    send(ENTER);
    const out = await until((text) => text.includes('timeline of the file'), 'the detail');
    expect(out).not.toContain('\u001b]0;');
    expect(out).not.toContain('\u001b[2J');
    expect(out).toContain('\\x1b[2J\\x1b]0;owned\\x07x.index.deleted');
  });

  it('pauses the view with p while changes keep arriving, and quits with q calling onQuit', async () => {
    const store = new TuiStore({ source: { kind: 'live', pid: 7, command: 'java', backend: 'strace' }, throttleMs: 0 });
    const { store: full } = storeFromTrace();
    const findings = full.getSnapshot().rows;
    store.change({ type: 'decided', finding: findings[0]! });
    store.flush();
    const quits: QuitHow[] = [];
    const { send, until } = mount(store, undefined, { onQuit: (how) => quits.push(how) });
    await until((text) => tableRows(text).length === 1, 'one finding');
    send('p');
    await until((text) => text.split('\n')[0]!.includes('PAUSED'), 'PAUSED');
    store.change({ type: 'decided', finding: findings[1]! });
    store.flush();
    const paused = await until((text) => text.includes('PAUSED +1 updates waiting'), 'the waiting update');
    expect(tableRows(paused)).toHaveLength(1);
    send(' ');
    await until((text) => !text.includes('PAUSED') && tableRows(text).length === 2, 'resumed');
    send('q');
    await until(() => quits.length === 1, 'onQuit');
    expect(quits).toEqual(['plain']);
  });

  it('quits with F10', async () => {
    const { store } = storeFromTrace();
    const quits: QuitHow[] = [];
    const { send, until } = mount(store, undefined, { onQuit: (how) => quits.push(how) });
    await until((text) => text.includes('findings 17'), 'the findings');
    send(F10);
    await until(() => quits.length === 1, 'F10');
  });
});

describe('App in live -- CMD: q asks', () => {
  const quit = { asks: true, program: 'java (pid 4242)', detach: { ok: true as const }, note: 'asks' };

  function liveStore(): TuiStore {
    const store = new TuiStore({ source: { kind: 'live', pid: 4242, command: 'java -cp x IndexLifecycle', backend: 'strace' }, throttleMs: 0 });
    const { store: full } = storeFromTrace();
    for (const finding of full.getSnapshot().rows.slice(0, 3)) store.change({ type: 'decided', finding });
    store.flush();
    return store;
  }

  it('offers stop, detach and cancel; cancel goes back, d detaches', async () => {
    const quits: QuitHow[] = [];
    const { send, until } = mount(liveStore(), { width: 100, height: 30 }, { quit, onQuit: (how) => quits.push(how) });
    await until((text) => tableRows(text).length === 3, 'the findings');
    send('q');
    const asked = await until((text) => text.includes('Quit? orphanmap started java (pid 4242)'), 'the question');
    expect(asked).toMatch(/^s\s+stop: end the program \(SIGTERM, SIGKILL after 3 s\)/m);
    expect(asked).toMatch(/^d\s+detach: stop tracing, leave the program running untraced/m);
    expect(asked).toMatch(/^c\/Esc\s+cancel: back to the findings; the capture goes on/m);
    send('c');
    await until((text) => !text.includes('Quit?') && text.includes('? help q quit'), 'cancel');
    expect(quits).toEqual([]);
    send('qd');
    await until(() => quits.length === 1, 'detach');
    expect(quits).toEqual(['detach']);
  });

  it('stops the program with s', async () => {
    const quits: QuitHow[] = [];
    const { send, until } = mount(liveStore(), { width: 100, height: 30 }, { quit, onQuit: (how) => quits.push(how) });
    await until((text) => tableRows(text).length === 3, 'the findings');
    send('qs');
    await until(() => quits.length === 1, 'stop');
    expect(quits).toEqual(['stop']);
  });

  it('says detach is not offered, and why, where the tracer would kill the program', async () => {
    const quits: QuitHow[] = [];
    const why = 'this capture runs strace with --seccomp-bpf --kill-on-exit';
    const { send, until } = mount(liveStore(), { width: 100, height: 30 }, { quit: { ...quit, detach: { ok: false, why } }, onQuit: (how) => quits.push(how) });
    await until((text) => tableRows(text).length === 3, 'the findings');
    send('q');
    await until((text) => text.includes(`detach is not offered: ${why}`), 'the question without detach');
    send('d');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(quits).toEqual([]);
  });

  it('quits at once after the capture has ended', async () => {
    const store = liveStore();
    store.finish();
    const quits: QuitHow[] = [];
    const { send, until } = mount(store, { width: 100, height: 30 }, { quit, onQuit: (how) => quits.push(how) });
    await until((text) => text.includes('capture ended'), 'the ended capture');
    send('q');
    await until(() => quits.length === 1, 'q');
    expect(quits).toEqual(['plain']);
  });
});

describe('App at small sizes', () => {
  for (const [width, height] of [
    [120, 39],
    [80, 23],
    [60, 14],
  ] as const) {
    it(`scrolls the help at ${width}x${height + 1}: every binding readable, no line over ${width} columns`, async () => {
      const { store } = storeFromTrace();
      const { frame, send, until } = mount(store, { width, height });
      await until((text) => text.includes('findings 17'), 'the findings');
      send('?');
      const first = await until((text) => text.includes('Esc or ? closes'), 'the help');
      const total = Number(/of (\d+) \(/.exec(first)?.[1] ?? '0');
      expect(total).toBe(helpLines(width, 'quits').length);
      const seen: string[] = [];
      let top = 1;
      while (top <= total) {
        const text = await until((t) => t.includes(`lines ${top}-`), `help lines from ${top}`);
        for (const line of text.split('\n')) {
          expect(line.length, line).toBeLessThanOrEqual(width);
          seen.push(line);
        }
        const end = Number(/lines \d+-(\d+) of/.exec(text)![1]);
        if (end >= total) break;
        send('j');
        top++;
      }
      const all = seen.join('\n');
      for (const binding of KEYMAP) expect(all).toContain(bindingLabel(binding));
      expect(frame().split('\n').length).toBeLessThanOrEqual(height);
    });
  }

  it("keeps the detail pane's title at 60x15", async () => {
    const { store } = storeFromTrace();
    const { finding, index } = firstOrphan(store);
    const { send, until } = mount(store, { width: 60, height: 14 });
    await until((text) => text.includes('findings 17'), 'the findings');
    send(`${'j'.repeat(index)}${ENTER}`);
    const out = await until((text) => text.includes('timeline of the file'), 'the detail');
    expect(out).toContain(`${finding.id}  unlinked-while-mapped  ERROR  pid ${finding.pid}`);
    expect(out.split('\n').every((line) => line.length <= 60)).toBe(true);
    expect(out.split('\n').length).toBeLessThanOrEqual(14);
  });
});
