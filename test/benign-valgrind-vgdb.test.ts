// Review 15 (R4, 9): valgrind maps its file for vgdb
// (/tmp/vgdb-pipe-shared-mem-vgdb-PID-by-USER-on-HOST) and unlinks it as the
// program under it exits, without unmapping it: /proc shows the mapping
// "(deleted)" until the process is gone. It was reported as an error; like the
// JVM's hsperfdata it is valgrind's own idiom, now benign under its own rule
// when valgrind removes it itself. A file of that name removed by another
// process stays an error.
//
// Real valgrind under real strace. The truth that the mapping does outlive the
// file: /proc/PID/maps read while valgrind's exit_group is held back by
// strace's fault injection. Needs strace and valgrind (.ci/run installs it).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const VGDB = /\/vgdb-pipe-shared-mem-vgdb-\d+-by-[^/]*-on-[^/]*$/;

beforeAll(() => {
  for (const tool of ['strace', 'valgrind']) requireTool(tool);
});

function analyze(input: string): Finding[] {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}

describe('R4-9: valgrind unlinks its vgdb file at exit without unmapping it', () => {
  it('/proc shows the mapping "(deleted)" while valgrind exits: the pattern is real', async () => {
    const dir = workspace('vgdb-truth');
    const program = join(dir, 'vg.pid');
    // exit_group is held back 3 s at its entry: valgrind has unlinked the file by then, and still maps it.
    const traced = spawn(
      'strace',
      ['-f', '-qq', '-e', 'trace=exit_group', '-e', 'inject=exit_group:delay_enter=3000000', '-o', '/dev/null', 'sh', '-c', `echo $$ > ${program}; exec valgrind --quiet /bin/true`],
      {
        stdio: 'ignore',
      },
    );
    const done = exited(traced);
    let pid = 0;
    await waitFor(
      'valgrind to start',
      () => {
        try {
          pid = Number(readFileSync(program, 'utf8').trim());
        } catch {
          return false;
        }
        return pid > 0;
      },
      20_000,
    );
    let deleted: string[] = [];
    await waitFor(
      'valgrind to unlink its vgdb file while it maps it',
      () => {
        let maps = '';
        try {
          maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
        } catch {
          return true;
        }
        deleted = maps.split('\n').filter((line) => line.endsWith(' (deleted)') && VGDB.test(line.slice(0, -' (deleted)'.length)));
        return deleted.length > 0;
      },
      20_000,
    );
    expect(deleted).toHaveLength(1);
    expect((await done).code).toBe(0);
  }, 40_000);

  it('in the trace: the finding is benign, under the rule that names it, and nothing else is an error', () => {
    const dir = workspace('vgdb');
    const input = join(dir, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-y', '-o', input, 'valgrind', '--quiet', '/bin/true'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const findings = analyze(input);
    const vgdb = findings.filter((finding) => VGDB.test(finding.path));
    expect(vgdb.map((finding) => [finding.kind, finding.severity, finding.benign, finding.resolution])).toEqual([['unlinked-while-mapped', 'info', 'valgrind vgdb file at exit', 'process-exited']]);
    expect(findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
  }, 60_000);

  it('the same name removed by another process is an error', () => {
    // A stand-in for a /tmp cleaner: its unlink is in the trace, after valgrind mapped the file and before it exits.
    const dir = workspace('vgdb-cleaner');
    const input = join(dir, 'trace.txt');
    // Valgrind makes the file in $TMPDIR (the test run's own: test/global-setup.ts), /tmp without one. Looked for 10 s at most.
    const script =
      'd=$TMPDIR; [ -n "$d" ] || d=/tmp; valgrind --quiet sleep 3 & vg=$!; for i in $(seq 200); do ls "$d"/vgdb-pipe-shared-mem-vgdb-$vg-* >/dev/null 2>&1 && break; sleep 0.05; done; ' +
      'sleep 0.5; rm -f "$d"/vgdb-pipe-shared-mem-vgdb-$vg-*; wait $vg';
    const run = spawnSync('strace', ['-f', '-ttt', '-y', '-o', input, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const vgdb = analyze(input).filter((finding) => VGDB.test(finding.path));
    expect(vgdb.map((finding) => [finding.kind, finding.severity, finding.benign])).toEqual([['unlinked-while-mapped', 'error', undefined]]);
  }, 60_000);
});
