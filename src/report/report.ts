// The report `orphanmap/report@1`: what every formatter renders. Built once
// from an analysis; when the run redacts, its small parts are redacted once
// (redactAllButFindings) and each finding as a view draws it. Formatters
// never re-derive facts.
import { FINDING_KINDS, findingStart, heldNow, type Finding, type FindingKind } from '../engine/findings.js';
import type { Analysis } from '../ingest/analyze.js';
import type { BundleMeta, MapsLine } from '../ingest/bundle.js';
import { findingNameMayBe } from '../engine/mappings.js';
import { fromKernelName } from '../ingest/maps-end.js';
import { mapsLookup } from '../parse/maps.js';
import { globMatcher } from './glob.js';
import { writeSafeJson } from './json.js';
import { NO_REDACTION, type Redaction } from './redact.js';

export const REPORT_SCHEMA = 'orphanmap/report@1';

export interface Report {
  schema: typeof REPORT_SCHEMA;
  inputs: { path: string; format: string; sha256: string }[];
  summary: {
    lines: number;
    events: number;
    /** Of those, events about a file, an fd or a mapping: with none, a trace proves nothing (noEventTraced). */
    fileEvents: number;
    /** Mappings a call by a name the tracer cut may have left without a file: no finding, no pass (the headline and --fail-on say so). */
    mappingsInDoubt: number;
    /**
     * Names of files the trace holds no mapping of that went, or were renamed over, while a process that ran before
     * the trace ran, with no maps snapshot (Engine.removedUnseen): all of them, whatever `--pid` (review 70, P2: counted
     * by the process that removed them, a backend's removals went unsaid under `--pid` of the postmaster that mapped them).
     */
    removedUnseen: number;
    /** Why the trace may lack what a verdict needs (Analysis.undecided), in words; null when nothing says so. No pass while set. */
    undecided: string | null;
    unparsedLines: number;
    processes: number;
    findings: Record<FindingKind, number>;
  };
  unparsedSamples: { file: string; line: number; text: string; reason: string }[];
  findings: Finding[];
  warnings: string[];
  /** Bundle metadata when the input was a capture bundle. */
  environment: BundleMeta | null;
  /** /proc/PID/maps lines at the end of the capture, by finding id, when a bundle has them. */
  mapsLines: Record<string, string>;
}

export interface FindingFilter {
  pid?: number;
  path?: string;
}

export function findingFilter(filter: FindingFilter): (finding: Finding) => boolean {
  const keep = placeFilter(filter);
  return (finding) => keep(finding.pid, finding.names, finding.path);
}

/** The filter of a process and its file's names, as a finding has them; for what is no finding too (a mapping in doubt). */
function placeFilter(filter: FindingFilter): (pid: number, names: readonly string[], path: string) => boolean {
  const pathMatches = filter.path === undefined ? null : globMatcher(filter.path);
  return (pid, names, path) => (filter.pid === undefined || pid === filter.pid) && (pathMatches === null || names.some(pathMatches) || pathMatches(path));
}

