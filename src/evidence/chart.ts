// The evidence chart as SVG: mappings of deleted files (left axis) and their
// bytes (right axis) over the trace's time, each unlink of a mapped file
// marked above the plot and, when a bundle's meta.json knows it, the
// process's map count at the capture's start and end against
// vm.max_map_count in a panel of its own (a leak of hundreds of mappings
// would be a flat line on an axis that reaches 262,144). Pure: a model in,
// text out; every string from a trace is escaped for XML.
import { escapeControl, formatBytes, formatCount } from '../report/sanitize.js';
import type { DeletedSeries, SeriesPoint } from './series.js';

/** Where things are drawn, in SVG pixels (also what tests look for in a rendering). */
export const CHART = {
  width: 960,
  plot: { left: 96, right: 856, top: 96, bottom: 360 },
  rug: { top: 72, bottom: 88 },
  legendY: 430,
  limit: { top: 484, bottom: 564 },
  height: 456,
  heightWithLimit: 600,
} as const;

export const CHART_COLORS = {
  background: '#ffffff',
  axis: '#222222',
  grid: '#e6e6e6',
  count: '#1f5fbf',
  bytesFill: '#fcd9a8',
  bytesLine: '#e8891d',
  unlink: '#d62728',
  benign: '#8c8c8c',
  limit: '#d62728',
  mapCount: '#555555',
  text: '#222222',
  muted: '#666666',
} as const;

export interface MapLimit {
  maxMapCount: number;
  mapCountStart: number | null;
  mapCountEnd: number | null;
  pid: number | null;
  comm: string | null;
}

