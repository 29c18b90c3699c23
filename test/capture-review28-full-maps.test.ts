// Review 28 (attack), F2 and F3: orphanmap.bt keeps each traced call's
// arguments in per-thread maps until its exit, and the traced processes in
// @track, 4,096 keys each (bpftrace's default BPFTRACE_MAP_KEYS_MAX). A full
// map takes no new key, and bpftrace says nothing: 4,200 threads waiting
// inside open() of a FIFO, or 4,200 idle children, and the next leak was not
// in the trace at all; the verdict was clean. The script now reads each such
// insert back, and prints a blind record (sys=stash, sys=track) when it did
// not take: the verdict is undecided, and --fail-on refuses a clean one.
//
// A real C program (test/scenarios/full-bpftrace-maps.c), both modes under
// one `capture --backend bpftrace`; the truth is its own word on stderr,
// with what its /proc/self/maps showed after each unlink.
//
// Needs root, cc and bpftrace.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const CROWD = 4200;

let program = '';
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review28-full-maps.test.ts must run as root (bpftrace)');
  requireTool('cc');
  requireTool('bpftrace');
  program = join(workspace('full-maps-build'), 'full-bpftrace-maps');
  execFileSync('cc', ['-O2', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'full-bpftrace-maps.c')], { stdio: 'pipe' });
});

describe("bpftrace's maps full (review 28, attack F2 and F3)", () => {
  it(`capture --backend bpftrace: ${CROWD} threads inside a call, then ${CROWD} children, each before a leak: blind records, undecided, never clean`, () => {
    const work = workspace('full-maps');
    const threads = join(work, 'threads');
    const children = join(work, 'children');
    mkdirSync(threads);
    mkdirSync(children);
    const bundle = join(work, 'bundle');
    const log = join(work, 'program.log');
    const script = `"${program}" threads "${threads}" ${CROWD} 2>>"${log}" && "${program}" children "${children}" ${CROWD} 2>>"${log}"`;
    const capture = runCli(['capture', '--backend', 'bpftrace', '--out', bundle, '--', '/bin/sh', '-c', script]);
    expect(capture.status, capture.stderr).toBe(0);

    // The program's word: both leaks made, each shown deleted by its own maps.
    const said = readFileSync(log, 'utf8');
    for (const dir of [threads, children]) expect(said).toMatch(new RegExp(`^leaked ${dir}/leak at 0x[0-9a-f]+, unlink -> 0, deleted lines 1$`, 'm'));
    // The script's word: a stash that did not fit, and a child it could not track.
    const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8');
    expect(trace).toMatch(/ blind sys=stash ret=0$/m);
    expect(trace).toMatch(/ blind sys=track ret=0 child=\d+$/m);

    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: { path: string }[]; summary: { undecided: string | null } };
    expect(report.summary.undecided).toMatch(/bpftrace's maps were full/);
    // Neither leak's calls are in the trace (the main thread's stashes did not fit; the leaking child was never tracked).
    expect(trace).not.toContain(`${threads}/leak`);
    expect(trace).not.toContain(`${children}/leak`);
    expect(report.findings).toEqual([]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  }, 240_000);
});
