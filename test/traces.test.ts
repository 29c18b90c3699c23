// Golden tests on traces/: every real trace, whatever strace flags made it,
// reports exactly the ground truth the JVM printed from /proc/self/maps.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { parseGroundTruth, reportedOrphans } from './support/ground-truth.js';

const TRACES = join(import.meta.dirname, '..', 'traces');
// The JVM reproducer's captures (stdout.txt holds its pid and ground truth);
// the other traces are read by exactness-regressions.test.ts.
const names = readdirSync(TRACES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(TRACES, d.name, 'stdout.txt')))
  .map((d) => d.name);

function inputsOf(name: string): string[] {
  const dir = join(TRACES, name);
  const files = readdirSync(dir);
  if (files.includes('meta.json')) return [dir];
  const ff = files.filter((file) => /^trace\.\d+$/.test(file));
  return ff.length > 0 ? ff.map((file) => join(dir, file)) : [join(dir, 'trace.txt')];
}

describe.each(names)('traces/%s', (name) => {
  const truth = parseGroundTruth(readFileSync(join(TRACES, name, 'ground-truth.txt'), 'utf8'));

  it('reports exactly the (deleted) mappings of the ground truth, none resolved unmapped', async () => {
    const analysis = await analyze(inputsOf(name));
    expect(reportedOrphans(analysis.engine.findings())).toEqual(truth);
    expect(analysis.unparsedLines).toBe(0);
  });

  it('names the JVM by the pid it printed, whatever the prefix shape (stderr traces start without one)', async () => {
    const pid = Number(/^pid=(\d+)$/m.exec(readFileSync(join(TRACES, name, 'stdout.txt'), 'utf8'))![1]);
    const findings = (await analyze(inputsOf(name))).engine.findings();
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => f.pid))).toEqual(new Set([pid]));
  });

  it('reports one remapped-without-unmap per leaked mapping, and the hsperfdata file as benign', async () => {
    const findings = (await analyze(inputsOf(name))).engine.findings();
    const orphans = findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.severity !== 'info');
    const remaps = findings.filter((f) => f.kind === 'remapped-without-unmap');
    expect(remaps.map((f) => f.address).sort()).toEqual(orphans.map((f) => f.address).sort());
    for (const orphan of orphans) expect(orphan.names[0]).toMatch(/\.(time)?index$/);
    const benign = findings.filter((f) => f.severity === 'info');
    expect(benign).toHaveLength(1);
    expect(benign[0]!.path).toMatch(/\/hsperfdata_[^/]+\/\d+$/);
  });
});

describe('modes', () => {
  it('fixed mode reports nothing but the benign hsperfdata file', async () => {
    const findings = (await analyze(inputsOf('fixed'))).engine.findings();
    expect(findings.map((f) => f.severity)).toEqual(['info']);
  });

  it('after a GC the orphans are resolved unmapped with a measured delay', async () => {
    const findings = (await analyze(inputsOf('gc'))).engine.findings();
    const orphans = findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.severity === 'error');
    expect(orphans.length).toBeGreaterThan(0);
    for (const orphan of orphans) {
      expect(orphan.resolution).toBe('unmapped');
      expect(orphan.delayMs).toBeGreaterThan(0);
    }
  });

  it('the same findings whichever strace flags made the trace', async () => {
    // Paths differ only by the work directory and the JVM's pid.
    const shape = async (name: string) =>
      (await analyze(inputsOf(name))).engine
        .findings()
        .map((f) => `${f.kind} ${f.severity} ${f.resolution} ${f.length} ${f.path.replace(/.*\/topic-/, 'topic-').replace(/hsperfdata_root\/\d+/, 'hsperfdata')}`)
        .sort();
    const reference = await shape('f-o-ttt-T-y');
    for (const name of ['f-stderr-tt', 'ff-ttt', 'f-o-tt-yy-Y', 'seccomp', 'unfiltered', 'relative-r']) {
      expect(await shape(name), name).toEqual(reference);
    }
  });
});
