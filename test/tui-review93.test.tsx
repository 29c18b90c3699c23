// Review 93 (the TUI on real bundles), each case on a real input, the screen
// read as ink-testing-library draws it:
// - D1: with a finding listed, a verdict that is not clear (names of files a
//   process that ran before the trace removed, mappings in doubt) reached the
//   screen nowhere: a green "still mapped at the end 0" and nothing else.
//   Input: a hand `strace -p` of a program that, once traced, leaks a mapping
//   and removes a file it held open from before the trace.
// - D2: with no finding, the verdict of doubt was one truncated row: at 60
//   columns "but 3 mappings ar…", which read as clean.
// - D3: the help's warnings lost the last two characters of every wrapped row.
// - D4: "still mapped at the end 1 (5.0 GiB)  peak 0 (0 B)": the peak counted
//   only removals the trace shows. Input: `capture --pid` of a program whose
//   mapped file this test removes, untraced; truth its /proc/PID/maps.
// - D9: where the AGE/DELAY column gives way, a finding still mapped said
//   nowhere how long it had been held.
//
// Needs strace (D1).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { App } from '../src/tui/App.js';
import { helpLines } from '../src/tui/components/HelpScreen.js';
import { engineFeed, readIntoStore } from '../src/tui/run.js';
import { TuiStore } from '../src/tui/store.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { frameWhen } from './support/frame.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];
let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
  killStillRunning(children);
});
beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

/** `analyze --tui`'s store of INPUTS, drawn at WIDTH x HEIGHT: the frame once it shows `ready`. */
async function screenOf(inputs: string[], width: number, height: number, ready: string): Promise<string> {
  const store = new TuiStore({ source: { kind: 'file', names: inputs }, throttleMs: 0 });
  await readIntoStore(inputs, store, engineFeed(store));
  store.flush();
  const view = render(<App store={store} width={width} height={height} />);
  unmount = view.unmount;
  return frameWhen(
    () => view.lastFrame() ?? '',
    (text) => text.includes(ready),
    ready,
  );
}

it('D1: a finding listed and a verdict not clear: the header says what is not clear', async () => {
  const work = workspace('review93-d1');
  const held = join(work, 'w', 'held.pid');
  writeFileSync(held, '1\n');
  // Opens held.pid before the trace; once traced, maps a file, removes it (a leak) and removes held.pid.
  const code = `
import mmap, os, sys
held = open(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
seg = os.path.join(os.path.dirname(sys.argv[1]), "seg")
with open(seg, "wb") as f:
    f.write(b"a" * 8192)
fd = os.open(seg, os.O_RDONLY)
m = mmap.mmap(fd, 8192, prot=mmap.PROT_READ)
os.unlink(seg)
os.unlink(sys.argv[1])
print("done", flush=True)
sys.stdin.readline()
`;
  const program = spawn(PYTHON, ['-c', code, held], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const output = () => out;
  await waitFor('the program to open its file', () => out.includes('ready\n'), 10_000);
  const pid = program.pid!;
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-yy'], trace, children, async () => {
    program.stdin!.write('go\n');
    await waitFor('the program to remove its files', () => output().includes('\ndone\n'), 20_000);
  });
  program.stdin!.end();
  const report = await analyze([trace], {});
  // The program's record: a leak in the trace, and a file it held from before the trace removed.
  expect(report.engine.findings().filter((finding) => finding.kind === 'unlinked-while-mapped')).toHaveLength(1);
  expect(report.engine.removedUnseen()).toBe(1);

  const screen = await screenOf([trace], 160, 30, 'findings 1');
  const header = screen.split('\n')[2]!;
  expect(header, screen).toContain('not clear: the name of a file the trace holds no mapping of went while a process that ran before the trace ran');
});

it('D2: no finding, a verdict of doubt: its words are all on the screen, wrapped, at 60 columns', async () => {
  const bundle = join(REPO, 'test', 'fixtures', 'inode-number-taken', 'bundle');
  const screen = await screenOf([bundle], 60, 15, 'findings 0');
  const words = screen.replace(/\s+/g, ' ');
  expect(words).toContain('no mapping was seen to outlive its file, but 3 mappings are in doubt (their files may have lost their last names where the trace cannot tell: see the warnings)');
});

it('D3: the help wraps a warning whole, every row within the width', () => {
  const warning = readFileSync(join(REPO, 'traces', 'README.md'), 'utf8')
    .replace(/\s+/g, ' ')
    .slice(0, 600);
  for (const width of [60, 100]) {
    const rows = helpLines(width, 'quits', [warning]).filter((line) => line.kind === 'warning');
    for (const row of rows) expect(row.text.length, row.text).toBeLessThanOrEqual(width);
    expect(
      rows
        .map((row) => row.text)
        .join(' ')
        .replace(/^- /, '')
        .replace(/\s+/g, ' '),
    ).toBe(warning.trim());
  }
});

// Maps FILE, says "ready", then sleeps: no call but the sleep once traced.
const SLEEPER = `
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 65536)
m = mmap.mmap(fd, 65536)
os.close(fd)
print("ready", flush=True)
time.sleep(600)
`;

it('D4: a mapping whose file an untraced process removed during the capture: the peak is not below what is still mapped at the end', async () => {
  const work = workspace('review93-d4');
  const file = join(work, 'w', 'region.db');
  const program = spawn(PYTHON, ['-c', SLEEPER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(program);
  let out = '';
  program.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the program to map its file', () => out.includes('ready\n'), 10_000);
  const bundle = join(work, 'bundle');
  const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(capture);
  const ended = exited(capture);
  await waitFor('the capture to attach', () => existsSync(join(bundle, 'meta.json')), 30_000);
  // Removed by this process, which strace does not trace: /proc shows the mapping deleted.
  rmSync(file);
  expect(readFileSync(`/proc/${program.pid}/maps`, 'utf8')).toContain(`${file} (deleted)`);
  capture.kill('SIGINT');
  expect((await ended).code).toBe(130);

  const screen = await screenOf([bundle], 160, 30, 'still mapped at the end');
  const [, still, peak] = /still mapped at the end (\d+) \(.*?\) {2}peak (\d+) /.exec(screen)!.map(Number);
  expect(still, screen).toBe(1);
  expect(peak, screen).toBeGreaterThanOrEqual(1);
});

it('D9: where the AGE/DELAY column gives way, a finding still mapped says how long it has been held, as the wide screen does', async () => {
  // A real bundle whose findings still mapped at the end have their unlink in the trace: an age to tell.
  const bundle = join(REPO, 'test', 'fixtures', 'review50-mapped-after-trace', 'bundle');
  const ages = (screen: string) =>
    screen
      .split('\n')
      .map((line) => /(?:still mapped +|(?<!un)mapped \+)(\d[\d.,]* (?:ms|s|min|h))/.exec(line)?.[1])
      .filter((age) => age !== undefined);
  const wide = ages(await screenOf([bundle], 200, 60, 'still mapped at the end'));
  unmount?.();
  const narrow = ages(await screenOf([bundle], 60, 60, 'still mapped at the end'));
  expect(wide.length).toBeGreaterThan(0);
  expect(narrow).toEqual(wide);
});
