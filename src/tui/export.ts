// `e`: the selected finding's evidence as a Markdown and a Jira file, through
// the same formatters as `analyze --format markdown|jira`, so a ticket pasted
// from the TUI reads like one made on the command line. With --redact the
// export's report is redacted once, when it is put together here, with the
// run's Redaction: the same hashes as the command line's reports.
//
// Where: a directory chosen for the session, never the current directory
// silently: a live capture's bundle directory; else $ORPHANMAP_EXPORT_DIR;
// else a new ./orphanmap-export-<date>-<time>/ made at the first export. `E`
// picks another. Files are created, never overwritten: a name taken gets -2,
// -3… An unwritable directory is an ExportError naming it and the reason.
//
// orphanmap runs as root in directories others can write to: the export
// directory is made the way `report --out` makes its directory
// (evidence/out-dir.ts): its parent opened once, the directory made in it or,
// if it exists, taken only if it is a directory (not a link) of this user
// that no one else can write to; each file created through its descriptor,
// exclusively and without following a link. A name planted beforehand (a
// link to /root/…, another user's directory) is refused, never written through,
// and so is another user's link on the way to the parent (safe-path.ts).
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PathRefused, openDirectorySafely } from '../commands/safe-path.js';
import { UsageError } from '../errors.js';
import { createIn, type DirRule, openOwnDir } from '../evidence/out-dir.js';
import { FINDING_KINDS, type Finding, type FindingKind } from '../engine/findings.js';
import { formatReport } from '../report/formats.js';
import { NO_REDACTION, type Redaction } from '../report/redact.js';
import { REPORT_SCHEMA, type Report } from '../report/report.js';
import type { Counters } from './snapshot.js';

/** What a report needs beyond the finding: the analysis when there is one, else what the store counted. */
export interface ExportContext {
  /** The command line to show under "how to reproduce": one that reproduces the analysis, not the TUI (redacted already when the run redacts). */
  command: string;
  /** The run's --redact, applied to the export's report. */
  redaction?: Redaction;
  /** The paths the whole report's warnings name (Analysis.warningPaths), which the redaction replaces whole; none before the report. */
  warningPaths?: () => readonly string[];
  /** The whole report, not redacted, when the input has been read to its end (analyze) or the capture has ended (live). */
  report?: () => Report | null;
  /** Otherwise, the counters so far (live, or a file still being read). */
  counters?: () => Counters;
  /** Otherwise, the inputs as they stand (live: the bundle's trace so far) and what to say about them. */
  inputs?: () => Promise<{ inputs: Report['inputs']; warnings: string[] }>;
}