export interface ChartModel {
  title: string;
  subtitle: string;
  /** null when the trace has no timestamps: nothing can be placed in time. */
  series: DeletedSeries | null;
  /** From a bundle's meta.json; null when vm.max_map_count is not known. */
  limit: MapLimit | null;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

export function renderChart(model: ChartModel): string {
  const pieces: string[] = [];
  writeChart(model, (piece) => pieces.push(piece));
  return pieces.join('');
}

/**
 * renderChart's text, handed to `write` in pieces as it is made: a chart of
 * 15,556 unlinks (leaky80) drawn as an array of lines joined at the end, and
 * its paths as strings grown a step at a time, outlived two young collections
 * and took 10 MiB of the old generation, garbage until a full collection.
 */
export function writeChart(model: ChartModel, write: (text: string) => void): void {
  const line = (text: string) => write(`${text}\n`);
  const height = model.limit === null ? CHART.height : CHART.heightWithLimit;
  [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" viewBox="0 0 ${CHART.width} ${height}" font-family="${FONT}" font-size="13" fill="${CHART_COLORS.text}">`,
    `<title>${xml(model.title)}</title>`,
    `<desc>${xml(describe(model))}</desc>`,
    `<rect x="0" y="0" width="${CHART.width}" height="${height}" fill="${CHART_COLORS.background}"/>`,
    `<text x="${CHART.plot.left}" y="30" font-size="18" font-weight="bold">${xml(model.title)}</text>`,
    `<text x="${CHART.plot.left}" y="52" fill="${CHART_COLORS.muted}">${xml(clip(model.subtitle, 120))}</text>`,
  ].forEach(line);
  if (model.series === null) noTimes().forEach(line);
  else writeMainPanel(model.series, line, write);
  if (model.limit !== null && model.series !== null) limitPanel(model.limit, model.series).forEach(line);
  line('</svg>');
}

function describe(model: ChartModel): string {
  const series = model.series;
  if (series === null) return 'The trace has no timestamps: the chart is empty.';
  const peak = series.peak;
  const parts = [
    `Peak: ${formatCount(peak.count)} mapping${peak.count === 1 ? '' : 's'} of deleted files (${formatBytes(peak.bytes)}), ${formatCount(series.unlinks.length)} unlink${series.unlinks.length === 1 ? '' : 's'} of mapped files.`,
  ];
  if (model.limit !== null) parts.push(`vm.max_map_count ${formatCount(model.limit.maxMapCount)}.`);
  return parts.join(' ');
}

// ---- scales and ticks -------------------------------------------------------

interface Scale {
  at(value: number): number;
}

function linear(domainLow: number, domainHigh: number, low: number, high: number): Scale {
  const span = domainHigh - domainLow;
  return { at: (value) => (span <= 0 ? low : low + ((value - domainLow) / span) * (high - low)) };
}

/** 1, 2, 2.5 or 5 times a power of ten, near range / count. */
export function niceStep(range: number, count: number, integers = false): number {
  const raw = range / count;
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = integers ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  const step = (steps.find((candidate) => candidate * power >= raw) ?? 10) * power;
  return integers ? Math.max(1, Math.round(step)) : step;
}

function decimalsOf(step: number): number {
  const text = step.toPrecision(6).replace(/0+$/, '').replace(/\.$/, '');
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Tick values from 0 to at least `top`, `step` apart. */
function ticks(top: number, step: number): number[] {
  const out: number[] = [];
  for (let k = 0; k * step <= top * (1 + 1e-9); k++) out.push(k * step);
  return out;
}

const TIME_UNITS = [
  { unit: 'ms', per: 1000, below: 2 },
  { unit: 's', per: 1, below: 180 },
  { unit: 'min', per: 1 / 60, below: 3 * 3600 },
  { unit: 'h', per: 1 / 3600, below: Infinity },
] as const;

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

// ---- panels -----------------------------------------------------------------

function noTimes(): string[] {
  const { left, right, top, bottom } = CHART.plot;
  return [
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="${CHART_COLORS.axis}" stroke-width="2" shape-rendering="crispEdges"/>`,
    `<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle">The trace has no timestamps (strace -t, -tt or -ttt): nothing can be placed in time.</text>`,
  ];
}

/** Where the main panel puts a time, a count and a byte total, and the ticks of its axes. */
interface Scales {
  first: number;
  duration: number;
  px: (t: number) => number;
  countStep: number;
  countTop: number;
  yCount: Scale;
  unitIndex: number;
  unitBytes: number;
  bytesStep: number;
  bytesTop: number;
  yBytes: Scale;
}

function scalesOf(series: DeletedSeries): Scales {
  const { left, right, top, bottom } = CHART.plot;
  const { first, last } = series.span;
  const duration = Math.max(0, last - first);
  const x = linear(first, first + (duration > 0 ? duration : 1), left, right);
  // Each axis ends a step above its peak: the peak never runs along the frame.
  const countStep = niceStep(Math.max(1, series.peak.count), 5, true);
  const countTop = (Math.floor(series.peak.count / countStep) + 1) * countStep;
  // A loop, not Math.max(...points): a trace with a few hundred thousand unlinks of mapped files would pass the spread's stack.
  let peakBytes = 0;
  for (const point of series.points) if (point.bytes > peakBytes) peakBytes = point.bytes;
  const unitIndex = peakBytes <= 0 ? 2 : Math.min(BYTE_UNITS.length - 1, Math.floor(Math.log(peakBytes) / Math.log(1024)));
  const unitBytes = 1024 ** unitIndex;
  const bytesStep = niceStep(Math.max(peakBytes / unitBytes, 1e-9), 5);
  // 79.99 MiB (lengths not page-rounded) must get the same room above as 80.
  const bytesTop = (Math.floor(peakBytes / unitBytes / bytesStep + 0.05) + 1) * bytesStep;
  return {
    first,
    duration,
    px: (t) => Math.round(x.at(t)),
    countStep,
    countTop,
    yCount: linear(0, countTop, bottom, top),
    unitIndex,
    unitBytes,
    bytesStep,
    bytesTop,
    yBytes: linear(0, bytesTop * unitBytes, bottom, top),
  };
}

/** The main panel's lines, each through `line`; a path's steps through `write`, as they are made. */
function writeMainPanel(series: DeletedSeries, line: (text: string) => void, write: (text: string) => void): void {
  const scales = scalesOf(series);
  gridAndLabels(scales).forEach(line);
  writeSeriesPaths(series, scales, line, write);
  writeUnlinkRug(series, scales, line);
  axes(scales).forEach(line);
  legend(series).forEach(line);
}

/** Grid lines at the count ticks, counts on the left, bytes on the right. */
function gridAndLabels(s: Scales): string[] {
  const { left, right, top, bottom } = CHART.plot;
  const c = CHART_COLORS;
  const out: string[] = [];
  out.push(`<g shape-rendering="crispEdges" stroke="${c.grid}" stroke-width="1">`);
  for (const value of ticks(s.countTop, s.countStep)) {
    if (value === 0) continue;
    const y = Math.round(s.yCount.at(value));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}"/>`);
  }
  out.push('</g>');
  out.push('<g font-size="12" text-anchor="end">');
  for (const value of ticks(s.countTop, s.countStep)) out.push(`<text x="${left - 10}" y="${Math.round(s.yCount.at(value)) + 4}">${formatCount(value)}</text>`);
  out.push('</g>');
  out.push('<g font-size="12" text-anchor="start">');
  const bytesDecimals = decimalsOf(s.bytesStep);
  for (const value of ticks(s.bytesTop, s.bytesStep)) {
    out.push(`<text x="${right + 10}" y="${Math.round(s.yBytes.at(value * s.unitBytes)) + 4}">${value.toFixed(bytesDecimals)} ${BYTE_UNITS[s.unitIndex]}</text>`);
  }
  out.push('</g>');
  out.push(`<text transform="translate(30 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill="${c.count}">mappings of deleted files</text>`);
  out.push(`<text transform="translate(${CHART.width - 16} ${(top + bottom) / 2}) rotate(90)" text-anchor="middle" fill="${c.bytesLine}">their bytes</text>`);
  return out;
}

/** The series: bytes as a filled area under the count line, both as steps. */
function writeSeriesPaths(series: DeletedSeries, s: Scales, line: (text: string) => void, write: (text: string) => void): void {
  const c = CHART_COLORS;
  const points = series.points;
  const ends = (k: number) => (k + 1 < points.length ? points[k + 1]!.t : series.span.last);
  // A path's steps, gathered into pieces of a few KiB: a string per step would be a call each.
  const stepPath = (value: (p: SeriesPoint) => number) => {
    let d = `M${s.px(points[0]!.t)} ${Math.round(value(points[0]!))}`;
    points.forEach((point, k) => {
      d += ` V${Math.round(value(point))} H${s.px(ends(k))}`;
      if (d.length >= PATH_PIECE) {
        write(d);
        d = '';
      }
    });
    write(d);
  };
  const bytes = (p: SeriesPoint) => s.yBytes.at(p.bytes);
  line(`<g shape-rendering="crispEdges">`);
  write('<path d="');
  stepPath(bytes);
  line(` V${CHART.plot.bottom} H${s.px(points[0]!.t)} Z" fill="${c.bytesFill}" stroke="none"/>`);
  write('<path d="');
  stepPath(bytes);
  line(`" fill="none" stroke="${c.bytesLine}" stroke-width="2"/>`);
  write('<path d="');
  stepPath((p) => s.yCount.at(p.count));
  line(`" fill="none" stroke="${c.count}" stroke-width="3"/>`);
  line('</g>');
}

const PATH_PIECE = 4096;

/** Unlinks, as a rug above the plot. */
function writeUnlinkRug(series: DeletedSeries, s: Scales, line: (text: string) => void): void {
  const c = CHART_COLORS;
  line(`<text x="${CHART.plot.left - 10}" y="${CHART.rug.bottom - 3}" font-size="12" text-anchor="end">unlinks</text>`);
  line(`<g shape-rendering="crispEdges" stroke-width="2">`);
  for (const mark of series.unlinks) {
    const mx = s.px(mark.t);
    line(`<line x1="${mx}" y1="${CHART.rug.top}" x2="${mx}" y2="${CHART.rug.bottom}" stroke="${mark.benign ? c.benign : c.unlink}"><title>${xml(mark.id)}</title></line>`);
  }
  line('</g>');
}

/** The frame and the time axis, drawn last, over the series' baseline. */
function axes(s: Scales): string[] {
  const { left, right, top, bottom } = CHART.plot;
  const out: string[] = [];
  out.push(`<g shape-rendering="crispEdges" stroke="${CHART_COLORS.axis}" stroke-width="2">`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`);
  out.push(`<line x1="${right}" y1="${top}" x2="${right}" y2="${bottom}"/>`);
  const time = TIME_UNITS.find((unit) => s.duration < unit.below)!;
  const timeStep = niceStep(Math.max(s.duration * time.per, 1e-9), 8);
  const timeTicks = ticks(s.duration * time.per, timeStep);
  for (const value of timeTicks) {
    const tx = s.px(s.first + value / time.per);
    out.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 6}"/>`);
  }
  out.push('</g>');
  const timeDecimals = decimalsOf(timeStep);
  out.push('<g font-size="12" text-anchor="middle">');
  for (const value of timeTicks) out.push(`<text x="${s.px(s.first + value / time.per)}" y="${bottom + 20}">${value.toFixed(timeDecimals)}</text>`);
  out.push('</g>');
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 42}" text-anchor="middle">${xml(`${time.unit} since the first traced call${clockOrigin(s.first)}`)}</text>`);
  return out;
}

