// --redact on bpftrace record lines. A record's path runs to the end of its
// line, blanks and all (docs/bpftrace-format.md), where free text ends a bare
// path at a blank: the fixture's `/tmp/omw/data dir/00000000.index` (a real
// capture, test/fixtures/bpftrace/README.md) was shown `/tmp/<omw>/<data>
// <dir>/…` in the evidence lines of Markdown, Jira and JSON reports and in
// `report --out`, so each word of a directory name with a blank had a hash of
// its own, none the finding's. Expected hashes are computed here with
// node:crypto (the first 8 hex digits of a component's SHA-256).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/tools.js';

const h = (component: string): string => createHash('sha256').update(component).digest('hex').slice(0, 8);
const TRACE = 'test/fixtures/bpftrace/python-segments.txt';
/** The directory as the fixture names it, redacted whole: /tmp is kept, `omw` and `data dir` hashed. */
const DIRECTORY = `/tmp/${h('omw')}/${h('data dir')}/`;
/** `data` and `dir` hashed as words of their own: what the redaction must never show. */
const SPLIT = new RegExp(`${h('data')}|${h('dir')}`);

describe('--redact of a bpftrace path with a blank in it', () => {
  for (const format of ['markdown', 'jira', 'json'] as const) {
    it(`analyze --format ${format}: every record's path hashed whole, as the finding's`, () => {
      const result = runCli(['analyze', TRACE, '--redact', '--format', format]);
      expect(result.status, result.stderr).toBe(0);
      const records = result.stdout.split('\n').filter((line) => line.includes(' path='));
      expect(records.length).toBeGreaterThan(0);
      expect(records.some((line) => line.includes(`path=${DIRECTORY}00000000.index`))).toBe(true);
      expect(result.stdout).not.toMatch(SPLIT);
    });
  }

  it('report --out: no file of the evidence directory has a word of the directory hashed alone', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-bt-redact-')), 'evidence');
    const result = runCli(['report', TRACE, '--redact', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(out, 'trace-lines.txt'), 'utf8')).toContain(`path=${DIRECTORY}`);
    for (const name of readdirSync(out)) expect(readFileSync(join(out, name), 'utf8'), name).not.toMatch(SPLIT);
  });
});
