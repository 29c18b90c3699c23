// One vocabulary in every view (issue #10, item 7): "held when unlinked",
// "still mapped at the end", "benign", with the same numbers in text,
// Markdown, Jira and the TUI. Expected values come from outside orphanmap:
// the bundled traces' own text and ground truth, and /proc/PID/maps of a real
// program this test traces.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { analyze } from '../src/ingest/analyze.js';
import { detailView } from '../src/tui/components/DetailPane.js';
import { formatReport } from '../src/report/formats.js';
import { buildReport, type Report } from '../src/report/report.js';
import { formatText } from '../src/report/text.js';
import { REPO, requireTool, STRACE_FILTER } from './support/tools.js';
import { waitFor } from './support/wait.js';

const LEAKY = join(REPO, 'traces/f-o-ttt-T-y/trace.txt');
const FIXED = join(REPO, 'traces/fixed/trace.txt');

/** The " (deleted)" lines a reproducer printed from its own /proc/self/maps, cut by this test's own rule. */
function groundTruth(name: string): { start: string; end: string; path: string; bytes: number }[] {
  return readFileSync(join(REPO, 'traces', name, 'ground-truth.txt'), 'utf8')
    .split('\n')
    .flatMap((line) => mapsDeleted(line));
}

function mapsDeleted(line: string): { start: string; end: string; path: string; bytes: number }[] {
  const match = /^([0-9a-f]+)-([0-9a-f]+) [rwxps-]{4} [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +(.+) \(deleted\)$/.exec(line);
  if (match === null) return [];
  return [{ start: `0x${match[1]}`, end: `0x${match[2]}`, path: match[3]!, bytes: parseInt(match[2]!, 16) - parseInt(match[1]!, 16) }];
}

async function reportOf(path: string): Promise<Report> {
  return buildReport(await analyze([path]));
}

/** Bytes as the reports print them, computed here rather than by orphanmap. */
function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function all(report: Report): { text: string; markdown: string; jira: string } {
  return {
    text: formatText(report),
    markdown: formatReport(report, 'markdown', { command: 'orphanmap analyze' }),
    jira: formatReport(report, 'jira', { command: 'orphanmap analyze' }),
  };
}

describe('the leaky JVM trace, whose process exited holding every orphan', () => {
  let report: Report;
  const truth = groundTruth('f-o-ttt-T-y');
  const traceText = readFileSync(LEAKY, 'utf8');
  beforeAll(async () => {
    report = await reportOf(LEAKY);
  });

  it('the trace itself ends with the process exiting', () => {
    expect(traceText.trimEnd().split('\n').at(-1)).toMatch(/\+\+\+ exited with \d+ \+\+\+$/);
    expect(truth).toHaveLength(8);
  });

  it('says what was held when unlinked and, apart, that nothing is still mapped at the end', () => {
    const held = mib(truth.reduce((sum, mapping) => sum + mapping.bytes, 0));
    const { text, markdown, jira } = all(report);
    const headline = text.split('\n')[0]!;
    expect(headline).toContain(`${truth.length} mappings outlived their files in process`);
    expect(headline).toContain(`(${held} held when unlinked; still mapped at the end: none, ${truth.length} released when the process exited)`);
    expect(headline).not.toMatch(/of deleted files still mapped/);
    for (const view of [text, markdown, jira]) {
      expect(view).toContain(`${held} held when unlinked`);
      expect(view).not.toContain('deleted bytes held');
    }
    expect(text).toContain(`  findings: ${truth.length} unlinked-while-mapped (error), 8 remapped-without-unmap (warning), 1 benign`);
    expect(markdown).toContain(`| \`unlinked-while-mapped\` | error | ${truth.length} | ${held} | 0 |`);
  });
});

describe('the fixed JVM trace, whose only finding is the benign hsperfdata file', () => {
  it('counts it as benign, never as an error, in every format', async () => {
    const truth = groundTruth('fixed');
    expect(truth).toHaveLength(0);
    const hsperfdataUnlinks = readFileSync(FIXED, 'utf8')
      .split('\n')
      .filter((line) => /unlink(at)?\(.*hsperfdata_/.test(line));
    expect(hsperfdataUnlinks).toHaveLength(1);

    const report = await reportOf(FIXED);
    const { text, markdown, jira } = all(report);
    expect(text.split('\n')[0]).toBe('orphanmap: no mapping outlived its file; 1 benign (JVM hsperfdata at exit).');
    expect(text).toContain('  findings: 0 unlinked-while-mapped (error), 0 remapped-without-unmap (warning), 1 benign');
    expect(text).toMatch(/^BENIGN {2}F1 unlinked-while-mapped {2}pid \d+$/m);
    expect(markdown).toContain('| `unlinked-while-mapped` | error | 0 | 0 B | 0 |');
    expect(markdown).toContain('| `unlinked-while-mapped` | benign | 1 | 32.0 KiB | 0 |');
    expect(markdown).toMatch(/### F1 unlinked-while-mapped \(benign\), pid \d+/);
    expect(jira).toContain('|{{unlinked\\-while\\-mapped}}|benign|1|32.0 KiB|0|');
    for (const view of [text, markdown, jira]) expect(view).not.toMatch(/\(error\)[^\n]*\b1\b[^\n]*hsperf|1 unlinked-while-mapped \(error\)/);
  });
});

// ---- a real program, traced by attaching, still holding its orphans -------

const PROGRAM = join(import.meta.dirname, 'fixtures', 'report', 'cut-and-unlink.py');

interface Capture {
  pid: number;
  work: string;
  trace: string;
  /** The " (deleted)" lines of the program's maps, read by this test while it held them. */
  deleted: { start: string; end: string; path: string; bytes: number }[];
  child: ChildProcess;
}

let capture: Capture | undefined;

function deletedLines(pid: number): Capture['deleted'] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .flatMap((line) => mapsDeleted(line));
}

async function captureProgram(): Promise<Capture> {
  requireTool('python3');
  requireTool('strace');
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-vocabulary-'));
  const child = spawn('python3', [PROGRAM, work], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await waitFor('the program to start', () => stdout.includes('ready\n') || child.exitCode !== null, 20_000, 20);
  if (child.exitCode !== null) throw new Error(`cut-and-unlink.py exited early:\n${stdout}\n${stderr}`);
  const trace = join(work, 'trace.txt');
  const strace = spawn('strace', ['-f', '-ttt', '-T', '-y', '-e', `trace=${STRACE_FILTER}`, '-o', trace, '-p', String(child.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let straceErr = '';
  strace.stderr!.setEncoding('utf8').on('data', (chunk: string) => (straceErr += chunk));
  await waitFor('strace to attach', () => straceErr.includes('attached'), 20_000, 20);
  child.stdin!.write('go\n');
  await waitFor('the program to map, cut and unlink', () => stdout.includes('done\n') || child.exitCode !== null, 20_000, 20);
  if (child.exitCode !== null) throw new Error(`cut-and-unlink.py failed:\n${stdout}\n${stderr}`);
  const deleted = deletedLines(child.pid!);
  // strace detaches on SIGINT; the program goes on holding its mappings.
  const exited = new Promise((resolve) => strace.once('exit', resolve));
  strace.kill('SIGINT');
  await exited;
  return { pid: child.pid!, work, trace, deleted, child };
}

describe('a program traced by attaching, holding a cut and a whole orphan when the trace ends', () => {
  let report: Report;
  beforeAll(async () => {
    capture = await captureProgram();
    report = await reportOf(capture.trace);
  }, 60_000);
  afterAll(() => {
    capture?.child.kill('SIGKILL');
    if (capture !== undefined) rmSync(capture.work, { recursive: true, force: true });
  });

  it('/proc shows the cut file in two pieces and the whole one in one', () => {
    const c = capture!;
    expect(c.deleted.filter((line) => line.path === join(c.work, 'cut.bin'))).toHaveLength(2);
    expect(c.deleted.filter((line) => line.path === join(c.work, 'whole.bin'))).toHaveLength(1);
    expect(spawnSync('kill', ['-0', String(c.pid)]).status).toBe(0);
  });

  it('says both are still mapped at the end, with the bytes /proc showed', () => {
    const c = capture!;
    const bytes = c.deleted.reduce((sum, line) => sum + line.bytes, 0);
    const kib = `${(bytes / 1024).toFixed(1)} KiB`;
    const { text, markdown, jira } = all(report);
    expect(text.split('\n')[0]).toBe(`orphanmap: 2 mappings outlived their files in process ${c.pid} (${kib} held when unlinked; still mapped at the end: 2, ${kib}).`);
    expect(text).toContain(`  ${kib} held when unlinked; still mapped at the end: 2, ${kib}`);
    expect(markdown).toContain(`| \`unlinked-while-mapped\` | error | 2 | ${kib} | 2 (${kib}) |`);
    expect(jira).toContain(`|{{unlinked\\-while\\-mapped}}|error|2|${kib}|2 \\(${kib}\\)|`);
  });

  it('draws the pieces a partial munmap left, as /proc listed them, in every view', () => {
    const c = capture!;
    const pieces = c.deleted.filter((line) => line.path === join(c.work, 'cut.bin'));
    const ranges = `${pieces[0]!.start}-${pieces[0]!.end} and ${pieces[1]!.start}-${pieces[1]!.end}`;
    const bytes = pieces.reduce((sum, line) => sum + line.bytes, 0);
    const size = `${(bytes / 1024).toFixed(1)} KiB, ${bytes.toLocaleString('en-US')} bytes`;
    const cut = report.findings.find((finding) => finding.path === join(c.work, 'cut.bin'))!;
    expect(cut).toBeDefined();

    const { text, markdown, jira } = all(report);
    expect(text).toContain(`  mapping   ${ranges} (${size} still mapped in 2 pieces; the rest was unmapped or mapped over)`);
    expect(markdown).toContain(
      `| mapping | **${pieces[0]!.start}**-${pieces[0]!.end} and **${pieces[1]!.start}**-${pieces[1]!.end}, ${(bytes / 1024).toFixed(1)} KiB (${bytes.toLocaleString('en-US')} bytes), still mapped in 2 pieces; the rest was unmapped or mapped over |`,
    );
    expect(jira).toContain(`*${pieces[0]!.start}*\\-${pieces[0]!.end} and *${pieces[1]!.start}*\\-${pieces[1]!.end}`);
    const detail = detailView(cut, 200, 40, null)
      .summary.map((line) => line.text)
      .join('\n');
    expect(detail).toContain(`mapping   ${ranges} (${size} still mapped in 2 pieces; the rest was unmapped or mapped over)`);

    const whole = c.deleted.find((line) => line.path === join(c.work, 'whole.bin'))!;
    expect(text).toContain(`  mapping   ${whole.start}-${whole.end} (${(whole.bytes / 1024).toFixed(1)} KiB, ${whole.bytes.toLocaleString('en-US')} bytes)\n`);
  });

  it('never prints "null" where a value is missing', () => {
    const { text, markdown, jira } = all(report);
    for (const view of [text, markdown, jira]) expect(view).not.toMatch(/\bnull\b/);
  });
});

describe('a resize whose new address the trace did not give', () => {
  it('prints no "new mapping at null" in any view', () => {
    const findings: Finding[] = [
      {
        id: 'F1',
        kind: 'remapped-without-unmap',
        severity: 'warning',
        pid: 7,
        path: '/d/a.index',
        names: ['/d/a.index'],
        address: '0x7f0000000000',
        length: 8192,
        mappedAt: { file: 't', line: 1, time: null, tid: 7 },
        unlinkedAt: null,
        remappedAt: { file: 't', line: 2, time: null, tid: 7 },
        newAddress: null,
        resolution: 'still-mapped',
        resolvedAt: null,
        delayMs: null,
        confirmedByMaps: null,
        evidence: [],
        note: null,
      },
    ];
    const report: Report = {
      schema: 'orphanmap/report@1',
      inputs: [{ path: 't', format: 'strace', sha256: '0' }],
      summary: {
        lines: 2,
        events: 2,
        fileEvents: 2,
        mappingsInDoubt: 0,
        removedUnseen: 0,
        undecided: null,
        unparsedLines: 0,
        processes: 1,
        findings: { 'unlinked-while-mapped': 0, 'remapped-without-unmap': 1 },
      },
      unparsedSamples: [],
      findings,
      warnings: [],
      environment: null,
      mapsLines: {},
    };
    const { text, markdown, jira } = all(report);
    const detail = detailView(findings[0]!, 200, 40, null)
      .summary.map((line) => line.text)
      .join('\n');
    for (const view of [text, markdown, jira, detail]) {
      expect(view).not.toMatch(/null|new mapping at \?|new mapping \?/);
      expect(view).toMatch(/remapped|mapped again/);
    }
  });
});
