// `orphanmap report` on a bundle captured here: `orphanmap capture --backend
// strace -- python3 leaker.py` records a program that maps files, resizes
// them, and deletes them while mapped (Kafka's resize signature). The
// evidence must hold the maps lines at the end, the environment from
// meta.json, a chart with the vm.max_map_count panel that rsvg-convert
// renders, and pass sha256sum -c; --redact must leave no path behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { CHART, CHART_COLORS } from '../src/evidence/chart.js';
import { CLI, requireTool } from './tools.js';
import { LEAKER, PYTHON, requireBuiltCli, requirePython } from './fixtures/fleet/harness.js';
import { columnShare, decodePng, rowShare } from './fixtures/fleet/png.js';

const LEAKS = 6;
const SIZE = 1 << 20;

let scratch: string;
let bundle: string;
let leaked: string[];

function orphanmap(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  requireTool('strace');
  requireTool('rsvg-convert');
  requirePython();
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-capture-'));
  bundle = join(scratch, 'bundle');
  const stdout = join(scratch, 'leaker.out');
  // The capture ends after 3 s: the leaker is done leaking by then and holds its mappings.
  const shell = `exec ${PYTHON} ${LEAKER} --dir ${join(scratch, 'leaker-files')} --count ${LEAKS} --interval 0.1 --size ${SIZE} --hold 60 > ${stdout}`;
  const capture = orphanmap(['capture', '--backend', 'strace', '--duration', '3', '--out', bundle, '--', 'sh', '-c', shell]);
  expect(capture.status, capture.stderr).toBe(0);
  leaked = readFileSync(stdout, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('leaked '))
    .map((line) => line.split(' ')[2]!);
  expect(leaked).toHaveLength(LEAKS);
}, 120_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('orphanmap report on a bundle captured with strace', () => {
  let dir: string;
  let meta: { pid: number; maxMapCount: number; mapCountEnd: number };

  beforeAll(() => {
    dir = join(scratch, 'evidence');
    const result = orphanmap(['report', bundle, '--out', dir]);
    expect(result.status, result.stderr).toBe(0);
    meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as typeof meta;
  });

  it('writes every file, maps-end.txt included, and passes sha256sum -c', () => {
    expect(readdirSync(dir).sort()).toEqual(['README.txt', 'SHA256SUMS', 'chart.svg', 'environment.json', 'maps-end.txt', 'report.jira', 'report.json', 'report.md', 'trace-lines.txt']);
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(8);
  });

  it('finds each leak as the leaker made it: unlinked while mapped, after a resize', () => {
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { findings: Finding[]; mapsLines: Record<string, string> };
    const orphans = report.findings.filter((f) => f.kind === 'unlinked-while-mapped');
    expect(orphans.map((f) => f.path).sort()).toEqual([...leaked].sort());
    expect(orphans.every((f) => f.pid === meta.pid && f.length === SIZE)).toBe(true);
    expect(report.findings.filter((f) => f.kind === 'remapped-without-unmap')).toHaveLength(LEAKS);
    // Each orphan, and the resize that explains it, has its mapping's line at the end.
    expect(orphans.every((f) => report.mapsLines[f.id]?.endsWith(`${f.path} (deleted)`))).toBe(true);
  });

  it('keeps the maps lines at the end that matter: the deleted files, as /proc printed them', () => {
    const lines = readFileSync(join(dir, 'maps-end.txt'), 'utf8').trimEnd().split('\n');
    const bundleLines = readFileSync(join(bundle, 'maps-end.txt'), 'utf8').split('\n');
    expect(lines).toHaveLength(LEAKS);
    for (const line of lines) {
      expect(bundleLines).toContain(line);
      expect(line).toMatch(/ \(deleted\)$/);
    }
    expect(lines.map((line) => line.split(/\s+/)[5]).sort()).toEqual([...leaked].sort());
  });

  it('gives the environment from meta.json', () => {
    const environment = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')) as { capture: Record<string, unknown> };
    expect(environment.capture).toMatchObject({ backend: 'strace', pid: meta.pid, comm: 'python3', maxMapCount: Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8')) });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(`| vm.max\\_map\\_count | ${meta.maxMapCount.toLocaleString('en-US')} |`);
  });

  it('has the trace lines of each leaked file', () => {
    const text = readFileSync(join(dir, 'trace-lines.txt'), 'utf8');
    expect(text.match(/^## /gm)).toHaveLength(LEAKS * 2);
    for (const path of leaked) {
      expect(text).toContain(`## file ${path} (earlier name: ${path.replace(/\.deleted$/, '')})`);
      expect(text).toContain(`unlink("${path}") = 0`);
    }
  });

  it('draws a chart that rsvg-convert renders: the leak rising to its peak, and vm.max_map_count with the map counts', () => {
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg).toContain(`peak ${LEAKS} (${LEAKS}.0 MiB)`);
    expect(svg).toContain(`vm.max_map_count ${meta.maxMapCount.toLocaleString('en-US')}`);
    const png = join(scratch, 'chart.png');
    const rendered = spawnSync('rsvg-convert', ['--format=png', '--output', png, join(dir, 'chart.svg')], { encoding: 'utf8' });
    expect(rendered.status, rendered.stderr).toBe(0);
    const picture = decodePng(readFileSync(png));
    expect([picture.width, picture.height]).toEqual([CHART.width, CHART.heightWithLimit]);
    const { left, right, top, bottom } = CHART.plot;
    expect(rowShare(picture, bottom, left, right, CHART_COLORS.axis)).toBeGreaterThan(0.95);
    expect(columnShare(picture, left, top, bottom, CHART_COLORS.axis)).toBeGreaterThan(0.95);
    // The count axis ends a step above the peak, at 8 for 6: the line sits at 6/8 of the height once the leaks are done.
    const peakY = Math.round(bottom - (LEAKS / 8) * (bottom - top));
    expect(rowShare(picture, peakY, Math.round((left + right) / 2), right - 4, CHART_COLORS.count)).toBeGreaterThan(0.9);
    const limitY = Math.round(CHART.limit.bottom - (1 / 1.15) * (CHART.limit.bottom - CHART.limit.top));
    expect(rowShare(picture, limitY, left, right, CHART_COLORS.limit)).toBeGreaterThan(0.55);
  });
});

describe('orphanmap report --redact on a captured bundle', () => {
  it('leaves no path, host name or command line of the capture in any file', () => {
    const dir = join(scratch, 'evidence-redacted');
    const result = orphanmap(['report', bundle, '--out', dir, '--redact']);
    expect(result.status, result.stderr).toBe(0);
    const secrets = [basename(scratch), 'leaker-files', 'leaker.py', 'evidence-redacted'];
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), 'utf8');
      for (const secret of secrets) expect(text.includes(secret), `${name} holds "${secret}"`).toBe(false);
    }
    const environment = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')) as { capture: { hostname: string; cmdline: string[] } };
    expect(environment.capture.hostname).toMatch(/^[0-9a-f]{8}$/);
    expect(environment.capture.cmdline[0]).toMatch(/^\/usr\/bin\/[0-9a-f]{8}$/);
    expect(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir }).status).toBe(0);
  });
});
