// `orphanmap live` in a real pseudo-terminal: tmux runs the built CLI on the
// JVM reproducer (and on a shell loop) under strace; keys go in with
// send-keys, each once; the screen comes back with capture-pane, polled until
// it shows the key's effect. q asks what becomes of a launched program:
// detach must leave it running and untraced (TracerPid 0), stop must end it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesWith, type Proc } from './support/proc.js';
import { TmuxSession, shellQuote } from './tmux.js';
import { CLI, compileReproducer, REPO, requireTool } from './tools.js';

/** Long enough that everything below happens while the JVM holds its orphans, idle. */
const HOLD_SECONDS = 240;

const lines = (text: string) => text.split('\n');
const selectedRow = (text: string) => lines(text).find((line) => line.startsWith('› ')) ?? '';
const titleOf = (text: string) => lines(text).find((line) => line.startsWith('findings ')) ?? '';

function statusOf(pid: number): { state: string; tracerPid: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { state: /^State:\s+(\S)/m.exec(status)?.[1] ?? '?', tracerPid: Number(/^TracerPid:\s+(\d+)/m.exec(status)?.[1] ?? '-1') };
  } catch {
    return null;
  }
}

const isTracer = (p: Proc) => p.argv.some((arg) => /(^|\/)strace$/.test(arg) || arg.endsWith('capture-strace.sh'));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

function readMeta(bundle: string): { pid: number; exitReason: string | null; canDetach?: boolean; noDetachReason?: string | null; endTime: string | null } {
  return JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8'));
}

/** An age or delay cell ("12.3 s", "2.1 min") in ms. */
function ageMs(row: string): number | null {
  const match = /(\d+(?:\.\d+)?) (ms|s|min|h)\s*$/.exec(row.trimEnd());
  if (match === null) return null;
  const scale = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'min' | 'h'];
  return Number(match[1]) * scale;
}

