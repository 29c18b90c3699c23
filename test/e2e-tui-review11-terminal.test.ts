// What the terminal shows once the TUI has gone (review 11), in a real
// pseudo-terminal: tmux runs the built CLI, then the shell says its status.
// The screen after the TUI is the normal one, so what orphanmap writes on
// stderr at the end (a capture's error) must come after it has left the
// alternate screen, or leaving it erases the message.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, cmdlineHas, killPids, killStillRunning } from './support/proc.js';
import { TmuxSession, shellQuote } from './tmux.js';
import { CLI, REPO, requireTool } from './tools.js';

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** After the command: its status, and the terminal's modes (cooked: icanon and echo, not -icanon and -echo). */
// "stty done" after stty's own lines: a screen read once "exited with status" shows may come before them (CI, review 22).
const THEN_STATUS = 'echo "exited with status $?"; stty -a; echo "stty done"; sleep 120';

/** The orphanmap process the pane's shell runs. */
async function orphanmapIn(term: TmuxSession): Promise<number> {
  const shell = Number(term.tmux('display', '-p', '-t', term.session, '#{pane_pid}').trim());
  let found: number | undefined;
  await waitUntil(() => (found = childrenOf(shell).find((pid) => cmdlineHas(pid, CLI))) !== undefined, 10_000);
  if (found === undefined) throw new Error('no orphanmap process under the pane');
  return found;
}

describe('the terminal after the TUI (tmux)', () => {
  let work: string;
  let term: TmuxSession | null = null;
  const started: ChildProcess[] = [];
  /** Processes the tests made that are not their children (a traced sleep, which outlives its strace). */
  const others: number[] = [];

  beforeAll(() => {
    requireTool('tmux');
    requireTool('strace');
    work = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-r11-'));
    if (!existsSync(join(REPO, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  });

  afterEach(() => {
    term?.kill();
    term = null;
    killStillRunning(started);
    killPids(others);
  });

  afterAll(() => {
    killStillRunning(started);
    killPids(others);
  });

  it("live --pid of a process another strace already traces: strace's reason for failing stays on the screen, exit 2", async () => {
    // A process has one tracer at most: a second strace gets EPERM from PTRACE_SEIZE, once the TUI is up.
    const pidFile = join(work, 'traced.pid');
    started.push(spawn('strace', ['-o', '/dev/null', 'sh', '-c', `echo $$ > ${shellQuote(pidFile)}; exec sleep 120`], { stdio: 'ignore' }));
    expect(await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    others.push(pid);
    const bundle = join(work, 'bundle-eperm');

    term = new TmuxSession('r11-eperm');
    term.start(`node ${shellQuote(CLI)} live --save ${shellQuote(bundle)} --pid ${pid}; echo "exited with status $?"; sleep 120`, 160, 20);
    await term.waitForScreen((text) => text.includes('exited with status'), 'the shell after orphanmap', 40_000);
    // -J: the message's lines as written, not as the terminal wrapped them.
    const screen = term.tmux('capture-pane', '-p', '-J', '-t', 'r11-eperm');

    expect(screen).toContain(`orphanmap: tracing with strace; the bundle is saved in ${bundle}`);
    expect(screen).toMatch(new RegExp(`error: capture with strace failed .*ptrace\\(PTRACE_SEIZE, ${pid}\\): Operation not permitted`));
    expect(screen).toContain('exited with status 2');
    expect(term.tmux('display', '-p', '-t', 'r11-eperm', '#{alternate_on}').trim()).toBe('0');
  }, 60_000);

  it('analyze --tui killed with SIGTERM gives the terminal back (normal screen, cooked mode) and ends as killed by it (143)', async () => {
    const trace = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
    term = new TmuxSession('r11-term-analyze');
    term.start(`node ${shellQuote(CLI)} analyze ${shellQuote(trace)} --tui; ${THEN_STATUS}`, 120, 30);
    await term.waitForScreen((text) => text.includes('findings ') && text.includes('q quit'), 'the TUI');
    expect(term.tmux('display', '-p', '-t', term.session, '#{alternate_on}').trim()).toBe('1');

    process.kill(await orphanmapIn(term), 'SIGTERM');
    const screen = await term.waitForScreen((text) => text.includes('exited with status') && text.includes('stty done'), 'the shell after orphanmap');
    expect(term.tmux('display', '-p', '-t', term.session, '#{alternate_on}').trim()).toBe('0');
    expect(screen).toContain('exited with status 143');
    expect(screen).toMatch(/(?<![-\w])icanon\b/);
    expect(screen).toMatch(/(?<![-\w])echo\b/);
    // The normal screen, as it was: no frame of the TUI drawn over it.
    expect(screen).not.toContain('findings ');
  }, 60_000);

  it('live -- CMD killed with SIGTERM stops the capture as Ctrl-C does, with the TUI gone at once, and exits 130', async () => {
    const bundle = join(work, 'bundle-term');
    term = new TmuxSession('r11-term-live');
    term.start(`node ${shellQuote(CLI)} live --save ${shellQuote(bundle)} -- sleep 60; ${THEN_STATUS}`, 160, 30);
    await term.waitForScreen((text) => text.includes('live via strace') && text.includes('q quit'), 'the live TUI', 30_000);

    process.kill(await orphanmapIn(term), 'SIGTERM');
    // Left before the capture's stop has finished the bundle, and said so.
    const leaving = await term.waitForScreen((text) => text.includes('SIGTERM: stopping the capture'), 'the normal screen, saying the capture stops');
    expect(term.tmux('display', '-p', '-t', term.session, '#{alternate_on}').trim()).toBe('0');
    expect(leaving).not.toContain('q quit');
    const screen = await term.waitForScreen((text) => text.includes('exited with status') && text.includes('stty done'), 'the shell after orphanmap', 30_000);
    expect(screen).toMatch(/orphanmap: stopped pid \d+ \(sleep\)/);
    expect(screen).toContain(`orphanmap: capture finished; analyze it again with: orphanmap analyze ${bundle}`);
    expect(screen).toContain('exited with status 130');
    expect(screen).toMatch(/(?<![-\w])icanon\b/);
    expect(screen).toMatch(/(?<![-\w])echo\b/);
    expect(JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')).exitReason).toBe('interrupted');
  }, 60_000);
});
