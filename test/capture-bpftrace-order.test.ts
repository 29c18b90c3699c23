// Review 1, D-B: bpftrace 0.17 prints each CPU's records in order but may
// print one CPU's seconds after another's; the reader merges the CPUs'
// streams by time (src/parse/bpftrace-reorder.ts). One real capture of
// test/scenarios/busy-orphans.c, three threads making and orphaning small
// mappings on both CPUs, attached with `capture --pid`; the truth is the
// bundle's maps-end.txt, read while the program lived and mapped nothing more.
// How late bpftrace prints a CPU depends on the machine's load, so the same
// real records are also re-printed with one CPU's held back for seconds, as
// bpftrace does when it drains a buffer late, and must give the same result.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_INTERRUPTED } from '../src/errors.js';
import type { Finding } from '../src/engine/findings.js';
import { exited, startBusyOrphans, workspace } from './scenarios/harness.js';
import { deletedMappingsIn } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const THREADS = 3;
const WORK_SECONDS = 6;
/** bpftrace's per-CPU streams are put in order within this much by the old fixed window: a test must go past it. */
const OLD_WINDOW_NS = 250_000_000n;

interface Report {
  findings: Finding[];
  warnings: string[];
}

function analyze(input: string): Report {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** `address path` of each unlinked-while-mapped finding still mapped at the end. */
function stillMapped(report: Report): string[] {
  return report.findings
    .filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.resolution === 'still-mapped')
    .map((finding) => `${finding.address} ${finding.path}`)
    .sort();
}

/** Findings called benign ("mapped with no name left", when a mapping's call is applied after a later unlink): the program has no benign idiom. */
const benign = (report: Report) => report.findings.filter((finding) => finding.benign !== undefined);

/** A record line: `<key> <ns> <cpu> <tgid> <tid> <event> …` (the key: format 2). */
const RECORD = /^(?:[0-9a-f]{16} )?(\d+) (\d+) \d+ \d+ [a-z_.]+/;

/** How many records came after one of another CPU printed more than `byNs` later, and the most by which one did. */
function lateness(lines: string[], byNs: bigint): { late: number; maxNs: bigint } {
  let newest = 0n;
  let late = 0;
  let maxNs = 0n;
  for (const line of lines) {
    const head = RECORD.exec(line);
    if (head === null || line.endsWith(' end')) continue;
    const ns = BigInt(head[1]!);
    if (newest - ns > byNs) late++;
    if (newest - ns > maxNs) maxNs = newest - ns;
    if (ns > newest) newest = ns;
  }
  return { late, maxNs };
}

/**
 * The capture's lines printed again as bpftrace prints a CPU it drained late:
 * each CPU's records keep their order, and CPU `held`'s records from the
 * middle half of the trace (by count) come out only after every other CPU's records up to
 * the end of that half. The lines before the first record and after the last
 * (bpftrace's own, the end line) stay where they were.
 */
function holdBack(lines: string[], held: string): string[] {
  const isRecord = (line: string) => RECORD.test(line) && !line.endsWith(' end');
  const firstAt = lines.findIndex(isRecord);
  const lastAt = lines.findLastIndex(isRecord);
  const records = lines.slice(firstAt, lastAt + 1);
  // The program's paths hold no newline: every line between the first record and the last is one.
  expect(records.every(isRecord)).toBe(true);
  const timeOf = (line: string) => BigInt(RECORD.exec(line)![1]!);
  // By count, not time: the records of the program's work, not of its wait before it.
  const from = timeOf(records[Math.floor(records.length / 4)]!);
  const to = timeOf(records[Math.floor((records.length * 3) / 4)]!);
  const heldBack = (line: string) => RECORD.exec(line)![2] === held && timeOf(line) >= from && timeOf(line) < to;
  const waiting = records.filter(heldBack);
  const reprinted: string[] = [];
  let released = false;
  for (const line of records) {
    if (!released && timeOf(line) >= to) {
      reprinted.push(...waiting);
      released = true;
    }
    if (!heldBack(line)) reprinted.push(line);
  }
  if (!released) reprinted.push(...waiting);
  return [...lines.slice(0, firstAt), ...reprinted, ...lines.slice(lastAt + 1)];
}