describe('orphanmap live in a real terminal (tmux, strace)', () => {
  let classes: string;
  let work: string;
  let term: TmuxSession | null = null;

  beforeAll(() => {
    requireTool('tmux');
    requireTool('strace');
    requireTool('java');
    classes = compileReproducer();
    work = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-live-'));
    if (!existsSync(join(REPO, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  });

  afterEach(() => {
    term?.kill();
    term = null;
  });

  afterAll(() => {
    // Only what these tests started: processes naming our temp dir (a detached JVM among them).
    if (work !== undefined) for (const p of processesWith(work)) spawnSync('kill', ['-KILL', String(p.pid)]);
  });

  it("shows the JVM's orphans with PAUSED, elapsed and ages that tick while it idles; q offers stop, detach, cancel; detach leaves it running, untraced", async () => {
    const bundle = join(work, 'bundle-detach');
    const logs = join(work, 'logs-detach');
    const live = [
      'node',
      CLI,
      'live',
      '--save',
      bundle,
      '--',
      'java',
      '-cp',
      classes,
      'IndexLifecycle',
      '--mode',
      'leaky',
      '--threads',
      '2',
      '--segments',
      '2',
      '--dir',
      logs,
      '--hold-seconds',
      String(HOLD_SECONDS),
    ];
    term = new TmuxSession('live-detach');
    term.start(`cd ${shellQuote(REPO)} && ${live.map(shellQuote).join(' ')}; echo "exited with status $?"; sleep 300`, 200, 60);

    // 8 orphans (2 threads x 2 segments x .index/.timeindex), held by an idle JVM.
    const first = await term.waitForScreen(
      (text) => titleOf(text).includes('(8 error') && ageMs(selectedRow(text)) !== null && lines(text)[1]!.startsWith('maps '),
      'the live header and 8 error findings',
      120_000,
    );
    expect(lines(first)[0]).toMatch(/^orphanmap {2}live via strace {2}elapsed \d+:\d\d {2}pid \d+ {2}java -cp /);
    expect(lines(first)[1]).toMatch(/^maps [\d,]+ \/ [\d,]+ \(\d+\.\d% of vm\.max_map_count\)/);
    expect(first).toMatch(/deleted but mapped 8 \(80\.0 MiB\)/);
    expect(first).toMatch(/time\s+└\d\d:\d\d:\d\d start\s+\+[\d.]+ (s|ms|min) now┘/);
    // Severity, then age: an orphan is selected, still mapped, with its age.
    expect(selectedRow(first)).toMatch(/^› ERR {2}unlink .*still mapped/);

    // The age of a still-mapped orphan keeps growing while the JVM makes no system call.
    const age = ageMs(selectedRow(first))!;
    const later = await term.waitForScreen((text) => (ageMs(selectedRow(text)) ?? 0) >= age + 3000, 'the age to tick on while the JVM idles', 20_000);
    expect(ageMs(selectedRow(later))).toBeGreaterThanOrEqual(age + 3000);

    // p: PAUSED on the first line, the elapsed time still there; p again resumes.
    term.send('p');
    const paused = await term.waitForScreen((text) => lines(text)[0]!.includes('PAUSED'), 'PAUSED');
    expect(lines(paused)[0]).toMatch(/^orphanmap {2}PAUSED.* {2}live via strace {2}elapsed \d+:\d\d/);
    term.send('p');
    await term.waitForScreen((text) => !lines(text)[0]!.includes('PAUSED'), 'resumed');

    // The detail of the selected orphan, its unlink line the bundle's own.
    term.send('Enter');
    const detail = await term.waitForScreen((text) => text.includes('timeline of the file') && /^unlinked {2}/m.test(text), 'the detail pane');
    const path = /^file {6}(\S+)$/m.exec(detail)?.[1] ?? '';
    expect(path).toMatch(new RegExp(`^${logs}/topic-\\d+/\\d{20}\\.(index|timeindex)\\.deleted$`));
    const unlinked = new RegExp(`^unlinked {2}${join(bundle, 'trace.txt')}:(\\d+) `, 'm').exec(detail);
    expect(unlinked, detail).not.toBeNull();
    const traced = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n')[Number(unlinked![1]) - 1] ?? '';
    expect(traced).toContain(`unlink("${path}"`);
    term.send('Escape');
    await term.waitForScreen((text) => text.includes('SEV▼'), 'the list again');

    const jvm = readMeta(bundle).pid;
    expect(statusOf(jvm)?.tracerPid).toBeGreaterThan(0);

    // e while the capture runs: the files go into the bundle, with the trace so far as the input.
    term.send('e');
    const saved = await term.waitForScreen((text) => /(F\d+) evidence saved: /.test(text), 'the export');
    const exported = readdirSync(bundle).filter((file) => /^orphanmap-F\d+-pid\d+\.md$/.test(file));
    expect(exported, saved).toHaveLength(1);
    const markdown = readFileSync(join(bundle, exported[0]!), 'utf8');
    expect(markdown).toContain('from 1 input.');
    expect(markdown).toMatch(new RegExp(`\\|\\s*\`${join(bundle, 'trace.txt')}\`\\s*\\|\\s*strace\\s*\\|\\s*\`[0-9a-f]{64}\`\\s*\\|`));
    expect(markdown).toContain(`orphanmap analyze ${bundle}`);
    expect(markdown).toContain('exported while the capture was still running');
    expect(markdown).not.toContain('--tui');

    // q asks what becomes of the JVM.
    term.send('q');
    const question = await term.waitForScreen((text) => text.includes('Quit? orphanmap started java'), 'the quit question');
    expect(question).toMatch(/^s\s+stop: end the program \(SIGTERM, SIGKILL after 3 s\), finish the bundle, quit$/m);
    expect(question).toMatch(/^c\/Esc\s+cancel: back to the findings; the capture goes on$/m);
    const meta = readMeta(bundle);
    if (meta.canDetach === false) {
      // strace 6.6 or later traces with --kill-on-exit: detach would kill the JVM, so it is not offered.
      expect(question).toContain(`detach is not offered: ${meta.noDetachReason}`);
      return;
    }
    expect(question).toMatch(/^d\s+detach: stop tracing, leave the program running untraced, finish the bundle, quit$/m);
    // c: back to the list, the capture going on.
    term.send('c');
    await term.waitForScreen((text) => !text.includes('Quit?') && text.includes('q quit'), 'cancel');
    expect(statusOf(jvm)?.tracerPid).toBeGreaterThan(0);

    term.send('q');
    await term.waitForScreen((text) => text.includes('Quit? orphanmap started java'), 'the quit question again');
    term.send('d');
    const after = await term.waitForScreen((text) => text.includes('exited with status'), 'orphanmap to exit after d', 60_000);
    expect(after).toContain('exited with status 0');
    expect(after).toContain(`orphanmap: detached: pid ${jvm} (java) runs on, untraced; its output goes to ${join(bundle, 'command.log')}`);

    // The JVM runs on, untraced; no tracer is left.
    const settled = await waitUntil(() => processesWith(work).every((p) => !isTracer(p)), 10_000);
    expect(settled, JSON.stringify(processesWith(work))).toBe(true);
    const status = statusOf(jvm);
    expect(status, `pid ${jvm} is gone`).not.toBeNull();
    expect(status!.state).not.toBe('Z');
    expect(status!.tracerPid).toBe(0);
    expect(readMeta(bundle)).toMatchObject({ exitReason: 'detached', complete: true });
    // Still alive a little later: nothing it writes goes into a closed pipe.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(statusOf(jvm)?.tracerPid).toBe(0);
    spawnSync('kill', ['-KILL', String(jvm)]);
  }, 300_000);

  it('stop ends the launched program at 80x24, after showing the question', async () => {
    const bundle = join(work, 'bundle-stop');
    const live = ['node', CLI, 'live', '--save', bundle, '--', 'sh', '-c', 'while :; do sleep 0.2; done', work];
    term = new TmuxSession('live-stop');
    term.start(`cd ${shellQuote(REPO)} && ${live.map(shellQuote).join(' ')}; echo "exited with status $?"; sleep 300`, 80, 24);
    const first = await term.waitForScreen(
      (text) => /^orphanmap {2}live via strace {2}elapsed \d+:\d\d {2}pid \d+/.test(text) && text.includes('q quit') && lines(text)[1]!.startsWith('maps '),
      'the live screen',
      60_000,
    );
    expect(lines(first)[1]).toMatch(/^maps [\d,]+ \/ [\d,]+ \(\d+\.\d% of vm\.max_map_count\)/);
    const program = readMeta(bundle).pid;
    expect(statusOf(program)?.tracerPid).toBeGreaterThan(0);
    term.send('p');
    await term.waitForScreen((text) => /^orphanmap {2}PAUSED.* {2}elapsed \d+:\d\d/.test(lines(text)[0]!), 'PAUSED and elapsed at 80 columns');
    term.send('q');
    const question = await term.waitForScreen((text) => text.includes('Quit? orphanmap started sh'), 'the quit question');
    expect(question).toMatch(/^s\s+stop: end the program/m);
    expect(question).toMatch(/^c\/Esc\s+cancel/m);
    for (const line of lines(question)) expect(line.length).toBeLessThanOrEqual(80);
    term.send('s');
    const after = await term.waitForScreen((text) => text.includes('exited with status'), 'orphanmap to exit after s', 60_000);
    expect(after).toContain('exited with status 0');
    expect(after).toContain(`orphanmap: stopped pid ${program} (sh)`);
    const gone = await waitUntil(() => statusOf(program) === null || statusOf(program)!.state === 'Z', 10_000);
    expect(gone, `pid ${program} still runs`).toBe(true);
    const left = () => processesWith(work).filter((p) => isTracer(p) || p.argv.includes('while :; do sleep 0.2; done'));
    expect(await waitUntil(() => left().length === 0, 10_000), JSON.stringify(left())).toBe(true);
    expect(readMeta(bundle)).toMatchObject({ exitReason: 'interrupted', complete: true });
  }, 180_000);
});
