// Review 33 (exactness), 5: a pid used twice in one strace -ff capture.
// strace -ff opens PREFIX.<pid> anew for each process of that pid (without
// -A): the first one's life, a leak in it, was in no file, and the set read
// as clean, with no word of it, though the parent's file shows the pid
// returned twice. The set now says which file lost a life. With -A (append)
// both lives are in the file, and the leak is found.
//
// A real shell script (test/scenarios/pid-reuse.sh) under the real strace,
// in a pid namespace of its own, where ns_last_pid gives the second process
// the first one's pid; the truth is the first process's own /proc/self/maps
// after its file was removed.
//
// Needs root (unshare -p, ns_last_pid) and strace.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/strace-review33-ff-pid-reuse.test.ts must run as root (unshare -p, ns_last_pid)');
  requireTool('strace');
  requireTool('unshare');
  requireTool(PYTHON);
});

/** The script under `strace -ff -tt -y` (and `extra`), in a pid namespace of its own: the set's files, and the truth. */
function traced(extra: string[]): { files: string[]; first: { pid: number; deleted: string[] }; second: number; prefix: string } {
  const top = realpathSync(workspace('ff-pid-reuse'));
  const work = join(top, 'w');
  const prefix = join(top, 't');
  const run = spawnSync('unshare', ['-p', '-f', '--mount-proc', 'strace', '-ff', ...extra, '-tt', '-y', '-o', prefix, 'sh', join(REPO, 'test', 'scenarios', 'pid-reuse.sh'), work, PYTHON], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const files = readdirSync(top)
    .filter((name) => name.startsWith('t.'))
    .map((name) => join(top, name));
  return { files, first: JSON.parse(readFileSync(join(work, 'A.json'), 'utf8')), second: Number(readFileSync(join(work, 'B.pid'), 'utf8')), prefix };
}

it('strace -ff: a pid used again, its file opened anew: the set says the first life is not in it', () => {
  const { files, first, second, prefix } = traced([]);
  // The programs' word: the first process held f deleted; the second had its pid.
  expect(first.deleted).toEqual([expect.stringMatching(/\/w\/f \(deleted\)$/)]);
  expect(second).toBe(first.pid);
  const report = JSON.parse(runCli(['analyze', ...files, '--format', 'json']).stdout) as { findings: unknown[]; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.warnings).toContainEqual(
    expect.stringMatching(
      new RegExp(`^${prefix}\\.${first.pid} holds only the last of the threads that had tid ${first.pid}: .*the first one's calls \\(and any mapping it leaked\\) are not in the analysis`),
    ),
  );
}, 90_000);

it('strace -ff -A: both lives in the file: the leak is found, and nothing is said lost', () => {
  const { files, first, second } = traced(['-A']);
  expect(second).toBe(first.pid);
  const report = JSON.parse(runCli(['analyze', ...files, '--format', 'json']).stdout) as { findings: { pid: number; address: string; path: string }[]; warnings: string[] };
  const [range, path] = first.deleted[0]!.split(' ');
  expect(report.findings.map((finding) => [finding.pid, finding.address, finding.path])).toEqual([[first.pid, `0x${range!.split('-')[0]}`, path!.replace(/ \(deleted\)$/, '')]]);
  expect(report.warnings.filter((warning) => warning.includes('holds only the last'))).toEqual([]);
}, 90_000);
