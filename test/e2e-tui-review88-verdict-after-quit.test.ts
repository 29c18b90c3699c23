// Review 88, H1: `orphanmap live --pid` in its view, a file the process maps
// removed by a process the trace does not follow. The trace shows nothing of
// it; the capture's maps at the end do, and the analysis of the finished
// bundle makes a finding of it. The user who quits the view (q) ended the
// capture and never saw that finding: the view was gone, and the terminal
// kept only "capture finished; analyze it again with …". The verdict of the
// whole bundle is now said on the terminal once the view has left it.
// In a real pseudo-terminal (tmux), under the real strace; truth: the
// process's own /proc/PID/maps, read while it lives.
//
// Needs tmux and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { TmuxSession, shellQuote } from './tmux.js';
import { CLI, requireTool } from './tools.js';

/** Maps FILE (shared, 64 KiB), prints its pid, and holds it until its stdin closes. */
const PROGRAM = `
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
mapping = mmap.mmap(fd, 65536)
os.close(fd)
print(os.getpid(), flush=True)
sys.stdin.read()
`;

const started: ChildProcess[] = [];
let term: TmuxSession | null = null;
beforeAll(() => {
  for (const tool of ['tmux', 'strace', PYTHON]) requireTool(tool);
});
afterEach(() => {
  term?.kill();
  term = null;
  killStillRunning(started);
});

it('live --pid, quit with q: the finding the maps at the end gave is said once the view is gone', async () => {
  const work = workspace('review88-verdict');
  const file = join(work, 'w', 'seg');
  writeFileSync(file, Buffer.alloc(65536));
  const program = spawn(PYTHON, ['-c', PROGRAM, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(program);
  const pid = Number((await createInterface({ input: program.stdout! })[Symbol.asyncIterator]().next()).value);
  term = new TmuxSession('r88-verdict');
  term.start(`node ${shellQuote(CLI)} live --save ${shellQuote(join(work, 'bundle'))} --pid ${pid}; echo "exited with status $?"; sleep 120`, 160, 30);
  await term.waitForScreen((text) => text.includes('live via strace') && text.includes('q quit'), 'the live view', 30_000);

  // Out of the trace's sight; the kernel's word on it.
  unlinkSync(file);
  expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toContain(`${file} (deleted)\n`);
  term.send('q');
  const screen = await term.waitForScreen((text) => text.includes('exited with status'), 'the shell after orphanmap', 30_000);
  expect(screen).toContain(`orphanmap: detached from pid ${pid} (python3); it runs on, untraced`);
  expect(screen).toContain(`orphanmap: 1 mapping outlived its file in process ${pid} (64.0 KiB held when unlinked; still mapped at the end: 1, 64.0 KiB).`);
  expect(screen).toContain('exited with status 0');
}, 90_000);
