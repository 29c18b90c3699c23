// `orphanmap live` in a real pseudo-terminal: tmux runs the built CLI on the
// JVM reproducer under strace, keys go in with send-keys, the screen comes
// back with capture-pane. The orphan shown must be the one in the bundle's
// trace, and q must leave no tracer behind and no traced JVM.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, shellQuote } from './tmux.js';
import { CLI, compileReproducer, REPO, requireTool } from './tools.js';

const term = new TmuxSession('live');
/**
 * Long enough that q always arrives while the JVM still holds its orphans
 * (so quitting has a live tracee to detach from), short enough that a hang
 * in orphanmap's exit shows up as a timeout rather than as a slow pass.
 */
const HOLD_SECONDS = 30;

const selectedRow = (text: string) => text.split('\n').find((line) => line.startsWith('› ')) ?? '';

/** Processes whose argv contains `needle` (our unique temp dir): ours and nobody else's. */
function processesWith(needle: string): { pid: number; argv: string[]; tracerPid: number | null }[] {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
      if (!argv.some((arg) => arg.includes(needle))) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      if (state === 'Z') continue;
      const tracer = /^TracerPid:\s+(\d+)/m.exec(status);
      found.push({ pid: Number(entry), argv, tracerPid: tracer === null ? null : Number(tracer[1]) });
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

const isTracer = (p: { argv: string[] }) => p.argv.some((arg) => /(^|\/)strace$/.test(arg) || arg.endsWith('capture-strace.sh'));
const isJvm = (p: { argv: string[] }) => p.argv.includes('IndexLifecycle');

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe('orphanmap live in a real terminal (tmux, strace, JVM reproducer)', () => {
  let classes: string;
  let work: string;

  beforeAll(() => {
    requireTool('tmux');
    requireTool('strace');
    requireTool('java');
    classes = compileReproducer();
    work = mkdtempSync(join(tmpdir(), 'orphanmap-e2e-live-'));
    if (!existsSync(join(REPO, 'dist/tui/run.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  });

  afterAll(() => {
    term.kill();
    // Only what this test started: processes naming our temp dir.
    if (work !== undefined) for (const p of processesWith(work)) spawnSync('kill', ['-KILL', String(p.pid)]);
  });

  it('shows an unlinked-while-mapped orphan with its path, address and unlink line; q detaches and exits', async () => {
    const bundle = join(work, 'bundle');
    const logs = join(work, 'logs');
    const live = ['node', CLI, 'live', '--save', bundle, '--', 'java', '-cp', classes, 'IndexLifecycle', '--mode', 'leaky', '--threads', '2', '--segments', '2', '--dir', logs, '--hold-seconds', String(HOLD_SECONDS)];
    term.start(`cd ${shellQuote(REPO)} && ${live.map(shellQuote).join(' ')}; echo "exited with status $?"; sleep 120`);

    // The live header names the backend and the command; 8 orphans (2 threads x 2 segments x .index/.timeindex).
    const first = await term.waitForScreen((text) => /live via strace\b.*\bjava -cp /.test(text) && text.includes('(8 error'), 'the live header and 8 error findings', 60_000);
    expect(first.split('\n')[0]).toMatch(/^orphanmap\s+live via strace\s.*java -cp/);
    expect(first).toMatch(/deleted but mapped 8 \(80\.0 MiB\)/);

    // Move down (sorted by id, the remap warnings come first) to the first unlink error.
    const table = first.split('\n');
    const from = table.findIndex((line) => line.startsWith('› '));
    const to = table.findIndex((line) => /^[ ›] ERR unlink /.test(line));
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    for (let k = 0; k < to - from - 1; k++) term.send('j');
    const onOrphan = await term.pressUntil('j', (text) => selectedRow(text).startsWith('› ERR unlink '), 'the selection on an unlink error', to - from + 3);
    const address = /\b(0x[0-9a-f]+)\b/.exec(selectedRow(onOrphan))?.[1];
    expect(address).toBeDefined();

    const detail = await term.pressUntil('Enter', (text) => text.includes('timeline of the file'), 'the detail pane');
    const path = /^file {6}(\S+)$/m.exec(detail)?.[1] ?? '';
    expect(path).toMatch(new RegExp(`^${logs}/topic-\\d+/\\d{20}\\.(index|timeindex)\\.deleted$`));
    expect(detail).toContain('unlinked-while-mapped  ERROR');
    expect(detail).toContain(`mapping   ${address}-`);
    const unlinked = new RegExp(`^unlinked  ${join(bundle, 'trace.txt')}:(\\d+) `, 'm').exec(detail);
    expect(unlinked, detail).not.toBeNull();
    const unlinkLine = Number(unlinked![1]);
    // The timeline marks that same line, and the bundle's trace says it is the unlink of this file.
    const unlinkRow = detail.split('\n').find((line) => line.startsWith('unlink▶')) ?? '';
    expect(unlinkRow).toMatch(new RegExp(`\\s${unlinkLine} unlink\\("${logs}/topic-`));
    const traced = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n')[unlinkLine - 1] ?? '';
    expect(traced).toContain(`unlink("${path}"`);

    // While the JVM holds its orphans, it is traced by the capture's strace.
    const jvmsBefore = processesWith(work).filter(isJvm);
    expect(jvmsBefore.length).toBeGreaterThan(0);
    expect(jvmsBefore.some((p) => p.tracerPid !== null && p.tracerPid > 0)).toBe(true);

    // q: the TUI leaves, the capture stops, orphanmap exits.
    term.send('q');
    const after = await term.waitForScreen((text) => text.includes('exited with status'), 'orphanmap to exit after q', 20_000);
    expect(after).not.toContain('timeline of the file');
    // q during a capture counts as an interrupted capture (130); after the JVM exited it is 0.
    expect(after).toMatch(/exited with status (0|130)\b/);
    expect(after).toContain(`orphanmap analyze ${bundle}`);

    // No tracer left, and no JVM left traced (the script ends a launched command with the capture).
    const settled = await waitUntil(() => processesWith(work).every((p) => !isTracer(p) && !(isJvm(p) && (p.tracerPid ?? 0) > 0)), 5_000);
    expect(settled, JSON.stringify(processesWith(work))).toBe(true);
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { endTime: string | null; exitReason: string | null; pid: number | null };
    expect(meta.endTime).not.toBeNull();
    expect(meta.exitReason).toBe('interrupted');
    // The JVM the bundle names is the one strace launched (the first pid in the trace).
    expect(meta.pid).toBe(Number(/^\d+/.exec(readFileSync(join(bundle, 'trace.txt'), 'utf8'))?.[0]));
  }, 120_000);
});