/** " (2026-11-25 09:18:55.190 UTC)" for epoch seconds (strace -ttt, bpftrace's wall clock); nothing for other clocks. */
function clockOrigin(first: number): string {
  if (!(first > 1e9 && first < 1e11)) return '';
  return ` (${new Date(first * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC')})`;
}

function legend(series: DeletedSeries): string[] {
  const c = CHART_COLORS;
  const y = CHART.legendY;
  const out: string[] = [];
  let x = CHART.plot.left;
  const item = (icon: string, label: string) => {
    out.push(icon, `<text x="${x + 32}" y="${y + 4}">${xml(label)}</text>`);
    x += 32 + approximateWidth(label) + 20;
  };
  item(`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${c.count}" stroke-width="3" shape-rendering="crispEdges"/>`, 'mappings of deleted files (left axis)');
  item(`<rect x="${x}" y="${y - 6}" width="24" height="12" fill="${c.bytesFill}" stroke="${c.bytesLine}" stroke-width="2" shape-rendering="crispEdges"/>`, 'their bytes (right axis)');
  const real = series.unlinks.filter((mark) => !mark.benign).length;
  item(`<line x1="${x + 12}" y1="${y - 8}" x2="${x + 12}" y2="${y + 8}" stroke="${c.unlink}" stroke-width="2" shape-rendering="crispEdges"/>`, `unlink (${formatCount(real)})`);
  const benign = series.unlinks.length - real;
  if (benign > 0)
    item(`<line x1="${x + 12}" y1="${y - 8}" x2="${x + 12}" y2="${y + 8}" stroke="${c.benign}" stroke-width="2" shape-rendering="crispEdges"/>`, `benign unlink (${formatCount(benign)})`);
  return out;
}

