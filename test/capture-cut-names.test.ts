import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { captureProgram, PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'cut-names.py');

interface Truth {
  pid: number;
  base: string;
  checkpoints: { label: string; deleted: SelfMapsDeleted[] }[];
}

interface Report {
  summary: { mappingsInDoubt: number };
  findings: Finding[];
  warnings: string[];
}

/** `orphanmap capture --backend B --out DIR/bundle -- python3 cut-names.py`, run in a workspace of its own. */
function captured(backend: 'strace' | 'bpftrace'): { truth: Truth; bundle: string; trace: string[] } {
  const { truth, bundle } = captureProgram<Truth>(realpathSync(workspace(`cut-${backend}`)), backend, PROGRAM);
  return { truth, bundle, trace: readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n') };
}

function analyze(bundle: string): Report {
  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

/** What /proc showed deleted at a step, as `address bytes path`. */
function deletedAt(truth: Truth, label: string): string[] {
  const checkpoint = truth.checkpoints.find((entry) => entry.label === label);
  if (checkpoint === undefined) throw new Error(`no checkpoint ${label}`);
  return checkpoint.deleted.map((entry) => `${entry.address} ${entry.bytes} ${entry.path}`).sort();
}

function leakOf(truth: Truth, suffix: string): SelfMapsDeleted {
  const found = truth.checkpoints.at(-1)!.deleted.find((entry) => entry.path === truth.base + suffix);
  if (found === undefined) throw new Error(`no leak of ${suffix}`);
  return found;
}

/** 1-based numbers of the trace lines with `text`, and of the marker the program opened after each step. */
const linesWith = (trace: string[], text: string): number[] => trace.flatMap((line, index) => (line.includes(text) ? [index + 1] : []));

/** The one line with `text` between the markers of the steps before and after it. */
function stepLine(trace: string[], text: string, before: string, after: string): number {
  const [from] = linesWith(trace, before);
  const [to] = linesWith(trace, after);
  const found = linesWith(trace, text).filter((line) => line > from! && line < to!);
  expect(found, `${text} between ${before} and ${after}`).toHaveLength(1);
  return found[0]!;
}

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

/** The truth, the same for every run: nothing deleted until .timeindex goes, then .snapshot with it. */
function checkTruth(truth: Truth): void {
  expect(Buffer.byteLength(truth.base)).toBe(200);
  for (const label of ['mapped', 'log', 'index']) expect(deletedAt(truth, label), label).toEqual([]);
  const timeindex = leakOf(truth, '.timeindex');
  const snapshot = leakOf(truth, '.snapshot');
  expect(deletedAt(truth, 'timeindex')).toEqual([`${timeindex.address} 8192 ${truth.base}.timeindex`]);
  expect(deletedAt(truth, 'ftruncate')).toEqual([`${timeindex.address} 8192 ${truth.base}.timeindex`]);
  expect(deletedAt(truth, 'snapshot')).toEqual([`${snapshot.address} 8192 ${truth.base}.snapshot`, `${timeindex.address} 8192 ${truth.base}.timeindex`].sort());
}

describe('review 2, D4: names bpftrace cut at BPFTRACE_STRLEN', () => {
  // One capture (bpftrace takes 8-25 s to start).
  let truth: Truth;
  let bundle = '';
  let trace: string[] = [];
  beforeAll(() => {
    ({ truth, bundle, trace } = captured('bpftrace'));
  }, 150_000);

  it('ties no unlink by a cut name to a file: the mapping whose file lost its names is found by the ftruncate that shows it with none, with no unlink', () => {
    checkTruth(truth);
    // Every path of the four files printed as the same 199 bytes.
    const cut = truth.base.slice(0, 199);
    // (Those of the steps up to .snapshot's: the trash step's come after.)
    const [snapshotMark] = linesWith(trace, 'path=mark-snapshot');
    const unlinks = linesWith(trace, ' unlink sys=').filter((line) => line < snapshotMark!);
    expect(unlinks).toHaveLength(4);
    // (The capture's key follows each path.)
    for (const line of unlinks) expect(trace[line - 1]!.replace(/ [0-9a-f]{16}$/, '').endsWith(` path=${cut}`), trace[line - 1]).toBe(true);
    const logUnlink = stepLine(trace, ' unlink sys=', 'path=mark-mapped', 'path=mark-log');
    const indexUnlink = stepLine(trace, ' unlink sys=', 'path=mark-log', 'path=mark-index');
    const timeindexUnlink = stepLine(trace, ' unlink sys=', 'path=mark-index', 'path=mark-timeindex');
    const snapshotUnlink = stepLine(trace, ' unlink sys=', 'path=mark-ftruncate', 'path=mark-snapshot');
    const ftruncate = stepLine(trace, ' ftruncate fd=', 'path=mark-timeindex', 'path=mark-ftruncate');
    expect(trace[ftruncate - 1]).toMatch(/ nlink=0$/);

    const report = analyze(bundle);
    const orphans = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
    // Not the error of the review: an unlink of .log (line `logUnlink`) is no file's that is mapped.
    expect(orphans.map((finding) => finding.unlinkedAt?.line ?? null)).not.toContain(logUnlink);
    // .timeindex, by the ftruncate that showed it with no name left: where /proc shows it, and no unlink named.
    const timeindex = leakOf(truth, '.timeindex');
    expect(orphans.map((finding) => `${finding.pid} ${finding.address} ${finding.length}`)).toEqual([`${truth.pid} ${timeindex.address} 8192`]);
    const [found] = orphans;
    expect(found!.severity).toBe('error');
    expect(found!.unlinkedAt).toBeNull();
    expect(found!.path).toBe(cut);
    expect(found!.note).toContain(`The ftruncate at ${join(bundle, 'trace.txt')}:${ftruncate} shows it with no name left (link count 0)`);
    // The unlinks that may have removed its last name: every one by a cut name while it was mapped, up to the ftruncate.
    expect(found!.note).toContain(`names cut alike at ${[logUnlink, indexUnlink, timeindexUnlink].map((line) => `${join(bundle, 'trace.txt')}:${line}`).join(', ')} may have removed`);
    expect(report.findings.filter((finding) => finding.kind === 'remapped-without-unmap')).toEqual([]);

    // .snapshot lost its names too (/proc), with no later call to show it: the warning names its mapping and the unlinks, and says why.
    const warning = report.warnings.find((text) => text.startsWith('bpftrace cut paths at the length it prints (BPFTRACE_STRLEN), and a name it cut is tied to no file'));
    expect(warning, report.warnings.join('\n')).toBeDefined();
    const snapshot = leakOf(truth, '.snapshot');
    expect(warning).toContain(`process ${truth.pid}'s of ${cut} at ${snapshot.address}`);
    expect(warning).toContain(`${join(bundle, 'trace.txt')}:${snapshotUnlink}`);
    // .timeindex's doubt became its finding.
    expect(warning).not.toContain(timeindex.address);
    // .snapshot is deleted in /proc with no finding: the report counts it in doubt, and its headline says so.
    expect(report.summary.mappingsInDoubt).toBeGreaterThanOrEqual(1);
    const text = runCli(['analyze', bundle]).stdout.split('\n')[0]!;
    expect(text).toMatch(/^orphanmap: 1 mapping outlived its file in process \d+ \(.*\); \d+ more mappings? (is|are) in doubt \(/);
  });

  it('review 55, H2: a mapped file whose directory was moved (renamed to a cut name or to a whole one, held by an fd or not, swapped, named with a trailing slash), then removed by rmtree through an fd of it, is in doubt', () => {
    const trashed = truth.checkpoints.at(-1)!.deleted.filter((entry) => /\/j+$/.test(entry.path));
    expect(trashed.map((entry) => entry.path.split('/').at(-2)!.slice(0, 6)).sort()).toEqual(['trash2', 'trash3', 'trash4', 'trash5', 'xxxxxx']);
    // rmtree's unlinks name each file by its last component, through an fd of its directory.
    const byFd = linesWith(trace, ' unlink sys=unlinkat').filter((line) => / dfd=\d+ flags=0x0 .* path=j+ /.test(trace[line - 1]!));
    expect(byFd).toHaveLength(5);
    const report = analyze(bundle);
    const warning = report.warnings.find((text) => text.startsWith('bpftrace cut paths at the length it prints (BPFTRACE_STRLEN), and a name it cut is tied to no file')) ?? '';
    // None is a finding (nothing shows its link count), and each is in doubt: the warning names five, and counts the others.
    expect(report.findings.filter((finding) => trashed.some((entry) => entry.address === finding.address))).toEqual([]);
    const named = trashed.filter((entry) => warning.includes(` at ${entry.address} `));
    expect(named.length).toBeGreaterThanOrEqual(4);
    // .snapshot's doubt, and one for each.
    expect(report.summary.mappingsInDoubt).toBe(1 + trashed.length);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).not.toBe(0);
  });

  it('review 21: a trace whose only leak bpftrace cut the name of is no pass for --fail-on (exit 2 after the report), nor a clean headline', () => {
    // The capture's own lines up to the checkpoint after .timeindex's unlink: /proc then showed it deleted, and
    // nothing in the trace tells that unlink from the one of .log, which was never mapped.
    expect(deletedAt(truth, 'timeindex')).toHaveLength(1);
    const timeindex = leakOf(truth, '.timeindex');
    const [marker] = linesWith(trace, 'path=mark-timeindex');
    const dir = workspace('cut-early');
    const early = join(dir, 'trace.txt');
    writeFileSync(early, `${trace.slice(0, marker).join('\n')}\n`);

    const out = join(dir, 'report.json');
    const run = runCli(['analyze', early, '--format', 'json', '--out', out, '--fail-on', 'error']);
    expect(run.status, run.stderr).toBe(2);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped')).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBeGreaterThanOrEqual(1);
    expect(report.warnings.find((text) => text.startsWith('bpftrace cut paths'))).toContain(timeindex.address);
    expect(run.stderr).toMatch(
      new RegExp(`^orphanmap: error: ${report.summary.mappingsInDoubt} mappings? (is|are) in doubt \\(.*; the report's warnings name each\\), so --fail-on error cannot tell that nothing leaked\n$`),
    );
    expect(runCli(['analyze', early]).stdout.split('\n')[0]).toMatch(/^orphanmap: no mapping was seen to outlive its file, but \d+ mappings? (is|are) in doubt \(/);
  });
});

describe('review 2, D4: the same program under strace, which prints whole paths', () => {
  it('finds both leaks /proc shows, each with its own unlink', () => {
    const { truth, bundle, trace } = captured('strace');
    checkTruth(truth);
    const report = analyze(bundle);
    const orphans = report.findings
      .filter((finding) => finding.kind === 'unlinked-while-mapped')
      .map((finding) => {
        const unlink = trace[finding.unlinkedAt!.line - 1]!;
        // rmtree's, of the trash step, through an fd of the directory, by the last component.
        const named = unlink.includes(`unlink("${finding.path}")`) || unlink.includes(`, "${finding.path.split('/').at(-1)}", 0) = 0`);
        return `${finding.address} ${finding.length} ${finding.path} ${named}`;
      })
      .sort();
    expect(orphans).toEqual(deletedAt(truth, 'trash').map((line) => `${line} true`));
    expect(orphans).toHaveLength(7);
    expect(report.warnings.filter((text) => text.startsWith('bpftrace cut paths'))).toEqual([]);
  });
});
