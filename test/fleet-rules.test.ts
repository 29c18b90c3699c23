// The shipped Prometheus rules, checked and unit-tested by the real promtool
// (Debian's prometheus package; .ci/run installs it): series that must fire
// and series that must not are in deploy/prometheus/orphanmap.rules.test.yml.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, requireTool } from './tools.js';

const DEPLOY = join(REPO, 'deploy', 'prometheus');
const RULES = join(DEPLOY, 'orphanmap.rules.yml');
const RULES_TEST = join(DEPLOY, 'orphanmap.rules.test.yml');

function promtool(args: string[], cwd = DEPLOY): { status: number; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

let scratch: string;

beforeAll(() => {
  requireTool('promtool');
  scratch = mkdtempSync(join(tmpdir(), 'orphanmap-fleet-rules-'));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** The rules and their tests in a scratch directory, the rules changed by `edit`. */
function mutated(edit: (rules: string) => string): string {
  const rules = readFileSync(RULES, 'utf8');
  const changed = edit(rules);
  expect(changed, 'the edit must change the rules').not.toBe(rules);
  const dir = mkdtempSync(join(scratch, 'mutant-'));
  writeFileSync(join(dir, 'orphanmap.rules.yml'), changed);
  copyFileSync(RULES_TEST, join(dir, 'orphanmap.rules.test.yml'));
  return dir;
}

describe('deploy/prometheus/orphanmap.rules.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS: 12 rules found');
  });

  it('passes its unit tests: the leaks fire, the steady and the benign series do not', () => {
    const { status, output } = promtool(['test', 'rules', RULES_TEST]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it("has an alert for each of the issue's conditions, with severity, summary and a runbook naming orphanmap capture --pid", () => {
    const rules = readFileSync(RULES, 'utf8');
    const alerts = [...rules.matchAll(/^ {6}- alert: (\w+)$/gm)].map((match) => match[1]);
    expect(alerts).toEqual(['OrphanmapDeletedMappingsGrowing', 'OrphanmapMapCountHeadroomLow', 'OrphanmapMapCountExhaustionPredicted', 'OrphanmapScanStale', 'OrphanmapScanDenied']);
    expect(rules).toContain('predict_linear(orphanmap_process_mappings[6h], 24 * 3600)');
    for (const block of rules.split(/^ {6}- alert: /m).slice(1)) {
      expect(block).toMatch(/^ {10}severity: (warning|critical)$/m);
      expect(block).toMatch(/^ {10}summary: /m);
      expect(block).toMatch(/^ {10}runbook: /m);
    }
    const leakRunbooks = rules.split(/^ {6}- alert: /m).slice(1, 4);
    for (const block of leakRunbooks) expect(block).toContain('orphanmap capture --pid {{ $labels.pid }}');
  });

  // The unit tests must bite: a rule that drifts from what they pin fails them.
  it.each([
    ['a growth threshold of 40 instead of 4', (rules: string) => rules.replace('growth1h >= 4', 'growth1h >= 40')],
    ['a headroom threshold of 5 % instead of 10 %', (rules: string) => rules.replace('ratio < 0.1', 'ratio < 0.05')],
    ['a 1-hour projection instead of 24 hours', (rules: string) => rules.replace('24 * 3600', '3600')],
    [
      'a runbook that forgets the pid',
      (rules: string) => rules.replace('orphanmap capture --pid {{ $labels.pid }} --backend bpftrace --duration 300', 'orphanmap capture --backend bpftrace --duration 300'),
    ],
  ])('fails its unit tests with %s', (_what, edit) => {
    const dir = mutated(edit);
    const { status, output } = promtool(['test', 'rules', 'orphanmap.rules.test.yml'], dir);
    expect(status, output).not.toBe(0);
    expect(output).toContain('FAILED');
  });
});

describe('deploy/prometheus/prometheus.example.yml', () => {
  it('passes promtool check config, rules included', () => {
    const { status, output } = promtool(['check', 'config', join(DEPLOY, 'prometheus.example.yml')]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS: 12 rules found');
  });
});
