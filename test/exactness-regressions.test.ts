// Issue #10's items 1-3, each on the real trace that reproduced it (traces/,
// each with its COMMAND and the truth its program read from /proc).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { REPO, runCli } from './support/tools.js';

const TRACES = join(REPO, 'traces');

function findingsOf(args: string[]): Finding[] {
  const result = runCli(['analyze', ...args, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.severity !== 'info');
}

/** `7f38d5233000-7f38d5237000 rw-s …` → ["0x7f38d5233000", 16384] */
function rangeOf(mapsLine: string): [string, number] {
  const [start, end] = mapsLine
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16)) as [number, number];
  return [`0x${start.toString(16)}`, end - start];
}

describe('a launched capture whose maps-start.txt was read after the leak', () => {
  const dir = join(TRACES, 'launched-late-snapshot');
  // "pid 2129 deleted 7f38d5233000-7f38d5237000 rw-s … /tmp/ls/w/seg.index (deleted)"
  const truth = readFileSync(join(dir, 'ground-truth.txt'), 'utf8').trim();
  const pid = Number(/^pid (\d+)/.exec(truth)![1]);
  const [address, bytes] = rangeOf(truth.replace(/^pid \d+ deleted /, ''));

  it('the snapshot does hold the mapping the trace makes (the case reproduced)', () => {
    expect(readFileSync(join(dir, 'bundle', 'maps-start.txt'), 'utf8')).toContain(`${address.slice(2)}-`);
  });

  it('reports the mapping once, unmapped', () => {
    const findings = findingsOf([join(dir, 'bundle')]);
    expect(findings.map((finding) => [finding.pid, finding.address, finding.length, finding.resolution])).toEqual([[pid, address, bytes, 'unmapped']]);
  });

  it('reports it once too from an older bundle that does not say it was launched', () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'orphanmap-old-bundle-')), 'bundle');
    cpSync(join(dir, 'bundle'), copy, { recursive: true });
    const meta = JSON.parse(readFileSync(join(copy, 'meta.json'), 'utf8')) as Record<string, unknown>;
    delete meta.mode;
    writeFileSync(join(copy, 'meta.json'), JSON.stringify(meta));
    expect(findingsOf([copy]).map((finding) => finding.address)).toEqual([address]);
  });
});

describe('strace -f -p attached by hand to a process whose threads ran before the attach', () => {
  const dir = join(TRACES, 'attach-threads');
  const truth = readFileSync(join(dir, 'ground-truth.txt'), 'utf8');
  const pid = Number(/^pid (\d+) ready/m.exec(truth)![1]);
  const leaked = truth
    .split('\n')
    .filter((line) => line.startsWith('deleted '))
    .map((line) => rangeOf(line.slice('deleted '.length)));

  it('names the process, not a thread, and a worker thread exit does not release the mappings', () => {
    const findings = findingsOf([join(dir, 'trace.txt')]);
    expect(leaked).toHaveLength(6);
    expect(findings.map((finding) => [finding.address, finding.length]).sort()).toEqual([...leaked].sort());
    for (const finding of findings) {
      expect(finding.pid).toBe(pid);
      // The main thread unmapped them a second after the workers had exited.
      expect(finding.resolution).toBe('unmapped');
      expect(finding.resolvedAt?.tid).toBe(pid);
    }
  });

  it('--pid with the process id reports every one of them', () => {
    expect(findingsOf([join(dir, 'trace.txt'), '--pid', String(pid)])).toHaveLength(6);
  });

  it('says what it assumed about threads seen without their clone', () => {
    const result = runCli(['analyze', join(dir, 'trace.txt'), '--format', 'json']);
    const report = JSON.parse(result.stdout) as { warnings?: string[] };
    expect(report.warnings?.join('\n')).toMatch(new RegExp(`taken as one process, pid ${pid}`));
  });
});

describe('partial munmaps and MAP_FIXED over a file mapping', () => {
  const dir = join(TRACES, 'partial-munmap');
  interface Leak {
    pid: number;
    address: string;
    bytes: number;
    path: string;
    pieces: [string, number][];
  }
  const truth = (JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as { leaks: Leak[] }).leaks;

  it('reports what was still mapped at the unlink: address, bytes and each piece', () => {
    const findings = findingsOf([join(dir, 'trace.txt')]).filter((finding) => finding.kind === 'unlinked-while-mapped');
    const seen = findings.map((finding) => ({
      pid: finding.pid,
      address: finding.address,
      bytes: Math.ceil(finding.length / 4096) * 4096,
      pieces: finding.ranges?.map((range) => [range.address, range.length]) ?? [[finding.address, Math.ceil(finding.length / 4096) * 4096]],
    }));
    const expected = truth.map((leak) => ({ pid: leak.pid, address: leak.address, bytes: leak.bytes, pieces: leak.pieces }));
    expect(truth.some((leak) => leak.pieces.length > 1)).toBe(true);
    expect(seen).toEqual(expected);
  });
});

describe('one time value per line (issue #10, item 6)', () => {
  it('every evidence line carries the time printed on that very line of the trace, resumed lines included', () => {
    const trace = join(TRACES, 'f-o-ttt-T-y', 'trace.txt');
    const lines = readFileSync(trace, 'utf8').split('\n');
    const result = runCli(['analyze', trace, '--format', 'json']);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    const evidence = findings.flatMap((finding) => finding.evidence);
    expect(evidence.some((line) => line.text.includes(' resumed>'))).toBe(true);
    for (const line of evidence) {
      expect(line.time, `${line.file}:${line.line}`).not.toBeNull();
      expect(lines[line.line - 1], `${line.file}:${line.line}`).toContain(` ${line.time!} `);
    }
  });
});
