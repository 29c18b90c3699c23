// Golden tests: Markdown and Jira reports, and diff, on the bundled real
// traces. Regenerate on purpose with UPDATE_GOLDEN=1 and read the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { diffReports, formatDiff, DIFF_FORMATS } from '../src/report/diff.js';
import { formatReport } from '../src/report/formats.js';
import { buildReport, type Report } from '../src/report/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LEAKY = 'traces/f-o-ttt-T-y/trace.txt';
const FIXED = 'traces/fixed/trace.txt';

export function golden(name: string, actual: string): void {
  const path = join(root, 'test/golden', name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== '1' && process.env.CI) throw new Error(`missing golden file ${name}: run with UPDATE_GOLDEN=1`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `${name} differs; regenerate with UPDATE_GOLDEN=1 and read the diff`).toBe(readFileSync(path, 'utf8'));
}

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
