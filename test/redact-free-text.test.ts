// --redact where a path stands in free text and holds spaces: an input named
// from a directory with spaces (in warnings, samples and "how to reproduce"),
// and a trace line cut inside a string argument (an unreadable line's sample).
// Nothing of the names may reach a redacted report, in any format or file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactPath, redactReport, redactText, redaction } from '../src/report/redact.js';
import { cutSampleText } from '../src/parse/events.js';
import type { Report } from '../src/report/report.js';
import { resizeLeakTrace } from './support/trace-text.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
const SECRET = /acme|corp|hidden|ledger/i;

let root: string;
let trace: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'om-redact-'));
  const dir = join(root, 'acme corp traces');
  mkdirSync(dir);
  trace = join(dir, 'trace.txt');
  // A leak in a directory with a space, then a line cut inside its path argument (strace killed mid-line).
  const leak = resizeLeakTrace(['orders-3'], { dirOf: () => '/data/acme corp' });
  // An unknown marker (its reason quotes it), then a line cut inside its path argument (strace killed mid-line).
  const marker = '100 10:00:00.900000 +++ weird /data/hidden ledger/markers +++\n';
  writeFileSync(trace, `${leak}${marker}100 10:00:01.000000 openat(AT_FDCWD, "/data/hidden ledger/00000000000000000042.index`);
  // An strace -ff set whose clone's file is missing: messages name the set's files by joined paths.
  const ff = join(root, 'acme corp ff');
  mkdirSync(ff);
  const perThread = resizeLeakTrace(['t']).replace(/^100 /gm, '');
  writeFileSync(join(ff, 'trace.100'), `${perThread}10:00:01.000000 clone(child_stack=NULL, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 105\n`);
  writeFileSync(join(ff, 'trace.101'), '10:00:00.000001 close(5) = 0\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8' });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status };
}

describe('free text redacted', () => {
  it('hashes a string argument the line ends inside, to the end of the line, as its path would hash', () => {
    const line = '100 10:00:01.000000 openat(AT_FDCWD, "/data/hidden ledger/0.index';
    expect(redactText(line)).toBe(`100 10:00:01.000000 openat(AT_FDCWD, "${redactPath('/data/hidden ledger/0.index')}`);
  });

  it('hashes a string argument cut inside an escape, to the end of the line', () => {
    const line = '100 10:00:01.000000 openat(AT_FDCWD, "/data/hidden ledger/\\';
    expect(redactText(line)).toBe(`100 10:00:01.000000 openat(AT_FDCWD, "${redactPath('/data/hidden ledger/')}`);
  });

  it('keeps the note of a sample cut at its length, and hashes the string cut with it', () => {
    const cut = `100 10:00:01.000000 openat(AT_FDCWD, "/data/hidden ledger/${'x'.repeat(400)}`;
    const sample = cutSampleText(`${cut}${'y'.repeat(30)}`, 400);
    const report = { inputs: [], unparsedSamples: [{ file: 't', line: 1, text: sample, reason: 'bad' }], findings: [], warnings: [], environment: null, mapsLines: {} } as unknown as Report;
    const shown = redactReport(report).unparsedSamples[0]!.text;
    expect(shown).toMatch(new RegExp(`… \\(${cut.length + 30} characters\\)$`));
    expect(shown).not.toMatch(SECRET);
  });

  it('hashes a -y annotation the line ends inside, to the end of the line', () => {
    const line = '100 10:00:01.000000 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</data/hidden ledger.index';
    expect(redactText(line)).toBe(`100 10:00:01.000000 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3<${redactPath('/data/hidden ledger.index')}`);
  });

  it('hashes an input named with a space whole wherever it stands in a message', () => {
    const input = '/srv/acme corp/trace.txt';
    expect(redaction(true, [input]).text(`${input}: no -f: threads are not told apart`)).toBe(`${redactPath(input)}: no -f: threads are not told apart`);
  });
});

describe('an strace -ff set in a directory with spaces, named as a shell completes it', () => {
  it.each(['acme corp ff/', './acme corp ff', 'acme corp ff'])('analyze "%s" --redact names none of it', (name) => {
    const plain = cli('analyze', name, '--format', 'markdown');
    expect(plain.stdout).toMatch(/acme corp ff\/trace\.105? is missing|acme corp ff\/trace\.10\d/);
    for (const format of ['markdown', 'text', 'json']) {
      const run = cli('analyze', name, '--format', format, '--redact');
      expect(run.stdout.length).toBeGreaterThan(0);
      expect(run.stdout, format).not.toMatch(SECRET);
      expect(run.stderr, format).not.toMatch(SECRET);
    }
  });
});

describe('a redacted report of a trace with spaces in its names', () => {
  it('shows the trace has what the test needs: the names in the unredacted report', () => {
    const plain = cli('analyze', trace, '--format', 'json');
    const report = JSON.parse(plain.stdout);
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.unparsedSamples.length + report.warnings.length).toBeGreaterThan(0);
    expect(report.unparsedSamples.map((sample: { reason: string }) => sample.reason).join('\n')).toMatch(/hidden ledger/);
    expect(plain.stdout).toMatch(/hidden ledger/);
    expect(plain.stdout).toMatch(/acme corp/);
  });

  it.each(['json', 'text', 'markdown', 'jira', 'ndjson'])('--format %s --redact names none of them', (format) => {
    const run = cli('analyze', trace, '--format', format, '--redact');
    expect(run.stdout.length).toBeGreaterThan(0);
    expect(run.stdout).not.toMatch(SECRET);
    expect(run.stderr).not.toMatch(SECRET);
  });

  it('report --redact names none of them in any file', () => {
    const out = join(root, 'evidence');
    const run = cli('report', trace, '--redact', '--out', out);
    expect(run.status, run.stderr).toBe(0);
    const files = readdirSync(out);
    expect(files).toContain('report.md');
    for (const file of files) expect(readFileSync(join(out, file), 'utf8'), file).not.toMatch(SECRET);
    expect(run.stderr).not.toMatch(SECRET);
  });
});
