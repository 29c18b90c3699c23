// The ground-truth scenario suite: real programs (test/scenarios/) that map
// files and remove them the ways real software does, captured every way a
// user captures, with the truth read from /proc by an independent observer
// while the processes lived. orphanmap must report exactly the mappings the
// observer saw orphaned: one finding per mapping, the process (never a thread),
// the address and the bytes still mapped.
//
// Needs root, strace, bpftrace with tracefs, a JDK and /usr/bin/python3:
// .ci/run installs them all.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { requireTool, runCli } from './tools.js';
import { captureAttached, captureLaunched, compileJavaScenarios, killLeftovers, liveLaunched, straceAttached, straceLaunched, workspace, type Captured } from './scenarios/harness.js';

const PAGE = 4096;

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', 'javac', 'java', '/usr/bin/python3']) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('the scenario suite needs root: the observer reads /proc/PID/map_files and the tracers attach');
  compileJavaScenarios();
});

/**
 * Mappings as "pid P ADDRESS BYTES" with how often each occurs: an address
 * is reused by later mappings, so the comparison is of multisets.
 */
type Tally = Map<string, string[]>;

function tally(entries: Iterable<[string, string]>): Tally {
  const counts: Tally = new Map();
  for (const [key, what] of entries) counts.set(key, [...(counts.get(key) ?? []), what]);
  return counts;
}

/** A path under the driver's directory as SCENARIO/FILE. */
function shortPath(path: string, captured: Captured): string {
  const work = `${captured.dir}/w/`;
  return path.startsWith(work) ? path.slice(work.length) : path;
}

function truthTally(captured: Captured): Tally {
  return tally(captured.truth.leaks.map((leak) => [`pid ${leak.pid} ${leak.address} ${leak.bytes}`, `${leak.label}: ${shortPath(leak.path, captured)}`]));
}

function findingTally(findings: readonly Finding[], captured: Captured): Tally {
  const orphans = findings.filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.severity !== 'info');
  return tally(orphans.map((finding) => [`pid ${finding.pid} ${finding.address} ${Math.ceil(finding.length / PAGE) * PAGE}`, `${finding.id}: ${shortPath(finding.path, captured)}`]));
}

/**
 * What `a` has more often than `b`, with the names behind that mapping on both
 * sides: addresses are reused, so the one unmatched is the name one side lacks.
 */
function surplus(a: Tally, aName: string, b: Tally, bName: string): string[] {
  const out: string[] = [];
  for (const [key, whats] of a) {
    const others = b.get(key) ?? [];
    const extra = whats.length - others.length;
    if (extra > 0) out.push(`${key} x${extra}: ${aName} ${whats.length} (${whats.join(' | ')}), ${bName} ${others.length} (${others.join(' | ')})`);
  }
  return out;
}

function findingsOf(captured: Captured): Finding[] {
  if (captured.input === null) {
    // NDJSON: a finding is printed when decided and again when resolved; the last line wins.
    const byId = new Map<string, Finding>();
    for (const line of (captured.ndjson ?? '').split('\n')) {
      if (line.trim() === '') continue;
      const finding = JSON.parse(line) as Finding;
      byId.set(finding.id, finding);
    }
    return [...byId.values()];
  }
  const result = runCli(['analyze', captured.input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
}

function expectExact(captured: Captured): void {
  const truth = truthTally(captured);
  const reported = findingTally(findingsOf(captured), captured);
  const missed = surplus(truth, '/proc', reported, 'orphanmap');
  const extra = surplus(reported, 'orphanmap', truth, '/proc');
  const wrong = [...missed.map((line) => `\n  missed ${line}`), ...extra.map((line) => `\n  extra ${line}`)].join('');
  const looks = `truth from /proc: ${captured.truth.leaks.length} orphaned mappings in ${captured.truth.checkpoints} looks, kept in ${captured.dir}${wrong}`;
  expect({ missed, extra }, looks).toEqual({ missed: [], extra: [] });
  // The suite is not vacuous: every scenario that leaks was seen leaking.
  expect(captured.truth.leaks.length).toBeGreaterThanOrEqual(20);
}

afterEach(killLeftovers);

describe('every capture way matches /proc exactly', () => {
  it('strace -f -o, launched by hand', async () => {
    expectExact(await straceLaunched(workspace('strace-launched')));
  });

  it('strace -f -p, attached by hand to a process whose threads already run', async () => {
    expectExact(await straceAttached(workspace('strace-attached')));
  });

  it('orphanmap capture -- CMD with strace', async () => {
    expectExact(await captureLaunched(workspace('cap-strace'), 'strace'));
  });

  it('orphanmap capture --pid with strace', async () => {
    expectExact(await captureAttached(workspace('capp-strace'), 'strace'));
  });

  it('orphanmap live -- CMD without a terminal (NDJSON), strace', async () => {
    expectExact(await liveLaunched(workspace('live-strace'), 'strace'));
  });

  it('orphanmap capture -- CMD with bpftrace', async () => {
    expectExact(await captureLaunched(workspace('cap-bpf'), 'bpftrace'));
  });

  it('orphanmap capture --pid with bpftrace', async () => {
    expectExact(await captureAttached(workspace('capp-bpf'), 'bpftrace'));
  });
});
