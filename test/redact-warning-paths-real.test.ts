// --redact and the paths a warning names. redactText finds a path in free
// text by its shape, and a bare path ends at a space: a warning naming
// `/tmp/…/acme corp secret/sleeper` came out as `/…/<hash>` then `corp` and
// `<hash>/<hash>`, the customer's name in clear. Each warning's paths are now
// replaced whole, hashed as a finding's path is (redactPath), in every output.
//
// The truth is a real process (test/scenarios/secret-dir-warnings.py) under
// `orphanmap capture --pid`, working in a directory named `acme corp secret`:
// a program it runs loses its last name (a warning), a file it maps loses the
// name it was mapped by but keeps a hard link (maps-end.txt's "(deleted)"
// line of a file the capture found linked: a warning), and a file it maps is unlinked
// (a finding, whose path shares the directory's hash with the warnings').
//
// Needs root (strace attaches to a process that is not its child) and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { redaction, redactPath } from '../src/report/redact.js';
import { buildReport } from '../src/report/report.js';
import { reportForFinding } from '../src/tui/export.js';
import { attachStrace, PYTHON } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'secret-dir-warnings.py');
/** Each word of the directory's name: none may be in a redacted output. */
const SECRET_WORDS = ['acme', 'corp', 'secret'];

interface Truth {
  secret: string;
  deleted: { address: string; bytes: number; path: string }[];
  sleeper: string[];
}

let work: string;
let bundle: string;
let truth: Truth;
let holder: ChildProcess | null = null;

/** The paths the warnings and the finding name. */
const sleeper = () => join(truth.secret, 'sleeper');
const held = () => join(truth.secret, 'held.index');
const orders = () => join(truth.secret, 'orders-3', '00000000000000001000.index');

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('test/redact-warning-paths-real.test.ts must run as root: strace attaches to a process that is not its child');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-redact-warnings-'));
  bundle = join(work, 'bundle');
  holder = spawn(PYTHON, [PROGRAM, join(work, 'truth.json')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  const pid = holder.pid!;
  const capture = await attachStrace(pid, bundle);
  holder.stdin!.write('go\n');
  expect(await next()).toBe('done');
  // Stopped while the program lives: maps-end.txt is its /proc/PID/maps now.
  const result = await capture.stop();
  expect(result.code, result.stderr).toBe(130);
  holder.stdin!.end();
  truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
}, 90_000);

afterAll(() => {
  holder?.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Markdown and Jira escape punctuation with a backslash: taken out before looking for paths. */
const unescaped = (text: string) => text.replace(/\\([^A-Za-z0-9\s])/g, '$1');

function expectNoSecretWord(text: string, where: string): void {
  for (const word of SECRET_WORDS) expect(text.toLowerCase().includes(word), `"${word}" in ${where}:\n${text}`).toBe(false);
}

/** `paths` hashed as redactPath hashes them (the directory by one hash, computed here): both warnings' and the finding's unless said. */
function expectHashedWhole(text: string, where: string, paths = [sleeper(), held(), orders()]): void {
  const directory = createHash('sha256').update('acme corp secret').digest('hex').slice(0, 8);
  expect(redactPath(truth.secret).endsWith(`/${directory}`)).toBe(true);
  for (const path of paths) expect(text, `${path} in ${where}`).toContain(redactPath(path));
}

describe('--redact of warnings that name paths with spaces, from a real capture', () => {
  it('without --redact: the warnings name the replaced program and the deleted-printed file a hard link keeps, and the unlinked file is a finding (what the redaction is tested on)', () => {
    // The truth: /proc showed each of them "(deleted)".
    expect(truth.sleeper.length).toBeGreaterThan(0);
    for (const line of truth.sleeper) expect(line.endsWith(` ${sleeper()} (deleted)`), line).toBe(true);
    expect(truth.deleted.map((mapping) => mapping.path).sort()).toEqual([held(), orders()].sort());
    const analyzed = runCli(['analyze', bundle, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as { findings: { path: string; address: string }[]; warnings: string[] };
    const heldAt = truth.deleted.find((mapping) => mapping.path === held())!.address;
    const ordersAt = truth.deleted.find((mapping) => mapping.path === orders())!.address;
    expect(report.findings.map((finding) => `${finding.path} ${finding.address}`)).toEqual([`${orders()} ${ordersAt}`]);
    expect(report.warnings.filter((warning) => warning.includes(` runs ${sleeper()} (execve at `))).toHaveLength(1);
    expect(report.warnings.filter((warning) => warning.includes('though another name kept it') && warning.endsWith(`: ${held()} at ${heldAt}`))).toHaveLength(1);
  });

  for (const format of ['text', 'json', 'ndjson', 'markdown', 'jira'] as const) {
    it(`analyze --redact --format ${format}: no word of the directory's name, and each path hashed whole, as the finding's is`, () => {
      const analyzed = runCli(['analyze', bundle, '--redact', '--format', format]);
      expect(analyzed.status, analyzed.stderr).toBe(0);
      // NDJSON's warnings are on stderr.
      const output = unescaped(`${analyzed.stdout}\n${analyzed.stderr}`);
      expectNoSecretWord(output, format);
      expectHashedWhole(output, format);
      expect(output).toContain(` runs ${redactPath(sleeper())} (execve at `);
      // The message's own words are no path of the host's: left readable.
      expect(output).toContain('/proc/PID/maps shows the program (deleted) until');
    });
  }

  it('report --out --redact: no file of the evidence directory has a word of the directory name; its report.json hashes each path whole', () => {
    const out = join(work, 'evidence');
    const written = runCli(['report', bundle, '--redact', '--out', out]);
    expect(written.status, written.stderr).toBe(0);
    expectNoSecretWord(written.stderr, 'report’s stderr');
    const files = readdirSync(out);
    expect(files).toContain('report.json');
    for (const name of files) expectNoSecretWord(readFileSync(join(out, name), 'utf8'), name);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { findings: { path: string }[]; warnings: string[] };
    expect(report.findings.map((finding) => finding.path)).toEqual([redactPath(orders())]);
    expectHashedWhole(report.warnings.join('\n'), 'report.json’s warnings', [sleeper(), held()]);
    expect(readFileSync(join(out, 'maps-end.txt'), 'utf8')).toContain(`${redactPath(held())} (deleted)`);
  });

  it("the TUI's export (e), given the run's redaction and the analysis as analyze --tui gives them: the warnings' paths hashed whole", async () => {
    const analysis = await analyze([bundle]);
    const [finding] = analysis.engine.findings();
    const report = await reportForFinding(finding!, {
      command: '',
      redaction: redaction(true, [bundle]),
      report: () => buildReport(analysis),
      warningPaths: () => analysis.warningPaths,
    });
    const text = JSON.stringify(report.warnings);
    expectNoSecretWord(text, 'the export’s warnings');
    expectHashedWhole(text, 'the export’s warnings', [sleeper(), held()]);
  });
});
