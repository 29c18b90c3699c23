// Review 28 (attack), F1: orphanmap.bt reads a call's name at its exit
// without faulting the page that holds it in, and a traced process can drop
// that page meanwhile: bpftrace prints the name of a successful unlink
// empty. The kernel removes no name "" (ENOENT), so such a record is a name
// the script could not read; it was taken for an unlink of "", and a 64 MiB
// leak read as clean. Now such a call is a blind spot: the verdict is
// undecided and --fail-on refuses a clean one.
//
// The bundle is a real capture of the attack (test/fixtures/review28-unread-name,
// README.md there); the truth is the program's own word in its stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review28-unread-name');
const BUNDLE = join(FIXTURE, 'bundle');

describe('a bpftrace record of a successful call whose name the script could not read (review 28, attack F1)', () => {
  it('makes the verdict undecided, names the call, and --fail-on error exits 2', () => {
    // The program's word: its unlink succeeded and the mapping lived on, deleted.
    expect(readFileSync(join(FIXTURE, 'program-stderr.txt'), 'utf8')).toMatch(/^bthide: unlink -> 0; 64 MiB of victim3 mapped at 0x[0-9a-f]+, deleted$/m);
    // The record the script printed for it: a success with no name.
    const trace = readFileSync(join(BUNDLE, 'trace.txt'), 'utf8').split('\n');
    expect(trace[153]).toMatch(/ unlink sys=unlink ret=0 .* path= [0-9a-f]{16}$/);

    const report = JSON.parse(runCli(['analyze', BUNDLE, '--format', 'json']).stdout) as { findings: unknown[]; summary: { undecided: string | null }; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.summary.undecided).toContain(`unlink at ${join(BUNDLE, 'trace.txt')}:154 succeeded with a name bpftrace could not read`);
    expect(report.warnings.some((warning) => warning.includes('a process can make that read fail'))).toBe(true);
    const gate = runCli(['analyze', BUNDLE, '--fail-on', 'error']);
    expect(gate.status).toBe(2);
    expect(gate.stderr).toContain('cannot tell that nothing leaked');
  });
});
