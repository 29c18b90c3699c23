// Review 5, item 3: meta.json fields that orphanmap does not know were carried
// into the report's environment as they were, and one nested 5,000 deep
// overflowed the stack of the JSON writer: "internal error: Maximum call
// stack size exceeded", half a report on stdout. Now such a field (or a key of
// a thread) that nests more than 16 deep is left out, with a warning naming
// meta.json and the field; a shallow one is still carried through.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');

/** A copy of the real bundle, its meta.json's text changed by `change`. */
function bundleWith(change: (metaText: string) => string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv5-meta-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  const path = join(dir, 'meta.json');
  writeFileSync(path, change(readFileSync(path, 'utf8')));
  return dir;
}

/** `[[…[]…]]`, `depth` arrays deep. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** meta.json's text with a field added at its end, as the review's mkdeep.py does. */
const withField = (field: string, json: string) => (text: string) => `${text.trimEnd().slice(0, -1)}, ${JSON.stringify(field)}: ${json}}`;

interface JsonReport {
  warnings: string[];
  environment: Record<string, unknown> & { threads: Record<string, unknown>[] };
}

describe('a field of meta.json that orphanmap does not know, nested 5,000 deep', () => {
  it.each([
    ['"extra", at the top level (the review\'s mkdeep.py)', withField('extra', nested(5000)), 'extra'],
    ['"x", a key of a thread', (text: string) => text.replace('"comm":"python3"}', `"comm":"python3","x":${nested(5000)}}`), 'threads[0].x'],
  ])('%s: every format, report --out and diff run, leave it out and say so, naming meta.json and the field', (_, change, field) => {
    const dir = bundleWith(change);
    const warning = `${join(dir, 'meta.json')}: field ${JSON.stringify(field)}, which orphanmap does not know, nests arrays or objects more than 16 deep`;
    for (const format of ['json', 'ndjson', 'markdown', 'jira', 'text']) {
      const run = runCli(['analyze', dir, '--format', format]);
      expect(run.status, `${format}: ${run.stderr}`).toBe(0);
      expect(run.stderr).not.toMatch(/internal error/);
      if (format !== 'ndjson') expect(run.stdout).toContain(format === 'json' ? JSON.stringify(warning).slice(1, -1) : 'nests arrays or objects more than 16 deep');
    }
    const report = JSON.parse(runCli(['analyze', dir, '--format', 'json']).stdout) as JsonReport;
    expect(report.warnings.filter((text) => text.startsWith(warning))).toHaveLength(1);
    expect(report.environment).not.toHaveProperty('extra');
    expect(report.environment.threads).toEqual([{ tid: 2129, tgid: 2129, comm: 'python3' }]);

    const out = join(dir, '..', 'evidence');
    const evidence = runCli(['report', dir, '--out', out]);
    expect(evidence.status, evidence.stderr).toBe(0);
    expect(evidence.stderr).not.toMatch(/internal error/);
    for (const name of ['report.json', 'environment.json']) expect(readFileSync(join(out, name), 'utf8')).not.toContain('[[[[[[[[[[[[[[[[[');
    const diff = runCli(['diff', dir, REAL, '--format', 'json']);
    expect(diff.status, diff.stderr).toBe(0);
  });
});

describe('fields orphanmap does not know that nest no deeper than 16', () => {
  it('are carried into the environment as they are, 16 deep kept and 17 left out', () => {
    const note = { tool: 'x', args: [['a', 1], { b: null }] };
    const dir = bundleWith((text) =>
      withField('note', JSON.stringify(note))(withField('sixteen', nested(16))(withField('seventeen', nested(17))(text.replace('"comm":"python3"}', '"comm":"python3","cpu":[3]}')))),
    );
    const run = runCli(['analyze', dir, '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.environment.note).toEqual(note);
    expect(JSON.stringify(report.environment.sixteen)).toBe(nested(16));
    expect(report.environment).not.toHaveProperty('seventeen');
    expect(report.environment.threads).toEqual([{ tid: 2129, tgid: 2129, comm: 'python3', cpu: [3] }]);
    expect(report.warnings.filter((text) => text.includes('meta.json: field'))).toEqual([
      `${join(dir, 'meta.json')}: field "seventeen", which orphanmap does not know, nests arrays or objects more than 16 deep, as no capture writes: left out of the report's environment`,
    ]);
  });
});
