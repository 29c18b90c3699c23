// Growth and the vm.max_map_count projection for `scan --watch`. Pure: scan
// results in, rates out; the clock is the scans' own timestamps.
import type { ProcessScan, ScanResult } from './aggregate.js';

const HOUR_MS = 3_600_000;

export interface TimedValue {
  /** Milliseconds. */
  time: number;
  value: number;
}

/**
 * Least-squares slope, per hour. A straight first-to-last difference would let
 * one noisy sample (a JIT burst of mappings) decide the projection; the fitted
 * slope weighs every sample. Null with fewer than two distinct times.
 */
export function slopePerHour(points: readonly TimedValue[]): number | null {
  if (points.length < 2) return null;
  const t0 = points[0]!.time;
  let sumT = 0;
  let sumV = 0;
  for (const p of points) {
    sumT += p.time - t0;
    sumV += p.value;
  }
  const meanT = sumT / points.length;
  const meanV = sumV / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    const dt = p.time - t0 - meanT;
    num += dt * (p.value - meanV);
    den += dt * dt;
  }
  if (den === 0) return null;
  return (num / den) * HOUR_MS;
}

export type Projection = { kind: 'unknown'; why: 'one-sample' | 'no-max-map-count' } | { kind: 'not-growing' } | { kind: 'at-limit' } | { kind: 'eta'; hours: number; at: number };

/**
 * When the map count reaches vm.max_map_count at a steady rate. mmap fails with
 * ENOMEM ("Map failed" in a JVM) once the count is at the limit.
 */
export function projectMapLimit(mappings: number, maxMapCount: number | null, mappingsPerHour: number | null, now: number): Projection {
  if (maxMapCount === null) return { kind: 'unknown', why: 'no-max-map-count' };
  if (mappings >= maxMapCount) return { kind: 'at-limit' };
  if (mappingsPerHour === null) return { kind: 'unknown', why: 'one-sample' };
  if (mappingsPerHour <= 0) return { kind: 'not-growing' };
  const hours = (maxMapCount - mappings) / mappingsPerHour;
  return { kind: 'eta', hours, at: now + hours * HOUR_MS };
}

export interface ProcessGrowth {
  pid: number;
  /** Samples the rates were fitted on, and the time they span. */
  samples: number;
  spanMs: number;
  mappingsPerHour: number | null;
  deletedMappingsPerHour: number | null;
  deletedBytesPerHour: number | null;
  projection: Projection;
}

interface History {
  comm: string;
  points: { time: number; mappings: number; deletedMappings: number; deletedBytes: number }[];
}

/**
 * Keeps each process's recent scans and fits rates over them. A pid whose comm
 * changes is taken as a new process (pid reuse, or exec) and starts over.
 */
export class GrowthTracker {
  private readonly histories = new Map<number, History>();

  constructor(private readonly maxSamples = 720) {}

  record(result: ScanResult): Map<number, ProcessGrowth> {
    const seen = new Set<number>();
    const growth = new Map<number, ProcessGrowth>();
    for (const process of result.processes) {
      seen.add(process.pid);
      const history = this.historyOf(process);
      history.points.push({ time: result.time, mappings: process.mappings, deletedMappings: process.deletedMappings, deletedBytes: process.deletedBytes });
      if (history.points.length > this.maxSamples) history.points.shift();
      growth.set(process.pid, growthOf(process, history, result));
    }
    for (const pid of this.histories.keys()) if (!seen.has(pid)) this.histories.delete(pid);
    return growth;
  }

  private historyOf(process: ProcessScan): History {
    const existing = this.histories.get(process.pid);
    if (existing !== undefined && existing.comm === process.comm) return existing;
    const fresh: History = { comm: process.comm, points: [] };
    this.histories.set(process.pid, fresh);
    return fresh;
  }
}

function growthOf(process: ProcessScan, history: History, result: ScanResult): ProcessGrowth {
  const points = history.points;
  const series = (pick: (p: History['points'][number]) => number) => slopePerHour(points.map((p) => ({ time: p.time, value: pick(p) })));
  const mappingsPerHour = series((p) => p.mappings);
  return {
    pid: process.pid,
    samples: points.length,
    spanMs: points.length === 0 ? 0 : points[points.length - 1]!.time - points[0]!.time,
    mappingsPerHour,
    deletedMappingsPerHour: series((p) => p.deletedMappings),
    deletedBytesPerHour: series((p) => p.deletedBytes),
    projection: projectMapLimit(process.mappings, result.maxMapCount, mappingsPerHour, result.time),
  };
}
