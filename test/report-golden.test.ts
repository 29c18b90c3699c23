// Golden tests: Markdown and Jira reports, and diff, on the bundled real
// traces. A golden file is never written by a test run: regenerate on
// purpose with `npm run test:update-golden` and read the diff.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { diffReports, formatDiff, DIFF_FORMATS } from '../src/report/diff.js';
import { formatReport } from '../src/report/formats.js';
import { buildReport, type Report } from '../src/report/report.js';
import { golden, UPDATE_GOLDEN } from './support/golden.js';
import { REPO } from './support/tools.js';

const root = REPO;
const LEAKY = 'traces/f-o-ttt-T-y/trace.txt';
const FIXED = 'traces/fixed/trace.txt';

/** Inputs are named relative to the repo root, so golden output has no tmp paths. */
async function reportOf(path: string): Promise<Report> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    return buildReport(await analyze([path]));
  } finally {
    process.chdir(cwd);
  }
}

describe('ticket reports on the leaky Kafka-index reproducer', () => {
  let leaky: Report;
  beforeAll(async () => {
    leaky = await reportOf(LEAKY);
  });
  for (const format of ['markdown', 'jira'] as const) {
    const ext = format === 'markdown' ? 'md' : 'jira';
    it(`matches the golden ${format} report`, () => {
      golden(`leaky.${ext}`, formatReport(leaky, format, { redact: false, command: `orphanmap analyze --format ${format} ${LEAKY}` }));
    });
    it(`matches the golden redacted ${format} report`, () => {
      golden(`leaky.redacted.${ext}`, formatReport(leaky, format, { redact: true, command: `orphanmap analyze --redact --format ${format} ${LEAKY}` }));
    });
  }
  it('names the Kafka tickets and the resize signature', () => {
    const markdown = formatReport(leaky, 'markdown', { redact: false, command: 'orphanmap analyze' });
    expect(markdown).toContain('KAFKA-7442');
    expect(markdown).toContain('KAFKA-19390');
    expect(markdown).toMatch(/its size changed/);
    expect(markdown).toContain(leaky.inputs[0]!.sha256);
  });
});

describe('diff of the leaky and the fixed reproducer', () => {
  let leaky: Report;
  let fixed: Report;
  beforeAll(async () => {
    [leaky, fixed] = await Promise.all([reportOf(LEAKY), reportOf(FIXED)]);
  });
  for (const format of DIFF_FORMATS) {
    it(`matches the golden ${format} diff`, () => {
      golden(`diff-leaky-fixed.${format === 'markdown' ? 'md' : format === 'text' ? 'txt' : format}`, formatDiff(diffReports(leaky, fixed), format));
    });
  }
});

describe('golden files', () => {
  it.skipIf(UPDATE_GOLDEN)('a missing one fails the test and is not written', () => {
    expect(() => golden('no-such-report.md', '# nothing\n')).toThrow(/missing golden file test\/golden\/no-such-report\.md: create it with npm run test:update-golden/);
    expect(existsSync(join(REPO, 'test', 'golden', 'no-such-report.md'))).toBe(false);
  });
});
