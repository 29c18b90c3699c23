// Review 20, R20-2: a trace whose process opens N files and then forks N
// children that never exit makes the engine hold N x N fd entries (a fork
// copies its parent's table, as the kernel does): 1.7 MB of trace, and V8
// aborted at its heap limit after two minutes ("FATAL ERROR: Reached heap
// limit", SIGABRT), with no word of the input. Now the heap is watched
// (src/ingest/heap-guard.ts), and such a trace ends with exit 2 and an error
// naming the file and the line reached. Run under a 256 MiB heap (NODE_OPTIONS)
// so that the bound is reached in seconds; the CLI's default is the same bound
// at 16 times the size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLI } from './support/tools.js';

/** One process: `files` opens, then `forks` forks, none of whose children ever shows up again. */
function forkingTrace(files: number, forks: number): string {
  const lines = ['100 1700000000.000000 execve("/bin/x", ["x"], 0x7ffc /* 1 var */) = 0 <0.000100>'];
  let micros = 0;
  const time = () => `1700000000.${String(++micros).padStart(6, '0')}`;
  for (let i = 0; i < files; i++) lines.push(`100 ${time()} openat(AT_FDCWD</>, "/f${i}", O_RDONLY) = ${i + 3}</f${i}> <0.000010>`);
  for (let i = 0; i < forks; i++) {
    lines.push(`100 ${time()} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10) = ${1000 + i} <0.000050>`);
  }
  lines.push(`100 ${time()} exit_group(0) = ?`, `100 ${time()} +++ exited with 0 +++`);
  return `${lines.join('\n')}\n`;
}

it('a trace whose forks copy more fds than the heap holds ends with exit 2 and an error at its line, not an abort', () => {
  const trace = join(mkdtempSync(join(tmpdir(), 'orphanmap-heap-')), 'forks.txt');
  writeFileSync(trace, forkingTrace(2500, 2500));
  const result = spawnSync(process.execPath, [CLI, 'analyze', trace], {
    encoding: 'utf8',
    timeout: 100_000,
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
  });
  expect(result.signal, result.stderr.slice(0, 2000)).toBeNull();
  expect(result.stderr).not.toContain('FATAL ERROR');
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(
    new RegExp(`^orphanmap: ${trace}:\\d+: error: the trace's processes hold more open fds and live mappings than orphanmap can follow: \\d+ MiB of its \\d+ MiB heap are in use`),
  );
  // The line is one of the forks': the opens alone fit.
  const line = Number(new RegExp(`${trace}:(\\d+):`).exec(result.stderr)![1]);
  expect(line).toBeGreaterThan(2501);
  expect(line).toBeLessThanOrEqual(5001);
});

it('the same trace with fewer forks is analyzed under the same heap', () => {
  const trace = join(mkdtempSync(join(tmpdir(), 'orphanmap-heap-')), 'forks.txt');
  writeFileSync(trace, forkingTrace(2500, 100));
  const result = spawnSync(process.execPath, [CLI, 'analyze', trace], {
    encoding: 'utf8',
    timeout: 100_000,
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
  });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^orphanmap: no mapping outlived its file/);
});