export class ExportError extends Error {
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

export interface ExportResult {
  dir: string;
  /** The files written, as the user should read them (./relative when under the current directory). */
  files: string[];
}

/** Where exports go, for a session. */
export interface ExportTarget {
  /** The directory as the user should read it. */
  dir(): string;
  setDir(dir: string): void;
  write(finding: Finding): Promise<ExportResult>;
}

/** The report of one finding, redacted when the run redacts. */
export async function reportForFinding(finding: Finding, context: ExportContext): Promise<Report> {
  return (context.redaction ?? NO_REDACTION).withWholePaths(context.warningPaths?.() ?? []).report(await rawReportForFinding(finding, context));
}

async function rawReportForFinding(finding: Finding, context: ExportContext): Promise<Report> {
  const full = context.report?.() ?? null;
  const findings = [full?.findings.find((item) => item.id === finding.id) ?? finding];
  const counts = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>;
  for (const item of findings) counts[item.kind]++;
  if (full !== null) {
    const mapsLine = full.mapsLines[finding.id];
    return { ...full, summary: { ...full.summary, findings: counts }, findings, mapsLines: mapsLine === undefined ? {} : { [finding.id]: mapsLine } };
  }
  const c = context.counters?.();
  const partial = (await context.inputs?.()) ?? { inputs: [], warnings: [] };
  return {
    schema: REPORT_SCHEMA,
    inputs: partial.inputs,
    // fileEvents as events: the export is of a finding, so the trace showed files (the store counts no other).
    // No mapping in doubt: the store is not told of them; the warnings carried below name any there are.
    summary: {
      lines: c?.lines ?? 0,
      events: c?.events ?? 0,
      fileEvents: c?.events ?? 0,
      mappingsInDoubt: 0,
      removedUnseen: 0,
      undecided: null,
      unparsedLines: c?.unparsedLines ?? 0,
      processes: c?.processes ?? 0,
      findings: counts,
    },
    unparsedSamples: [],
    findings,
    warnings: partial.warnings,
    environment: null,
    mapsLines: {},
  };
}

/** A new directory name for this session's exports: ./orphanmap-export-20260101-120000. */
export function defaultExportDir(now = new Date(), cwd = process.cwd()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join(cwd, `orphanmap-export-${stamp}`);
}

/**
 * The export directory of a session. `initial` is created when the first
 * export needs it (its parent must exist, unless it came from the user, who
 * may name a path to create).
 */
export function exportTarget(initial: string, context: ExportContext, options: { createParents?: boolean } = {}): ExportTarget {
  let dir = resolve(initial);
  let createParents = options.createParents === true;
  return {
    dir: () => shownPath(dir),
    setDir(next: string) {
      dir = resolve(next.startsWith('~/') && process.env.HOME !== undefined ? join(process.env.HOME, next.slice(2)) : next);
      createParents = true;
    },
    async write(finding: Finding): Promise<ExportResult> {
      const report = await reportForFinding(finding, context);
      const options = { command: context.command };
      const base = `orphanmap-${finding.id}-pid${finding.pid}`;
      const handle = await openExportDir(dir, createParents);
      try {
        const written: string[] = [];
        for (const [suffix, format] of [
          ['.md', 'markdown'],
          ['.jira.txt', 'jira'],
        ] as const) {
          const text = formatReport(report, format, options);
          written.push(await createNew(handle, dir, base, suffix, text));
        }
        return { dir: shownPath(dir), files: written.map(shownPath) };
      } finally {
        await handle.close();
      }
    },
  };
}

const EXPORT_DIR: DirRule = { mode: 0o755, empty: false, advice: 'choose a directory of your own' };

/** The export directory, opened: made under its parent (opened once), or taken as it is only if it is ours and no one else may write to it. */
async function openExportDir(dir: string, createParents: boolean): Promise<FileHandle> {
  const parentPath = dirname(dir);
  let parent: FileHandle;
  try {
    // One component at a time: another user's link above the export directory is refused (safe-path.ts).
    const fd = createParents ? makeDirectories(parentPath) : openDirectorySafely(parentPath);
    try {
      parent = await open(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_DIRECTORY);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof PathRefused && error.code === undefined) throw new ExportError(`cannot export to ${shownPath(dir)}: ${error.why}`, dir);
    throw unwritable(dir, error instanceof PathRefused ? Object.assign(new Error(error.why), { code: error.code }) : error);
  }
  try {
    return (await openOwnDir(parent, basename(dir), shownPath(dir), EXPORT_DIR)).dir;
  } catch (error) {
    // out-dir's refusals name the directory and say why: they are the message.
    if (error instanceof UsageError) throw new ExportError(`cannot export: ${error.message}`, dir);
    throw unwritable(dir, error);
  } finally {
    await parent.close();
  }
}

/**
 * The directory `path`, open, with those of its directories that are missing
 * made (mode 0755), each in its parent as the walk reached it: no missing
 * directory is made, nor the walk goes on, where another user's link leads.
 */
function makeDirectories(path: string): number {
  const missing: string[] = [];
  let at = path;
  let fd: number | null = null;
  while (fd === null) {
    try {
      fd = openDirectorySafely(at);
    } catch (error) {
      if (!(error instanceof PathRefused) || error.code !== 'ENOENT' || dirname(at) === at) throw error;
      missing.unshift(basename(at));
      at = dirname(at);
    }
  }
  try {
    for (const name of missing) {
      const inside = `/proc/self/fd/${fd}/${name}`;
      try {
        mkdirSync(inside, 0o755);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // Never through a link put there since.
      const next = openSync(inside, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      closeSync(fd);
      fd = next;
    }
    const done = fd;
    fd = null;
    return done;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes `text` to DIR/BASE[-n]SUFFIX, the first name not taken; never replaces a file. */
async function createNew(handle: FileHandle, dir: string, base: string, suffix: string, text: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const name = `${base}${n === 1 ? '' : `-${n}`}${suffix}`;
    let file: FileHandle;
    try {
      file = await createIn(handle, name, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw unwritable(dir, error);
    }
    try {
      await file.writeFile(text);
    } catch (error) {
      throw unwritable(dir, error);
    } finally {
      await file.close();
    }
    return join(dir, name);
  }
  throw new ExportError(`${shownPath(dir)} already holds 999 exports of this finding`, dir);
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'its parent directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'a file of that name is in the way',
  ELOOP: 'a symbolic link is in the way',
};

function unwritable(dir: string, error: unknown): ExportError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = REASONS[code] ?? (error instanceof Error ? error.message : String(error));
  return new ExportError(`cannot write in ${shownPath(dir)}: ${reason}${code === '' ? '' : ` (${code})`}`, dir);
}

function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? `./${rel}` : path;
}
