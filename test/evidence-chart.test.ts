// The evidence chart: its data (a pure step function of the findings), its
// SVG rendered by a real renderer (Debian's librsvg2-bin: rsvg-convert), and
// the picture checked pixel by pixel: not blank, axes drawn, the series where
// the leak is, the unlinks marked, and vm.max_map_count when a bundle knows it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { At, Finding } from '../src/engine/findings.js';
import { CHART, CHART_COLORS, niceStep, renderChart, type ChartModel } from '../src/evidence/chart.js';
import { deletedSeries } from '../src/evidence/series.js';
import { chartModel } from '../src/evidence/write.js';
import { analyze } from '../src/ingest/analyze.js';
import { buildReport } from '../src/report/report.js';
import { REPO, requireTool } from './tools.js';
import { columnShare, near, rgb, rowShare, type Picture, decodePng } from './fixtures/fleet/png.js';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');

let scratch: string;

function render(svg: string, name: string): Picture {
  const svgPath = join(scratch, `${name}.svg`);
  const pngPath = join(scratch, `${name}.png`);
  writeFileSync(svgPath, svg);
  const result = spawnSync('rsvg-convert', ['--format=png', '--output', pngPath, svgPath], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return decodePng(readFileSync(pngPath));
}

/** Highest row (smallest y) in column x within the plot holding the color, or null. */
function topOf(picture: Picture, x: number, color: string): number | null {
  for (let y = CHART.plot.top; y < CHART.plot.bottom - 2; y++) if (near(picture.at(x, y), rgb(color), 8)) return y;
  return null;
}

beforeAll(() => {
  requireTool('rsvg-convert');
  scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-chart-'));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

// ---- the data ----

function at(seconds: number | null, line = 1): At {
  return { file: 't', line, time: seconds === null ? null : String(seconds), seconds, tid: 1 };
}

function orphan(id: string, unlinked: number | null, end: { resolution: Finding['resolution']; at: number | null }, length = 4096, severity: Finding['severity'] = 'error'): Finding {
  return {
    id,
    kind: 'unlinked-while-mapped',
    severity,
    pid: 1,
    path: `/d/${id}`,
    names: [`/d/${id}`],
    address: '0x1000',
    length,
    mappedAt: at(0),
    unlinkedAt: unlinked === null ? null : at(unlinked),
    remappedAt: null,
    newAddress: null,
    resolution: end.resolution,
    resolvedAt: end.at === null ? null : at(end.at),
    delayMs: null,
    confirmedByMaps: null,
    evidence: [],
    note: null,
  };
}

describe('deletedSeries', () => {
  it('counts a mapping from its unlink to its munmap, and to the end of the trace while still mapped', () => {
    const series = deletedSeries([orphan('F1', 10, { resolution: 'unmapped', at: 30 }), orphan('F2', 20, { resolution: 'still-mapped', at: null }, 8192)], { first: 0, last: 50 });
    expect(series.points).toEqual([
      { t: 0, count: 0, bytes: 0 },
      { t: 10, count: 1, bytes: 4096 },
      { t: 20, count: 2, bytes: 12288 },
      { t: 30, count: 1, bytes: 8192 },
    ]);
    expect(series.peak).toEqual({ t: 20, count: 2, bytes: 12288 });
    expect(series.unlinks.map((mark) => [mark.t, mark.id])).toEqual([
      [10, 'F1'],
      [20, 'F2'],
    ]);
  });

  it('counts a file already deleted when the trace began from the start, with no unlink mark', () => {
    const series = deletedSeries([orphan('F1', null, { resolution: 'process-exited', at: 40 })], { first: 5, last: 50 });
    expect(series.points).toEqual([
      { t: 5, count: 1, bytes: 4096 },
      { t: 40, count: 0, bytes: 0 },
    ]);
    expect(series.unlinks).toEqual([]);
  });

  it('merges changes at one instant: a release and a new orphan in the same microsecond are no spike', () => {
    const series = deletedSeries([orphan('F1', 10, { resolution: 'unmapped', at: 20 }), orphan('F2', 20, { resolution: 'still-mapped', at: null })], { first: 0, last: 30 });
    expect(series.points).toEqual([
      { t: 0, count: 0, bytes: 0 },
      { t: 10, count: 1, bytes: 4096 },
      { t: 20, count: 1, bytes: 4096 },
    ]);
    expect(series.peak.count).toBe(1);
  });

  it('leaves out and names findings the trace did not time, and ignores remap findings', () => {
    const remap: Finding = { ...orphan('F3', 5, { resolution: 'still-mapped', at: null }), kind: 'remapped-without-unmap' };
    const series = deletedSeries([orphan('F1', null, { resolution: 'still-mapped', at: null }), { ...orphan('F2', 3, { resolution: 'unmapped', at: null }) }, remap], { first: 0, last: 9 });
    expect(series.unplaced).toEqual(['F2']);
    expect(series.points).toEqual([{ t: 0, count: 1, bytes: 4096 }]);
  });

  it('marks benign unlinks apart', () => {
    const series = deletedSeries([orphan('F1', 1, { resolution: 'process-exited', at: 2 }, 32768, 'info')], { first: 0, last: 2 });
    expect(series.unlinks).toEqual([{ t: 1, id: 'F1', benign: true }]);
  });

  it('ends each axis a step above its peak, even a peak a few bytes short of a tick (lengths not page-rounded)', () => {
    // Eight Kafka timeindex-like mappings of 10 MiB less 4 bytes: 80 MiB less 32 bytes.
    const findings = Array.from({ length: 8 }, (_, k) => orphan(`F${k + 1}`, k + 1, { resolution: 'still-mapped', at: null }, 10 * 1024 * 1024 - 4));
    const svg = renderChart({ title: 't', subtitle: 's', series: deletedSeries(findings, { first: 0, last: 10 }), limit: null });
    expect(svg.match(/>[0-9.]+ MiB</g)).toEqual(['>0 MiB<', '>20 MiB<', '>40 MiB<', '>60 MiB<', '>80 MiB<', '>100 MiB<']);
    expect(svg).toContain('>10</text>');
  });

  it('picks ticks of 1, 2, 2.5 or 5 times a power of ten (whole numbers for counts)', () => {
    expect(niceStep(0.3, 8)).toBe(0.05);
    expect(niceStep(300, 8)).toBe(50);
    expect(niceStep(9, 5, true)).toBe(2);
    expect(niceStep(1, 5, true)).toBe(1);
  });
});

// ---- the picture ----

describe('chart.svg rendered by rsvg-convert', () => {
  let model: ChartModel;
  let picture: Picture;

  beforeAll(async () => {
    const analysis = await analyze([LEAKY]);
    const report = buildReport(analysis);
    const span = analysis.span;
    expect(span).not.toBeNull();
    model = chartModel(report, span);
    picture = render(renderChart(model), 'leaky');
  });

  it("still parses when the title holds what XML 1.0 forbids (U+FFFE, U+FFFF, a lone surrogate: a hostile comm's or path's)", () => {
    const hostile = { ...model, title: 'map count of \uFFFE\uFFFF\uD800 (pid 7)', subtitle: 'from /d/\uFFFEx' };
    const svg = renderChart(hostile);
    const svgPath = join(scratch, 'hostile.svg');
    writeFileSync(svgPath, svg);
    const result = spawnSync('rsvg-convert', ['--format=png', '--output', join(scratch, 'hostile.png'), svgPath], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(svg).toContain('<title>map count of \\ufffe\\uffff\\ud800 (pid 7)</title>');
  });

  it('is the declared size, and not blank', () => {
    expect([picture.width, picture.height]).toEqual([CHART.width, CHART.height]);
    let ink = 0;
    const colors = new Set<string>();
    for (let y = 0; y < picture.height; y += 2) {
      for (let x = 0; x < picture.width; x += 2) {
        const pixel = picture.at(x, y);
        if (!near(pixel, [255, 255, 255], 10)) ink++;
        colors.add(pixel.join(','));
      }
    }
    const share = ink / ((picture.width / 2) * (picture.height / 2));
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.6);
    expect(colors.size).toBeGreaterThan(20);
  });

  it('draws the axes: the time axis along the bottom, the count and bytes axes on both sides', () => {
    const { left, right, top, bottom } = CHART.plot;
    expect(rowShare(picture, bottom, left, right, CHART_COLORS.axis)).toBeGreaterThan(0.95);
    expect(columnShare(picture, left, top, bottom, CHART_COLORS.axis)).toBeGreaterThan(0.95);
    expect(columnShare(picture, right, top, bottom, CHART_COLORS.axis)).toBeGreaterThan(0.95);
  });

  it('draws the series flat at zero before the first unlink and up to the peak after it', () => {
    const series = model.series!;
    const { left, right, top, bottom } = CHART.plot;
    const xOf = (t: number) => Math.round(left + ((t - series.span.first) / (series.span.last - series.span.first)) * (right - left));
    const firstUnlink = xOf(series.unlinks[0]!.t);
    // The JVM starts for about 260 ms before the first index file is unlinked.
    expect(firstUnlink).toBeGreaterThan(left + 100);
    for (let x = left + 10; x < firstUnlink - 5; x += 25) {
      expect(topOf(picture, x, CHART_COLORS.count), `count line above zero at x=${x}`).toBeNull();
      expect(topOf(picture, x, CHART_COLORS.bytesFill), `bytes above zero at x=${x}`).toBeNull();
    }
    // At the peak (8 orphans and the hsperfdata file, 10 at the axis top) the count line is 9/10 of the way up.
    const peakX = Math.min(right - 3, xOf(series.peak.t) + 2);
    const peakY = topOf(picture, peakX, CHART_COLORS.count);
    expect(peakY).not.toBeNull();
    const expected = bottom - (series.peak.count / 10) * (bottom - top);
    expect(Math.abs(peakY! - expected)).toBeLessThanOrEqual(3);
    // Their bytes fill the area under the bytes line after the unlinks.
    expect(columnShare(picture, peakX - 6, Math.round(expected) + 30, bottom - 3, CHART_COLORS.bytesFill)).toBeGreaterThan(0.9);
  });

  it('marks each unlink above the plot, the benign one in grey', () => {
    const { left, right } = CHART.plot;
    const y = Math.round((CHART.rug.top + CHART.rug.bottom) / 2);
    const red: number[] = [];
    const grey: number[] = [];
    for (let x = left; x <= right; x++) {
      if (near(picture.at(x, y), rgb(CHART_COLORS.unlink), 10)) red.push(x);
      if (near(picture.at(x, y), rgb(CHART_COLORS.benign), 10)) grey.push(x);
    }
    expect(red.length).toBeGreaterThanOrEqual(2);
    expect(grey.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...grey)).toBeGreaterThan(Math.max(...red));
    expect(model.series!.unlinks.filter((mark) => !mark.benign)).toHaveLength(8);
  });

  it('has no vm.max_map_count panel for a plain trace (no meta.json)', () => {
    expect(model.limit).toBeNull();
    expect(renderChart(model)).not.toContain('vm.max_map_count');
  });

  it('draws vm.max_map_count and the map counts when meta.json gives them', () => {
    const withLimit: ChartModel = { ...model, limit: { maxMapCount: 65530, mapCountStart: 1200, mapCountEnd: 61000, pid: 42, comm: 'java' } };
    const limited = render(renderChart(withLimit), 'limit');
    expect(limited.height).toBe(CHART.heightWithLimit);
    const { top, bottom } = CHART.limit;
    const limitY = Math.round(bottom - (65530 / (65530 * 1.15)) * (bottom - top));
    // A dashed line, 10 on and 5 off.
    expect(rowShare(limited, limitY, CHART.plot.left, CHART.plot.right, CHART_COLORS.limit)).toBeGreaterThan(0.55);
    const endY = Math.round(bottom - (61000 / (65530 * 1.15)) * (bottom - top));
    expect(near(limited.at(CHART.plot.right, endY), rgb(CHART_COLORS.mapCount), 10)).toBe(true);
    expect(renderChart(withLimit)).toContain('4,530');
  });

  it('escapes what comes from a trace: a hostile name cannot break the SVG', () => {
    const hostile = 'x</text><script>alert(1)</script>&amp;\u001b[31m"\'';
    const svg = renderChart({ ...model, title: hostile, subtitle: hostile });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&#60;script&#62;');
    expect(svg).toContain('\\x1b[31m');
    render(svg, 'hostile');
  });

  it('says so when the trace has no timestamps', () => {
    const svg = renderChart({ ...model, series: null });
    expect(svg).toContain('no timestamps');
    const blank = render(svg, 'untimed');
    expect(columnShare(blank, CHART.plot.left, CHART.plot.top, CHART.plot.bottom, CHART_COLORS.axis)).toBeGreaterThan(0.95);
  });
});

describe('a chart of very many steps', () => {
  it('is drawn for 300,000 points without passing the stack (no spread of every point)', () => {
    const points = Array.from({ length: 300_000 }, (_, i) => ({ t: i, count: i % 50, bytes: (i % 50) * 4096 }));
    const series = { span: { first: 0, last: 300_000 }, points, unlinks: [], peak: { t: 49, count: 49, bytes: 49 * 4096 }, unplaced: [] };
    const svg = renderChart({ title: 'many', subtitle: 'steps', series, limit: null });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
  });
});
