// `orphanmap diff` exit status: 3 only when the after side still has findings
// at --fail-on; a side that is empty, /dev/null or not a trace is exit 2,
// never "fixed" (issue #11, item 8).
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDiff } from '../src/commands/diff.js';
import { EXIT_FINDINGS } from '../src/errors.js';
import { REPO, runCli } from './support/tools.js';

const LEAKY = join(REPO, 'traces/f-o-ttt-T-y/trace.txt');
const FIXED = join(REPO, 'traces/fixed/trace.txt');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-diff-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe('orphanmap diff --fail-on', () => {
  it('exits 0 when the fixed side has only benign findings', async () => {
    const out = join(scratch, 'benign.json');
    expect(await runDiff(LEAKY, FIXED, { format: 'json', failOn: 'warning', out })).toBe(0);
    // The leaky reproducer's 8 orphans are gone after the fix; the JVM's own hsperfdata file stays, benign.
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ before: { errors: 8, benign: 1 }, after: { errors: 0, warnings: 0, benign: 1 } });
  });

  it('exits 3 when the after side still leaks', async () => {
    const out = join(scratch, 'worse.txt');
    expect(await runDiff(FIXED, LEAKY, { format: 'text', failOn: 'error', out })).toBe(EXIT_FINDINGS);
    expect(readFileSync(out, 'utf8')).toMatch(/^orphanmap diff: worse/);
  });

  it('exits 0 without --fail-on', async () => {
    expect(await runDiff(FIXED, LEAKY, { format: 'markdown', out: join(scratch, 'worse.md') })).toBe(0);
  });
});

describe('a side that proves nothing is not "fixed"', () => {
  const empty = (): string => file('empty.txt', '');

  it.each([
    ['/dev/null as the after side', () => [LEAKY, '/dev/null'], '/dev/null'],
    ['an empty file as the after side', () => [LEAKY, empty()], join(scratch, 'empty.txt')],
    ['an empty file as the before side', () => [empty(), FIXED], join(scratch, 'empty.txt')],
  ] as const)('%s: exit 2 naming it, with or without --fail-on', (_, sides, named) => {
    for (const extra of [[], ['--fail-on', 'error']]) {
      const result = runCli(['diff', ...sides(), ...extra]);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`orphanmap: ${named}: error: empty input: no trace lines, so it cannot be compared (a diff needs a trace on both sides)\n`);
    }
  });

  it('random bytes as the after side: exit 2, binary data', () => {
    const garbage = file('garbage.bin', randomBytes(200_000));
    const result = runCli(['diff', LEAKY, garbage, '--fail-on', 'error']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^orphanmap: ${garbage}: error: not a syscall trace: it looks like binary data, not text`));
  });

  it('/etc/passwd as the after side: exit 2, text with no syscall lines', () => {
    const result = runCli(['diff', LEAKY, '/etc/passwd', '--fail-on', 'error']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^orphanmap: \/etc\/passwd: error: not a syscall trace: it looks like text with no syscall lines/);
  });
});

// Review 21 (F1): every warning of either side's analysis was dropped, so an after
// bundle that its capture never finished (a full disk) read "fixed", exit 0, silently.
describe('diff against an after bundle the capture did not finish', () => {
  it('lists the after side’s warnings, and its verdict says to read them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-diff-unfinished-'));
    const before = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
    const after = join(dir, 'after');
    cpSync(before, after, { recursive: true });
    // The capture's own record of a disk that filled: the trace cut, meta.json saying so.
    const trace = readFileSync(join(after, 'trace.txt'), 'utf8').split('\n');
    writeFileSync(join(after, 'trace.txt'), `${trace.slice(0, 40).join('\n')}\n`);
    const meta = JSON.parse(readFileSync(join(after, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(after, 'meta.json'), JSON.stringify({ ...meta, exitReason: 'disk-full', complete: false }));
    const analyzed = runCli(['analyze', after, '--format', 'json']);
    const warnings = (JSON.parse(analyzed.stdout) as { warnings: string[] }).warnings;
    expect(warnings).toContainEqual(expect.stringContaining('the capture did not finish this bundle (meta.json has "complete": false)'));

    const text = runCli(['diff', before, after]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/But the after side's analysis has \d+ warnings? \(below\): read them before trusting the comparison\.$/);
    for (const warning of warnings) expect(text.stdout).toContain(`  after: ${warning}`);
    const json = JSON.parse(runCli(['diff', before, after, '--format', 'json']).stdout) as { after: { analysisWarnings: string[] } };
    expect(json.after.analysisWarnings).toEqual(warnings);
    expect(runCli(['diff', before, after, '--format', 'markdown']).stdout).toContain('## Warnings');
  });
});
