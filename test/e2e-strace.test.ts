// End to end under the real strace: run the JVM reproducer, analyze the trace
// with the real CLI, and match the ground truth the JVM printed from
// /proc/self/maps just before it exited.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { parseGroundTruth, reportedOrphans } from './support/ground-truth.js';
import { compileReproducer, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

let classes: string;

beforeAll(() => {
  requireTool('strace');
  requireTool('java');
  classes = compileReproducer();
});

function traceReproducer(mode: 'leaky' | 'fixed', straceFlags: string[]): { trace: string; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), `orphanmap-e2e-${mode}-`));
  const trace = join(dir, 'trace.txt');
  const result = spawnSync(
    'strace',
    [...straceFlags, '-o', trace, '-e', `trace=${STRACE_FILTER}`, 'java', '-cp', classes, 'IndexLifecycle', '--mode', mode, '--threads', '3', '--segments', '2', '--dir', join(dir, 'logs')],
    { encoding: 'utf8', timeout: 90_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  return { trace, stdout: result.stdout };
}

describe('the JVM reproducer under real strace', () => {
  it('leaky mode: every (deleted) mapping in /proc/self/maps is reported, and nothing else', () => {
    const { trace, stdout } = traceReproducer('leaky', ['-f', '-ttt', '-T', '-y']);
    const truth = parseGroundTruth(stdout);
    expect(truth.length).toBe(12); // 3 threads × 2 segments × (.index + .timeindex)
    const result = runCli(['analyze', trace, '--format', 'json', '--fail-on', 'error']);
    expect(result.status).toBe(3);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { unparsedLines: number } };
    expect(reportedOrphans(report.findings)).toEqual(truth);
    expect(report.findings.filter((f) => f.kind === 'remapped-without-unmap')).toHaveLength(12);
    expect(report.summary.unparsedLines).toBe(0);
  });

  it("fixed mode: nothing but the JVM's benign hsperfdata file", () => {
    const { trace, stdout } = traceReproducer('fixed', ['-f', '-tt']);
    expect(parseGroundTruth(stdout)).toEqual([]);
    const result = runCli(['analyze', trace, '--format', 'json', '--fail-on', 'warning']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Finding[] };
    expect(report.findings.map((f) => f.severity)).toEqual(['info']);
  });
});