function limitPanel(limit: MapLimit, series: DeletedSeries): string[] {
  const c = CHART_COLORS;
  const { left, right } = CHART.plot;
  const { top, bottom } = CHART.limit;
  const { first, last } = series.span;
  const x = linear(first, last > first ? last : first + 1, left, right);
  const y = linear(0, limit.maxMapCount * 1.15, bottom, top);
  const limitY = Math.round(y.at(limit.maxMapCount));
  const who = limit.pid === null ? 'the process' : `pid ${limit.pid}${limit.comm === null ? '' : ` (${limit.comm})`}`;
  const out: string[] = [
    `<text x="${left}" y="${top - 12}" font-weight="bold">${xml(`Map count of ${who} at the capture's start and end, against vm.max_map_count`)}</text>`,
    `<g shape-rendering="crispEdges" stroke="${c.axis}" stroke-width="2">`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/>`,
    '</g>',
    `<line x1="${left}" y1="${limitY}" x2="${right}" y2="${limitY}" stroke="${c.limit}" stroke-width="2" stroke-dasharray="10 5" shape-rendering="crispEdges"/>`,
    `<text x="${right}" y="${limitY - 6}" text-anchor="end" fill="${c.limit}">${xml(`vm.max_map_count ${formatCount(limit.maxMapCount)}`)}</text>`,
    `<g font-size="12" text-anchor="end"><text x="${left - 10}" y="${bottom + 4}">0</text><text x="${left - 10}" y="${limitY + 4}">${formatCount(limit.maxMapCount)}</text></g>`,
  ];
  const known: { t: number; count: number; label: string; anchor: 'start' | 'end' }[] = [];
  if (limit.mapCountStart !== null) known.push({ t: first, count: limit.mapCountStart, label: `${formatCount(limit.mapCountStart)} mappings at the start`, anchor: 'start' });
  if (limit.mapCountEnd !== null) {
    known.push({
      t: last,
      count: limit.mapCountEnd,
      label: `${formatCount(limit.mapCountEnd)} at the end, headroom ${formatCount(Math.max(0, limit.maxMapCount - limit.mapCountEnd))}`,
      anchor: 'end',
    });
  }
  if (known.length === 2) {
    const [a, b] = known as [(typeof known)[number], (typeof known)[number]];
    out.push(
      `<line x1="${Math.round(x.at(a.t))}" y1="${Math.round(y.at(a.count))}" x2="${Math.round(x.at(b.t))}" y2="${Math.round(y.at(b.count))}" stroke="${c.mapCount}" stroke-width="2" stroke-dasharray="4 4"/>`,
    );
  }
  for (const point of known) {
    const px = Math.round(x.at(point.t));
    const py = Math.round(y.at(point.count));
    out.push(`<circle cx="${px}" cy="${py}" r="5" fill="${c.mapCount}"/>`);
    out.push(`<text x="${px + (point.anchor === 'start' ? 10 : -10)}" y="${py - 10}" text-anchor="${point.anchor}" fill="${c.mapCount}">${xml(point.label)}</text>`);
  }
  if (known.length === 0) out.push(`<text x="${(left + right) / 2}" y="${bottom - 10}" text-anchor="middle" fill="${c.muted}">map counts at the start and end were not recorded</text>`);
  return out;
}

// ---- text -------------------------------------------------------------------

/** Text for an SVG element or attribute: control characters shown as escapes, markup characters as entities. */
export function xml(value: string): string {
  return escapeControl(value).replace(XML_SPECIAL, (char) => {
    const code = char.charCodeAt(0);
    // No XML 1.0 document may hold U+FFFE, U+FFFF or a lone surrogate, not even as a reference: a comm or a path
    // with one made chart.svg a parse error (review 19). Written as escapeControl writes what it escapes.
    return code >= 0xd800 ? `\\u${code.toString(16)}` : `&#${code};`;
  });
}

/** What XML gives a meaning to, and what it forbids outright (XML 1.0's Char production leaves these out). */
const XML_SPECIAL = /[&<>"'\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function clip(value: string, max: number): string {
  const chars = [...value];
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

/** Pixels of 13 px DejaVu Sans, roughly (about 0.52 em a character): enough to lay out the legend. */
function approximateWidth(text: string): number {
  return Math.ceil(text.length * 6.8);
}