describe('review 1, D-B: bpftrace prints its CPUs out of step', () => {
  let dir = '';
  let bundle = '';
  let program: ChildProcess | null = null;
  let done: string[] = [];

  beforeAll(async () => {
    requireTool('bpftrace');
    requireTool('cc');
    dir = realpathSync(workspace('order'));
    const started = startBusyOrphans(dir, WORK_SECONDS, THREADS);
    program = started.program;
    const { go, doneFile } = started;
    bundle = join(dir, 'bundle');
    const capture = spawn(process.execPath, [CLI, 'capture', '--pid', String(program.pid), '--backend', 'bpftrace', '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    const captured = exited(capture);
    // meta.json is first written once the tracer has attached.
    await waitFor('capture --pid to attach', () => existsSync(join(bundle, 'meta.json')), 60_000);
    writeFileSync(go, '');
    await waitFor('the program to finish its work', () => existsSync(doneFile), 30_000);
    // The program maps nothing more: stop the capture, which reads maps-end.txt while it waits.
    capture.kill('SIGTERM');
    const result = await captured;
    expect(result.code, result.stderr).toBe(EXIT_INTERRUPTED);
    done = readFileSync(doneFile, 'utf8').split('\n');
  }, 120_000);

  afterAll(() => {
    if (program !== null && program.exitCode === null) program.kill('SIGKILL');
  });

  it('reports, under the right names, exactly the orphaned mappings maps-end.txt shows, and calls none benign', () => {
    const truth = deletedMappingsIn(readFileSync(join(bundle, 'maps-end.txt'), 'utf8'), join(dir, 'w', 'd'));
    // The program's own record of its mappings at the end says the same.
    expect(deletedMappingsIn(done.slice(2).join('\n'), join(dir, 'w', 'd'))).toEqual(truth);
    expect(truth.length).toBeGreaterThan(1000);
    const trace = readFileSync(join(bundle, 'trace.txt'), 'latin1').split('\n');
    // Both CPUs carried records, and some came out of order (how late depends on the load).
    const cpus = new Set(trace.flatMap((line) => (RECORD.test(line) ? [RECORD.exec(line)![2]!] : [])));
    expect(cpus.size).toBeGreaterThan(1);
    expect(lateness(trace, 0n).late).toBeGreaterThan(0);

    const report = analyze(bundle);
    expect(stillMapped(report)).toEqual(truth);
    expect(benign(report)).toEqual([]);
    expect(report.warnings.filter((text) => text.includes('too late'))).toEqual([]);
  });

  it('gives the same answer when one CPU’s records of seconds come out after the others’', () => {
    const truth = deletedMappingsIn(readFileSync(join(bundle, 'maps-end.txt'), 'utf8'), join(dir, 'w', 'd'));
    const trace = readFileSync(join(bundle, 'trace.txt'), 'latin1').split('\n');
    for (const held of ['0', '1']) {
      const reprinted = holdBack(trace, held);
      // Nothing lost or made up: the same lines, only CPU `held`'s moved.
      expect([...reprinted].sort()).toEqual([...trace].sort());
      const { late, maxNs } = lateness(reprinted, OLD_WINDOW_NS);
      expect(late).toBeGreaterThan(1000);
      expect(maxNs).toBeGreaterThan(1_000_000_000n);
      // A copy of the bundle with the lines re-printed: read with its maps, as the capture itself is
      // (maps-end.txt explains what bpftrace printed no record of, the same in both).
      const copy = join(dir, `held-cpu${held}`);
      cpSync(bundle, copy, { recursive: true });
      writeFileSync(join(copy, 'trace.txt'), reprinted.join('\n'), 'latin1');
      const report = analyze(copy);
      expect(stillMapped(report), `CPU ${held} held back`).toEqual(truth);
      expect(benign(report)).toEqual([]);
      expect(report.warnings.filter((text) => text.includes('too late'))).toEqual([]);
    }
  });
});
