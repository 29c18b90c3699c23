// Review 22, F5: a bundle whose meta.json says its capture did not finish it
// (a full disk: "exitReason": "disk-full", "complete": false) may hold a trace
// that stops before the leak. Its analysis warned, but `analyze --fail-on
// error` exited 0 and `diff --fail-on error` read "fixed", exit 0: a CI gate
// passed a capture that proves nothing. Now both exit 2 once the report is
// written, naming the bundle and why.
// The bundle: traces/launched-late-snapshot's real capture (its leak at
// trace.txt:88, as its ground truth says), its trace cut before the mmap of
// that leak, as a full disk cuts it, and its meta.json saying so.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { REPO, runCli } from './support/tools.js';

const WHOLE = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
let cut = '';

beforeAll(() => {
  cut = join(workspace('unfinished'), 'bundle');
  cpSync(WHOLE, cut, { recursive: true });
  const lines = readFileSync(join(WHOLE, 'trace.txt'), 'utf8').split('\n');
  expect(lines[85]).toMatch(/ mmap\(/);
  writeFileSync(join(cut, 'trace.txt'), `${lines.slice(0, 80).join('\n')}\n`);
  const meta = JSON.parse(readFileSync(join(WHOLE, 'meta.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(cut, 'meta.json'), `${JSON.stringify({ ...meta, exitReason: 'disk-full', complete: false }, null, 2)}\n`);
});

describe('a bundle its capture did not finish, with no finding', () => {
  it('analyze --fail-on error: exit 2 after the report, which says why', () => {
    const out = join(workspace('unfinished-report'), 'report.txt');
    const run = runCli(['analyze', cut, '--fail-on', 'error', '--out', out]);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toBe(`orphanmap: error: the capture did not finish ${cut} (meta.json has "complete": false): its trace may stop early, so --fail-on error cannot tell that nothing leaked\n`);
    const report = readFileSync(out, 'utf8');
    // The headline says it too (review 23: it read "no mapping outlived its file.").
    expect(report.split('\n')[0]).toBe(
      `orphanmap: no mapping was seen to outlive its file, but the trace may miss some: the capture did not finish ${cut} (meta.json has "complete": false): its trace may stop early (see the warnings).`,
    );
    expect(report).toContain(`${cut}: the capture did not finish this bundle (meta.json has "complete": false): the trace may stop early`);
    // The whole capture fails it as its leak says.
    expect(runCli(['analyze', WHOLE, '--fail-on', 'error']).status).toBe(3);
  });

  it('diff --fail-on error with it as the after side: exit 2 after the diff, not "fixed" and 0', () => {
    const run = runCli(['diff', WHOLE, cut, '--fail-on', 'error']);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stdout).toContain('fixed: no mapping outlives its file after the change');
    expect(run.stdout).toContain("But the after side's analysis has 1 warning (below): read them before trusting the comparison.");
    expect(run.stderr).toBe(
      `orphanmap: error: the capture did not finish ${cut} (meta.json has "complete": false): its trace may stop early, so --fail-on error cannot tell that nothing leaks after the change\n`,
    );
    // As the before side it is no verdict's subject: the after side decides.
    expect(runCli(['diff', cut, WHOLE, '--fail-on', 'error']).status).toBe(3);
  });
});