export function buildReport(analysis: Analysis, filter: FindingFilter = {}, redaction: Redaction = NO_REDACTION): Report {
  const keep = findingFilter(filter);
  const keepPlace = placeFilter(filter);
  // The engine's own findings: each builds its evidence when it is read (FindingLog), so a
  // report of 25,000 findings holds no evidence line until a formatter asks (issue #14, goal 3).
  const findings = analysis.engine.findings().filter(keep);
  const counts = Object.fromEntries(FINDING_KINDS.map((kind) => [kind, 0])) as Record<FindingKind, number>;
  for (const finding of findings) counts[finding.kind]++;
  const mapsLines: Record<string, string> = {};
  const bundle = analysis.bundle;
  if (bundle !== null) {
    // The captured process's by maps-end.txt, each other traced process's by its maps-end.N.txt.
    const endMaps = new Map(bundle.mapsEndOthers ?? []);
    if (bundle.meta.pid !== undefined && bundle.mapsEnd !== null) endMaps.set(bundle.meta.pid, bundle.mapsEnd);
    const lookups = new Map<number, (address: number) => MapsLine | undefined>();
    for (const finding of findings) {
      // Only a mapping still there when the maps were read has a line there: at the address of one the
      // trace shows unmapped is another mapping since, often of another file (review 11: in a ticket).
      // One released with its process was there if the process was, as a launched command stopped
      // after its maps were read is; the line must then name its file.
      if (finding.resolution === 'unmapped') continue;
      const lines = endMaps.get(finding.pid);
      if (lines === undefined) continue;
      let lineAt = lookups.get(finding.pid);
      if (lineAt === undefined) {
        lineAt = mapsLookup(lines);
        lookups.set(finding.pid, lineAt);
      }
      const entry = lineAt(findingStart(heldNow(finding)[0]!));
      if (entry === undefined) continue;
      if (finding.kind === 'unlinked-while-mapped' && !(entry.deleted && findingNameMayBe(finding, fromKernelName(entry.path)))) continue;
      mapsLines[finding.id] = entry.text;
    }
  }
  // Once: stats() walks every live mapping of every process.
  const stats = analysis.engine.stats();
  // A --path that keeps none of the findings is said, not left to read as "nothing leaked" (review 25: a relative
  // glob against absolute names hid 17 errors, exit 0 with --fail-on). Not quoted: --redact hides paths.
  const warnings = [...analysis.warnings];
  if (filter.path !== undefined && findings.length === 0) {
    const missed = analysis.engine.findings().filter((finding) => filter.pid === undefined || finding.pid === filter.pid).length;
    if (missed > 0) {
      warnings.push(
        `--path matched none of the ${missed} finding${missed === 1 ? '' : 's'}${filter.pid === undefined ? '' : ` of process ${filter.pid}`}, so the report shows none of them: ` +
          "findings name files by absolute paths; a pattern with a '/' must match the whole path (start it with '/' or '**/'), one without matches the last component",
      );
    }
  }
  return redaction.report({
    schema: REPORT_SCHEMA,
    inputs: analysis.inputs,
    summary: {
      lines: analysis.lines,
      events: analysis.events,
      fileEvents: stats.fileEvents,
      mappingsInDoubt: analysis.engine.mappingsInDoubt().filter((doubt) => keepPlace(doubt.pid, [], doubt.name)).length,
      removedUnseen: analysis.engine.removedUnseen(),
      undecided: analysis.undecided ?? null,
      unparsedLines: analysis.unparsedLines,
      processes: stats.processes,
      findings: counts,
    },
    unparsedSamples: analysis.unparsedSamples.map((sample) => ({ file: sample.place.file, line: sample.place.line, text: sample.text, reason: sample.reason })),
    findings,
    warnings,
    environment: bundle?.meta ?? null,
    mapsLines,
  });
}

/**
 * A report as views draw it under `redaction`: every part but the findings
 * redacted now (they are few and small), the findings left as the engine
 * decided them, each redacted only as a view draws it (FormatOptions.redaction,
 * writeShownReportJson, the evidence files): a redacted copy of every finding
 * is never held at once (leaky80: 31,208 findings, 47 MiB of copies). The
 * findings keep their place among the keys.
 */
export function redactAllButFindings(report: Report, redaction: Redaction): Report {
  if (!redaction.on) return report;
  return { ...redaction.report({ ...report, findings: [] }), findings: report.findings };
}

/**
 * The JSON report of a report built without redaction (buildReport(analysis,
 * filter)), redacted by `redaction`: the same bytes as safeJson of the report
 * built with it, but each finding is redacted as it is written, so a redacted
 * copy of every finding is never held at once (leaky80: 31,208 findings, 46
 * MiB of copies, --redact's peak RSS 224–231 MiB against 173–186 without).
 */
export function writeReportJson(report: Report, redaction: Redaction, write: (text: string) => void): void {
  writeShownReportJson(redactAllButFindings(report, redaction), redaction, write);
}

/** writeReportJson of a report whose parts but its findings `redaction` has redacted already (redactAllButFindings). */
export function writeShownReportJson(shown: Report, redaction: Redaction, write: (text: string) => void): void {
  if (!redaction.on) writeSafeJson(shown, write);
  else writeSafeJson(shown, write, (key, element) => (key === 'findings' ? redaction.finding(element as Finding) : element));
}
