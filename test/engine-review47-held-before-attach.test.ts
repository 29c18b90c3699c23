// Review 47, P1: `strace -p PID -f -y` by hand (no bundle, so no maps
// snapshot) of a SQLite process that had mapped its database before the
// attach and then deleted it while mapped: "no mapping outlived its file",
// no doubt, `--fail-on error` exit 0. The trace shows the unlink, and the
// process's fd of the file, opened before the trace, shown "(deleted)" at
// its close: the file may have been mapped before the trace. Now that
// mapping is in doubt (--fail-on exits 2); a removed file no fd showed held
// is not.
// Truth: the program's own /proc/self/maps line, read after its unlink.
//
// Needs strace.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { PYTHON, startScenario, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { requireTool, runCli, underStraceAttached } from './support/tools.js';
import { waitFor } from './support/wait.js';

const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

/**
 * held-before-attach.py DIR ARGS under `strace -p -y` by hand: `before` runs once attached, then the program is told
 * to go on, and the trace holds its close. The trace's path, the program's pid and its maps line of the file.
 */
async function tracedAttached(work: string, args: readonly string[], before = () => {}): Promise<{ trace: string; pid: number; mapsLine: string }> {
  const { program, pid, output } = await startScenario('held-before-attach.py', [join(work, 'w'), ...args], children);
  const trace = join(work, 'trace.txt');
  await underStraceAttached(pid, ['-y'], trace, children, async () => {
    before();
    program.stdin!.write('go\n');
    await waitFor("the program's maps line", () => output().split('\n').length > 2, 10_000);
    // Its close, after the maps line, in the trace too.
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  program.stdin!.end();
  return { trace, pid, mapsLine: output().split('\n')[1]! };
}

/** The trace's report, checked for what every case here shows (no finding, one mapping in doubt, --fail-on exits 2): the warnings of a file held open since before the trace. */
function heldOpenDoubts(trace: string): string[] {
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.findings).toEqual([]);
  expect(report.summary.mappingsInDoubt).toBe(1);
  expect(runCli(['analyze', trace, '--fail-on', 'error']).status).toBe(2);
  return report.warnings.filter((warning) => warning.includes('held open since before the trace'));
}

it.each([
  ['the process itself', []],
  ['a fork child, with its copy of the fd (review 49, D1)', ['child']],
] as const)(
  'a file held and mapped before the attach, unlinked in the trace by %s: in doubt, not clean',
  async (_by, extra) => {
    const work = workspace('review47-held');
    const directory = join(work, 'w');
    writeFileSync(join(directory, 'db.sqlite'), Buffer.alloc(8192, 'd'));
    writeFileSync(join(directory, 'other'), 'o');
    const { trace, pid, mapsLine } = await tracedAttached(work, extra);
    // The kernel's word: the mapping outlived the file's name.
    expect(mapsLine).toMatch(new RegExp(` ${join(directory, 'db.sqlite')} \\(deleted\\)$`));

    const told = heldOpenDoubts(trace);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(
      // The child's pid, when the child removed it and held its copy of the fd.
      new RegExp(
        `^the last name of ${join(directory, 'db.sqlite')} went at ${trace}:\\d+ \\(process ${extra.length === 0 ? pid : '\\d+'}\\), a file process ${extra.length === 0 ? pid : '\\d+'} held open since before the trace \\(fd \\d+\\)`,
      ),
    );
    expect(told[0]).not.toContain(join(directory, 'other'));
  },
  60_000,
);

// Review 64, F-3: the same, removed by a process the trace does not follow (an LMDB file `mdb_copy -c` and `mv`
// replaced): the trace shows only the fd's close, "(deleted)". Clean, exit 0, before; in doubt now.
it('a file held and mapped before the attach, removed by a process the trace does not follow: in doubt, not clean', async () => {
  const work = workspace('review64-held');
  const directory = join(work, 'w');
  const db = join(directory, 'db.sqlite');
  writeFileSync(db, Buffer.alloc(8192, 'd'));
  // Removed by this process, which the trace does not follow.
  const { trace, pid, mapsLine } = await tracedAttached(work, ['elsewhere'], () => unlinkSync(db));
  expect(mapsLine).toMatch(new RegExp(` ${db} \\(deleted\\)$`));

  const told = heldOpenDoubts(trace);
  expect(told).toHaveLength(1);
  expect(told[0]).toMatch(
    new RegExp(`^the last name of ${db} went where the trace does not show it \\(fd \\d+ shown "\\(deleted\\)" at ${trace}:\\d+\\), a file process ${pid} held open since before the trace`),
  );
}, 60_000);

// Code review 68, F1: every memfd prints "(deleted)": one made before strace -p and closed under it is no file that lost
// a name, and put a clean daemon (PulseAudio's pulse-shm) in doubt, exit 2.
it('a memfd made and mapped before the attach, closed in the trace: no doubt', async () => {
  const { trace, mapsLine } = await tracedAttached(workspace('review68-memfd'), ['memfd']);
  expect(mapsLine).toMatch(/ \/memfd:pulse-shm \(deleted\)$/);
  expect(readFileSync(trace, 'utf8')).toMatch(/close\(\d+<\/memfd:pulse-shm>\(deleted\)\)/);
  const report = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as { summary: { mappingsInDoubt: number }; warnings: string[] };
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(report.warnings.filter((warning) => warning.includes('pulse-shm'))).toEqual([]);
}, 60_000);
