// Capture bundles (a directory from scripts/capture-*.sh): meta.json, the raw
// trace, and /proc/PID/maps at start and end. The start snapshot seeds the
// engine with mappings that predate the trace; the end snapshot confirms or
// contradicts `still-mapped` findings.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EngineOptions, SeedMapping } from '../engine/engine.js';
import type { Finding } from '../engine/findings.js';
import { isDeletedFile, parseMapsLine, type MapsEntry } from '../parse/maps.js';
import { UsageError } from '../errors.js';

export interface BundleMeta {
  schema?: string;
  backend?: 'strace' | 'bpftrace';
  pid?: number;
  /** `launched`: the tracer started the command, so the trace holds its whole life; `attached`: -p. */
  mode?: 'launched' | 'attached';
  comm?: string;
  cmdline?: string[];
  threads?: { tid: number; tgid: number; comm?: string }[];
  kernel?: string;
  hostname?: string;
  tracerVersion?: string;
  jvmVersion?: string | null;
  maxMapCount?: number;
  mapCountStart?: number;
  mapCountEnd?: number | null;
  startTime?: string;
  endTime?: string | null;
  command?: string;
  traceFiles?: string[];
  lostEvents?: number | null;
  truncatedEvents?: number | null;
  exitReason?: string;
}

export interface Bundle {
  dir: string;
  meta: BundleMeta;
  traceFiles: string[];
  seeds: Map<number, SeedMapping[]>;
  mapsEnd: MapsLine[] | null;
  engineOptions: EngineOptions;
  warnings: string[];
}

/** A maps entry with the text and line number it came from, for evidence. */
export interface MapsLine extends MapsEntry {
  lineNo: number;
  text: string;
}

function readMapsLines(text: string): { lines: MapsLine[]; bad: number } {
  const lines: MapsLine[] = [];
  let bad = 0;
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const entry = parseMapsLine(line);
    if (entry === null) bad++;
    else lines.push({ ...entry, lineNo: index + 1, text: line });
  });
  return { lines, bad };
}

export async function loadBundle(dir: string): Promise<Bundle> {
  const metaPath = join(dir, 'meta.json');
  let meta: BundleMeta;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as BundleMeta;
  } catch (error) {
    throw new UsageError(`unreadable bundle metadata: ${(error as Error).message}`, metaPath);
  }
  const warnings: string[] = [];
  const traceFiles = (meta.traceFiles ?? ['trace.txt']).map((file) => resolve(dir, file));
  const threadGroups = new Map<number, number>();
  for (const thread of meta.threads ?? []) threadGroups.set(thread.tid, thread.tgid);
  const engineOptions: EngineOptions = { threadGroups };
  if (typeof meta.pid === 'number') engineOptions.rootPid = meta.pid;

  const seeds = new Map<number, SeedMapping[]>();
  const startPath = join(dir, 'maps-start.txt');
  const start = await readOptional(startPath);
  // A launched command's trace begins before its execve: maps-start.txt, read
  // once it runs, holds nothing older than the trace, only mappings the trace
  // shows being made. Seeding them would count each twice.
  if (start !== null && typeof meta.pid === 'number' && meta.mode !== 'launched') {
    const parsed = readMapsLines(start);
    const mappings: SeedMapping[] = [];
    for (const entry of parsed.lines) {
      if (!entry.path.startsWith('/') || entry.inode === 0) continue; // anonymous, [heap], [vdso]…
      // memfd, /dev/zero, SysV shm and O_TMPFILE files print "(deleted)" but never had a name to unlink.
      if (entry.deleted && !isDeletedFile(entry)) continue;
      mappings.push({
        start: entry.start,
        end: entry.end,
        offset: entry.offset,
        path: entry.path,
        deleted: entry.deleted,
        place: { file: startPath, line: entry.lineNo },
        text: entry.text,
      });
    }
    seeds.set(meta.pid, mappings);
    if (parsed.bad > 0) warnings.push(`${startPath}: ${parsed.bad} unreadable lines`);
  } else if (start === null) {
    warnings.push(`${dir}: bundle has no maps-start.txt: mappings made before the capture are unknown`);
  }

  const endPath = join(dir, 'maps-end.txt');
  const end = await readOptional(endPath);
  const mapsEnd = end === null ? null : readMapsLines(end).lines;
  if ((meta.lostEvents ?? 0) > 0) warnings.push(`the tracer lost ${meta.lostEvents} events during the capture (meta.json)`);
  return { dir, meta, traceFiles, seeds, mapsEnd, engineOptions, warnings };
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * A `still-mapped` finding of the captured process is confirmed when
 * maps-end.txt still lists its address (deleted, for an unlink finding).
 */
export function confirmWithMaps(findings: readonly Finding[], bundle: Bundle): void {
  if (bundle.mapsEnd === null || bundle.meta.pid === undefined) return;
  for (const finding of findings) {
    if (finding.resolution !== 'still-mapped' || finding.pid !== bundle.meta.pid) continue;
    const address = Number.parseInt(finding.address.slice(2), 16);
    const line = bundle.mapsEnd.find((entry) => entry.start <= address && address < entry.end);
    finding.confirmedByMaps = line !== undefined && (finding.kind !== 'unlinked-while-mapped' || line.deleted);
  }
}
