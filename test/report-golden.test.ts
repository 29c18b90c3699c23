// Golden tests: the CLI's report in every format, with and without --redact,
// and diff, on the bundled real traces. The reports are the built CLI's
// output (the path where redaction once ran twice), not a formatter called
// directly. A golden file is never written by a test run: regenerate on
// purpose with `npm run test:update-golden` and read the diff.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { diffReports, formatDiff, DIFF_FORMATS } from '../src/report/diff.js';
import { formatReport } from '../src/report/formats.js';
import { buildReport, type Report } from '../src/report/report.js';
import { golden, UPDATE_GOLDEN } from './support/golden.js';
import { CLI, REPO } from './support/tools.js';

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

const EXTENSIONS = { text: 'txt', json: 'json', ndjson: 'ndjson', markdown: 'md', jira: 'jira' } as const;

/** `orphanmap analyze [--redact] --format F traces/…/trace.txt` from the repo root: the command a golden shows under "how to reproduce". */
function cliReport(format: keyof typeof EXTENSIONS, redact: boolean): string {
  const result = spawnSync(process.execPath, [CLI, 'analyze', ...(redact ? ['--redact'] : []), '--format', format, LEAKY], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe('orphanmap analyze on the leaky Kafka-index reproducer', () => {
  for (const format of Object.keys(EXTENSIONS) as (keyof typeof EXTENSIONS)[]) {
    for (const redact of [false, true]) {
      it(`matches the golden ${format} report${redact ? ', redacted' : ''}`, () => {
        golden(`leaky${redact ? '.redacted' : ''}.${EXTENSIONS[format]}`, cliReport(format, redact));
      });
    }
  }
});

describe('ticket reports on the leaky Kafka-index reproducer', () => {
  let leaky: Report;
  beforeAll(async () => {
    leaky = await reportOf(LEAKY);
  });
  it('names the Kafka tickets and the resize signature', () => {
    const markdown = formatReport(leaky, 'markdown', { command: 'orphanmap analyze' });
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
