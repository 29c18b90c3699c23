// Post-hoc analysis: resolve the inputs (files, stdin, -ff sets, bundles),
// detect each one's format from its content, feed the lines through the
// parser into one engine, and collect what a report needs. The reading is
// Run's (run.ts); which files an input names is inputs.ts's.
import { type BeforeStartRead, seedMadeInTrace, traceBeforeStartRead } from './start-read.js';
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type EngineChange } from '../engine/engine.js';
import type { Diagnostic } from '../parse/events.js';
import { InputError } from '../errors.js';
import type { LineSource } from './lines.js';
import {
  bundleTraceSource,
  childrenAtAttachWarning,
  untracedChildren,
  closeOthersMapsEnd,
  countIsOf,
  countTells,
  loadBundle,
  othersReadWhileTraced,
  overlayCountsIgnored,
  confirmWithMaps,
  readOthersMapsEnd,
  type Bundle,
  type MapsLine,
  type RangeLine,
} from './bundle.js';
import { contradiction, noEventTraced, untracedBy, untracedTarget } from './untraced.js';
import { endMappings, findingsKeptByName, fromKernelName, keptDeleted, unexplainedDeleted, unexplainedLines } from './maps-end.js';
import { findingStart, heldNow, type Finding } from '../engine/findings.js';
import { isDeletedFile, parseDev } from '../parse/maps.js';
import { tailFile } from './tail.js';
import type { TraceFormat } from './formats.js';
import { resolveInputs } from './inputs.js';
import type { ReadThread } from './threaded-source.js';
import { Run } from './run.js';

export { MAX_SAMPLES } from './run.js';

export interface InputInfo {
  path: string;
  format: TraceFormat;
  sha256: string;
}

export interface Progress {
  source: string;
  bytesRead: number;
  size: number | null;
  lines: number;
  unparsedLines: number;
}

export interface AnalyzeOptions {
  /** Every finding decided or resolved, as it happens (ndjson, TUI). */
  onChange?: (change: EngineChange, engine: Engine) => void;
  /** At most every `progressEveryMs` while reading, and once at the end of each input. */
  onProgress?: (progress: Progress, engine: Engine) => void;
  /**
   * 100 unless said: a view redraws no faster. 0 reports as often as the
   * reader asks (every 4096 lines), which a test that must look at a chosen
   * point of the read needs, however fast the machine reads.
   */
  progressEveryMs?: number;
  /**
   * The process the user asked about (`analyze --pid`): the engine may name an
   * attach trace's process by it, and the analysis says so when no process of
   * the trace has this id.
   */
  pid?: number;
  /** Where large trace files are read (threaded-source.ts); `auto` unless a test or a benchmark says. */
  readThread?: ReadThread;
}

export interface Analysis {
  engine: Engine;
  inputs: InputInfo[];
  lines: number;
  events: number;
  unparsedLines: number;
  unparsedSamples: Diagnostic[];
  lostEvents: number;
  warnings: string[];
  /**
   * The paths from the trace or the bundle that `warnings` name, as written
   * there. A path may hold spaces, and free text cannot tell where one ends:
   * --redact replaces these whole, as it hashes a finding's path
   * (Redaction.withWholePaths).
   */
  warningPaths: string[];
  /** Set when `pid` was asked for and is not a process of the trace: also in `warnings`. */
  pidNotice: string | null;
  /** Inputs with no line at all (also a warning): they prove nothing, for a verdict. */
  emptyInputs: string[];
  /** Set when the bundle holds nothing of its process (untracedTarget), or a trace without a bundle no event (noEventTraced): the input, and why (also a warning). It proves nothing either. */
  untraced?: { input: string; why: string };
  /**
   * Set when the trace may lack what a verdict needs (also a warning), so a
   * run with no failing finding proves nothing (review 22), in words: a
   * bundle its capture did not finish (no end time or exit reason, or
   * "complete": false: "the capture did not finish DIR (…): its trace may stop
   * early"; a disk-full capture passed --fail-on and diff), or a child strace
   * could not follow (Engine.untracedReason).
   */
  undecided?: string;
  bundle: Bundle | null;
  /** The time the trace covers: its first and last event times (the chart's axis); null when no event has one. */
  span: { first: number; last: number } | null;
}

export async function analyze(paths: readonly string[], options: AnalyzeOptions = {}): Promise<Analysis> {
  if (paths.length === 0) throw new InputError('no input: name a trace file, a capture bundle directory, or - for stdin');
  const inputs = await resolveInputs(paths, options.readThread);
  const bundle = inputs.find((input) => input.type === 'bundle')?.bundle ?? null;
  // Merged -ff files are in entry-time order, which the engine must know.
  const engine = new Engine({
    ...bundle?.engineOptions,
    entryOrdered: inputs.some((input) => input.type === 'ff-set'),
    ...(options.pid === undefined ? {} : { pidHint: options.pid }),
  });
  const run = new Run(engine, options);
  let unfinished: string | undefined;
  for (const input of inputs) {
    switch (input.type) {
      case 'stream':
        run.followFfSet(input.ffSet);
        await run.readStream(input.source, input.defaultTid);
        await run.checkFfSet();
        break;
      case 'ff-set':
        run.followFfSet(input.ffSet);
        await run.readFfSet(input.files);
        await run.checkFfSet();
        break;
      case 'bundle': {
        // A capture that traced nothing says why, and more than "unfinished": see warnUntraced (its reasons that need no count of events or lines).
        if (input.bundle.unfinished && untracedBy(input.bundle.meta) === null) {
          run.warnings.push(`${input.bundle.dir}: the capture did not finish this bundle (${unfinishedBecause(input.bundle.meta)}): the trace may stop early`);
          unfinished ??= `the capture did not finish ${input.bundle.dir} (${unfinishedBecause(input.bundle.meta)}): its trace may stop early`;
        }
        if (input.bundle.startUnread !== null) unfinished ??= input.bundle.startUnread;
        // Without those names looked up, a mapped file a process the trace does not follow removed reads clean (review 66, A-2, A-3).
        const unchecked = input.bundle.meta.mappedGoneUnchecked;
        if (typeof unchecked === 'string') {
          const why = `the capture could not check whether every file mapped during its trace still had its name once the trace ended (meta.json: ${unchecked}): a mapping whose file a process the trace does not follow removed may be missed`;
          run.warnings.push(`${input.bundle.dir}: ${why}`);
          unfinished ??= `${input.bundle.dir}: ${why}`;
        }
        // Its first moments are in maps-start.txt already: what their mmaps made is not seeded, and what they removed
        // may have been mapped in neither snapshot (start-read.ts).
        const beforeRead = traceBeforeStartRead(input.bundle);
        run.seed(beforeRead === null ? input.bundle : withoutSeedsMadeInTrace(input.bundle, beforeRead));
        if (beforeRead !== null && beforeRead.removals.size > 0) engine.removalsBeforeStartRead(input.bundle.traceFiles[0]!, beforeRead.removals);
        // A finished capture's own record of when it began to stop; live follows a bundle before it has one.
        const stopAfterByte = input.bundle.meta.backend === 'bpftrace' ? input.bundle.meta.stopAfterByte : undefined;
        // One whose meta.json says nothing was traced is no trace to refuse: its trace holds what the tracer
        // printed as it began ("Attaching 86 probes...", bpftrace's end record) and the verdict says why it proves
        // nothing (review 31, attack F3b: "not a syscall trace … not from scripts/orphanmap.bt").
        const judge = untracedBy(input.bundle.meta) === null;
        for (let index = 0; index < input.bundle.traceFiles.length; index++) {
          await run.readStream(await bundleTraceSource(input.bundle, index, options.readThread), 0, judge, stopAfterByte);
        }
        // An attached process that made no call orphanmap follows leaves an empty trace, and the /proc/PID/maps
        // snapshots the capture read are the verdict: a mapping another process's removal left "(deleted)" is in
        // maps-end.txt (review 20: --fail-on refused such a bundle, though its report listed the leak).
        if (input.bundle.meta.mode === 'attached' && (input.bundle.mapsEnd !== null || input.bundle.seeds.size > 0)) {
          run.snapshotsJudge(input.bundle.traceFiles, { start: input.bundle.seeds.size > 0, end: input.bundle.mapsEnd !== null });
        }
        break;
      }
    }
  }
  engine.unfollowedThreadsFrom(run.lowestSkippedTid);
  const finishing = engine.finish();
  if (bundle === null) run.report(finishing);
  const checked = bundle === null ? null : await checkWithMaps(run, engine, bundle, finishing);
  const untraced = checked === null ? warnNoEvent(run, engine, paths[0]!) : warnUntraced(run, engine, checked);
  const analysis = run.result(checked, checked === null ? [] : bundleProcesses(checked));
  const undecided = unfinished ?? run.damage ?? engine.untracedReason() ?? undefined;
  return { ...analysis, ...(untraced === undefined ? {} : { untraced }), ...(undecided === undefined ? {} : { undecided }) };
}

/**
 * A bundle that holds nothing of its process (untracedTarget) proves nothing:
 * said first among the warnings, since the report would otherwise read as
 * clean; where a verdict is asked for, refuseEmptyInputs refuses it.
 */
function warnUntraced(run: Run, engine: Engine, bundle: Bundle): Analysis['untraced'] {
  const events = engine.stats().events;
  const contradicted = contradiction(bundle.meta, events);
  if (contradicted !== null) run.warnings.unshift(`${join(bundle.dir, 'meta.json')}: ${contradicted}`);
  const why = untracedTarget(bundle.meta, events, run.lines);
  if (why === null) return undefined;
  run.warnings.unshift(`${bundle.dir}: ${why}, so the bundle proves nothing either way (--fail-on and diff refuse it)`);
  return { input: bundle.dir, why };
}

/** The same for traces without a bundle: lines, but no event (noEventTraced). Named by the first input. */
function warnNoEvent(run: Run, engine: Engine, input: string): Analysis['untraced'] {
  const why = noEventTraced(engine.stats().fileEvents, run.lines);
  // An empty input is said so, and refused, already (Run.emptyInputs).
  if (why === null || run.lines === 0) return undefined;
  run.warnings.unshift(`${input}: ${why}, so it proves nothing either way (--fail-on and diff refuse it)`);
  return { input, why };
}

/**
 * Live mode: follow a bundle's trace while the capture writes it. Findings
 * reach `onChange` within a poll interval of the line that decided them.
 */
export async function analyzeLiveBundle(dir: string, captureDone: Promise<unknown>, options: AnalyzeOptions = {}): Promise<Analysis> {
  const bundle = await loadBundle(dir);
  const engine = new Engine({ ...bundle.engineOptions, watchAllProcesses: true });
  const run = new Run(engine, options);
  run.seed(bundle);
  // The trace is followed by its path as the capture writes it (tailSource), not through the
  // descriptors loadBundle checked it on: they are closed, not kept for the life of the process.
  for (const fd of bundle.traceFds) closeSync(fd);
  // Its maps-end.N.txt are read of the finished bundle, below.
  closeOthersMapsEnd(bundle);
  const trace = bundle.traceFiles[0] ?? join(dir, 'trace.txt');
  // A traced process can print a line that reads as the stop record (review 21: every leak after it hidden):
  // one is taken only from where the capture says it began to stop, as analyze takes it from meta.json.
  const stop = bundle.meta.backend === 'bpftrace' ? liveStopBound(dir) : undefined;
  // Our own capture, shown as it grows: never rejected at its end.
  await run.readStream(tailSource(trace, captureDone, stop?.look), 0, false, stop?.bound);
  const finishing = engine.finish();
  // The capture has finished the bundle: maps at end and final metadata.
  const finished = await checkWithMaps(run, engine, await loadBundle(dir), finishing);
  const untraced = warnUntraced(run, engine, finished);
  const analysis = run.result(finished, bundleProcesses(finished));
  return untraced === undefined ? analysis : { ...analysis, untraced };
}

/**
 * The findings of the captured process against its maps-end.txt: those it
 * confirms; the deleted files' mappings none explains, findings too (whose
 * unlink the trace does not show); and a warning for those that cannot be.
 * The same for each other traced process by its maps-end.N.txt, read only
 * now (readOthersMapsEnd: what is kept of each depends on the findings and
 * on which processes the trace shows). The bundle with what was kept of
 * them (Bundle.mapsEndOthers), for the report. `finishing`, the changes the
 * end of the trace made (its still-mapped findings), is reported once the maps
 * have said what they say of each: an NDJSON line is the finding as it is
 * when written, and the last of each must be the report's (review 56, F1).
 */
async function checkWithMaps(run: Run, engine: Engine, bundle: Bundle, finishing: EngineChange[]): Promise<Bundle> {
  const children = childrenAtAttachWarning(bundle.meta, (pid) => engine.showsProcess(pid));
  if (children !== null) run.warnings.push(children);
  const others = await readOthersMapsEnd(bundle, (pid) => engine.showsProcess(pid), findingStarts(engine.findings()));
  for (const warning of others.warnings) run.warnings.push(warning);
  doubtUntracedCopies(run, engine, bundle);
  const checked: Bundle = { ...bundle, mapsEndOthers: others.kept };
  const confirmed = confirmWithMaps(engine.findings(), checked);
  if (bundle.meta.pid === undefined) {
    run.report(finishing);
    return checked;
  }
  const pid = bundle.meta.pid;
  // A launched command's maps are read before the capture stops it: the trace goes on past them.
  const readBeforeStop = bundle.meta.mode === 'launched';
  // What the checks below report is written as it stands then, already resolved: not again below (review 58, F6).
  const reported = new Set<Finding>();
  run.recording = reported;
  if (bundle.mapsEnd !== null) checkProcess(run, engine, pid, bundle.mapsEnd, join(bundle.dir, 'maps-end.txt'), readBeforeStop, bundle.mapsEndLinks);
  // The other traced processes alive at the end (maps-end.N.txt), each by its own maps and the same
  // rules; only those the trace shows: a pid it never showed is a process it did not follow (one forked before an attach).
  const unchecked: number[] = [];
  for (const [other, lines] of others.kept) {
    if (engine.checkableAtEnd(other)) checkProcess(run, engine, other, lines, join(bundle.dir, `maps-end.${other}.txt`), othersReadWhileTraced(bundle.meta));
    else unchecked.push(other);
  }
  renamedNotRemoved(run, engine, bundle, others.kept);
  if (unchecked.length > 0) {
    run.warnings.push(
      `${unchecked.length} traced process(es) exited once the capture had read their maps (maps-end.N.txt: pid ${unchecked.slice(0, UNSEEN_NAMED).join(', ')}${unchecked.length > UNSEEN_NAMED ? ', …' : ''}): ` +
        `live does not check those maps against the trace; orphanmap analyze ${bundle.dir} does`,
    );
  }
  // Now, with what the maps said, their lines in the evidence included; and again those the end did not resolve
  // (resolved before, at their process's exit: a launched command's), whose lines were written.
  run.recording = null;
  run.report(finishing.filter((change) => !reported.has(change.finding)));
  const resolvedNow = new Set(finishing.map((change) => change.finding));
  run.report(confirmed.filter((finding) => !resolvedNow.has(finding) && !reported.has(finding)).map((finding) => ({ type: 'updated', finding })));
  const unseen = [...others.unseenDeleted].map(([other, deleted]) => ({ pid: other, path: fromKernelName(deleted.first.path), mappings: deleted.mappings, bytes: deleted.bytes }));
  if (unseen.length === 0) return checked;
  // Each mapping counted (review 50: ten deleted packs of an untraced `git cat-file` read as "1 mapping is in doubt").
  engine.notTracedHolding(unseen.flatMap((process) => Array.from({ length: Math.max(process.mappings, 1) }, () => ({ pid: process.pid, name: process.path }))));
  // Said, not reported: what the trace never showed of a process it cannot explain.
  const shown = unseen.slice(0, UNSEEN_NAMED);
  const mappings = unseen.reduce((sum, process) => sum + process.mappings, 0);
  const bytes = unseen.reduce((sum, process) => sum + process.bytes, 0);
  run.warnings.push(
    `${bundle.dir}: ${unseen.length} process(es) alive at the end that the trace never shows (started before the capture attached, so not traced) map deleted files (maps-end.N.txt), ` +
      `which the trace cannot check: their ${mappings.toLocaleString('en-US')} mapping(s) of deleted files (${sizeText(bytes)}) are in doubt: ` +
      `${shown.map((process) => `pid ${process.pid} (${process.path}${process.mappings > 1 ? `, and ${(process.mappings - 1).toLocaleString('en-US')} more` : ''})`).join(', ')}${unseen.length > UNSEEN_NAMED ? `, and ${unseen.length - UNSEEN_NAMED} more processes` : ''}`,
  );
  run.warningPaths.push(...shown.map((process) => process.path));
  return checked;
}

/**
 * Children of an attached process, forked before the attach and so not
 * traced, hold copies of what it mapped then: one the capture could not read
 * the maps of at the end (it had exited) may have held a copy of a file the
 * trace shows removed past that, a mapping of each such file in
 * doubt (review 64, F-4: a LevelDB process forked a child, then compacted;
 * /proc showed the child holding the removed tables; clean, exit 0). A child
 * alive at the end is judged by its maps-end.N.txt.
 */
function doubtUntracedCopies(run: Run, engine: Engine, bundle: Bundle): void {
  const gone = engine.untracedCopiesGone();
  if (gone.length === 0) return;
  const judged = new Set((bundle.othersMapsEnd?.files ?? []).map(([pid]) => pid));
  const children = untracedChildren(bundle.meta, (pid) => engine.showsProcess(pid)).filter((pid) => !judged.has(pid));
  if (children.length === 0) return;
  engine.notTracedHolding(children.flatMap((pid) => gone.map(({ name }) => ({ pid, name }))));
  const first = gone[0]!;
  run.warnings.push(
    `the trace shows ${first.name} removed at ${first.at}${gone.length > 1 ? ` (and ${(gone.length - 1).toLocaleString('en-US')} more files)` : ''}, ` +
      `a file process ${bundle.meta.pid} mapped before the trace (maps-start.txt), while its child process(es) forked before the capture attached ran untraced ` +
      `(${children.slice(0, UNSEEN_NAMED).join(', ')}${children.length > UNSEEN_NAMED ? ', …' : ''}; meta.json's childrenAtAttach), and exited before the capture could read their maps: ` +
      `a copy of that mapping the fork gave them may have outlived the file: in doubt. Capture each with --pid of its own`,
  );
  run.warningPaths.push(first.name);
}

/** Where each finding starts, sorted, each once: the addresses whose lines of maps-end.N.txt are kept. */
function findingStarts(findings: readonly Finding[]): Float64Array {
  const starts = Float64Array.from(findings, (finding) => findingStart(heldNow(finding)[0]!)).sort();
  let count = 0;
  for (let k = 0; k < starts.length; k++) if (k === 0 || starts[k]! !== starts[k - 1]!) starts[count++] = starts[k]!;
  return starts.subarray(0, count);
}

/** How many of the processes the trace never shows a warning names. */
const UNSEEN_NAMED = 3;

/**
 * checkWithMaps for process `pid` and its maps at the end (`mapsEnd`, read
 * from `path`), with the links the capture counted of the files they print
 * "(deleted)" (`links`, maps-end.nlink), when it did.
 */
function checkProcess(run: Run, engine: Engine, pid: number, mapsEnd: readonly MapsLine[], path: string, readBeforeStop: boolean, links: ReadonlyMap<number, RangeLine> | null = null): void {
  // The capture's count of the line's file, if it counted it (a mapping gone by the count has none).
  const linkOf = (line: MapsLine) => {
    const link = links?.get(line.start);
    return link !== undefined && link.end === line.end && countIsOf(link, line.inode, line.dev) ? link : null;
  };
  // …and only where it tells: not an overlayfs count of a file printed "(deleted)" (countTells).
  const countOf = (line: MapsLine) => {
    const link = linkOf(line);
    return link !== null && countTells(link, isDeletedFile(line)) ? link.count : null;
  };
  const overlayIgnored =
    links === null
      ? 0
      : mapsEnd.filter((line) => {
          const link = linkOf(line);
          return link !== null && !countTells(link, isDeletedFile(line));
        }).length;
  const ignored = overlayCountsIgnored(path.replace(/\.txt$/, '.nlink'), overlayIgnored);
  if (ignored !== null) run.warnings.push(ignored);
  // Printed "(deleted)", but a name kept the file: no leak, and nothing to explain.
  const named = (line: MapsLine) => (countOf(line) ?? 0) > 0;
  const kept = links === null ? [] : mapsEnd.filter((line) => isDeletedFile(line) && named(line));
  const deleted = kept.length === 0 ? mapsEnd : mapsEnd.filter((line) => !(isDeletedFile(line) && named(line)));
  const lines = unexplainedLines(engine.findings(), deleted, pid, readBeforeStop);
  const noLinkLeft = (line: MapsLine) => countOf(line) === 0;
  if (lines.length > 0) run.report(engine.deletedAtEnd(pid, endMappings(lines, path, noLinkLeft)));
  // Those a finding of the trace covers are said apart: the count contradicts the finding (a name the trace did not
  // see made, as an untraced `ln a b` is), and the report must not call the mapping no leak and a leak at once
  // (review 33's code review, 5). No file gets a name back once its last has gone, so maps read after the trace
  // (an attach's) take such a finding back (review 33, exactness 4); a launched command's are read while the trace
  // goes on, and its last name may have gone after the read.
  const uncovered = kept.length === 0 ? kept : unexplainedLines(engine.findings(), kept, pid, readBeforeStop);
  const left = new Set(uncovered);
  const covered = uncovered.length === kept.length ? [] : kept.filter((line) => !left.has(line));
  // A finding is taken back only when every line of its span is of its file with a name left (findingsKeptByName): the
  // lines of the others stay said as perhaps false.
  let takenBack: readonly MapsLine[] = [];
  let inDoubt = covered;
  if (!readBeforeStop) {
    const taken = covered.length === 0 ? [] : findingsKeptByName(engine.findings(), mapsEnd, pid, named);
    if (taken.length > 0) {
      run.report(engine.keptByAnotherName(taken));
      const stillDoubted = new Set(unexplainedLines(taken, covered, pid, readBeforeStop));
      takenBack = covered.filter((line) => !stillDoubted.has(line));
      inDoubt = covered.filter((line) => stillDoubted.has(line));
    }
    engine.keptAtEnd(
      pid,
      kept.map((line) => ({ start: line.start, end: line.end, name: fromKernelName(line.path) })),
    );
  }
  for (const warning of [keptDeleted(uncovered, pid, path), keptDeleted(takenBack, pid, path, 'taken back'), keptDeleted(inDoubt, pid, path, 'in doubt')]) {
    if (warning === null) continue;
    run.warnings.push(warning.warning);
    run.warningPaths.push(...warning.paths);
  }
  const unexplained = unexplainedDeleted(engine.findings(), deleted, pid, path, readBeforeStop);
  if (unexplained === null) return;
  run.warnings.push(unexplained.warning);
  run.warningPaths.push(...unexplained.paths);
}

/**
 * The findings of files the capture found gone from their names once its
 * process had exited (maps-start-gone.txt: the name led nowhere, or to
 * another file), when a copy of that very mapping (a fork's, the trace
 * showing it live to the end) is in its process's maps at the end
 * (maps-end.N.txt), at its address, of the same device and inode, under a
 * name, not "(deleted)": the file it held all along had a name then, and no
 * file gets one back once its last has gone, so it was renamed, not removed
 * (review 82, E2: a blue/green deploy moved the directory of a pre-fork
 * server's file away and put a new one in its place; the server exited, its
 * workers held the file on as app.old/data, and four errors, exit 3). Only
 * such a copy tells: a line of the same inode number elsewhere may be a new
 * file that took the number once the old one was freed (code review 83).
 * Benign (RENAMED_NOT_REMOVED), each finding of that maps-start.txt line,
 * and said. A process that held it alone, with no maps read after its exit,
 * stays a finding: nothing tells a rename from a removal then.
 */
function renamedNotRemoved(run: Run, engine: Engine, bundle: Bundle, others: ReadonlyMap<number, readonly MapsLine[]>): void {
  const gone = bundle.engineOptions.goneAtExit;
  if (gone === undefined || others.size === 0) return;
  // The maps-start.txt lines the findings were seeded from (a fork's copy keeps its parent's line), by number.
  const seeded = new Map<number, string>();
  for (const seed of bundle.seeds.get(gone.pid) ?? []) {
    const inode = seed.mapsInode;
    if (inode !== undefined) seeded.set(seed.place.line, `${Math.floor(inode.dev / 2 ** 20)}:${inode.dev % 2 ** 20}:${inode.ino}`);
  }
  const candidates = engine
    .findings()
    .filter((finding) => finding.kind === 'unlinked-while-mapped' && finding.benign === undefined && finding.unlinkedAt === null && finding.mappedAt?.file === gone.startFile);
  // The maps-start.txt lines a live copy shows named at the end, with where.
  const named = new Map<number, { pid: number; path: string }>();
  for (const finding of candidates) {
    if (finding.resolution !== 'still-mapped' || named.has(finding.mappedAt!.line)) continue;
    const start = findingStart(finding);
    const line = others.get(finding.pid)?.find((each) => each.start === start);
    if (line === undefined || line.deleted || !line.path.startsWith('/')) continue;
    const dev = parseDev(line.dev);
    if (dev !== null && `${dev.major}:${dev.minor}:${line.inode}` === seeded.get(finding.mappedAt!.line)) named.set(finding.mappedAt!.line, { pid: finding.pid, path: line.path });
  }
  if (named.size === 0) return;
  const taken = candidates.filter((finding) => named.has(finding.mappedAt!.line));
  const first = named.get(taken[0]!.mappedAt!.line)!;
  run.report(engine.renamedNotRemoved(taken));
  run.warnings.push(
    `${taken.length === 1 ? 'a finding' : `${taken.length} findings`} of a file the capture found gone from its name once process ${gone.pid} had exited (maps-start-gone.txt) ` +
      `${taken.length === 1 ? 'is' : 'are'} no leak: the maps read at the end show that very file (its device and inode) mapped under a name, not "(deleted)" ` +
      `(${first.path} in process ${first.pid}): it was renamed, not removed (benign, "renamed, not removed")`,
  );
  run.warningPaths.push(first.path);
}

/**
 * Where a live bpftrace capture began to stop, once it has: the capture script
 * writes it to `.stop-after-byte` before the call whose record it is, so a read
 * that got that record, and looked after it (`look`), knows it.
 */
function liveStopBound(dir: string): { look: () => void; bound: () => number | null } {
  let bound: number | null = null;
  return {
    look() {
      if (bound !== null) return;
      let fd: number | null = null;
      try {
        // Not followed, never waited on: the bundle is the capture's own, but a file planted there is no reason to hang.
        fd = openSync(join(dir, '.stop-after-byte'), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        if (!fstatSync(fd).isFile()) return;
        const bytes = Buffer.alloc(32);
        const text = bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, 0)).toString('latin1');
        if (/^\d{1,15}\n$/.test(text)) bound = Number(text.trimEnd());
      } catch {
        // Not written yet: the capture has not begun to stop.
      } finally {
        if (fd !== null) closeSync(fd);
      }
    },
    bound: () => bound,
  };
}

/** Why meta.json reads as a capture's that did not finish (Bundle.unfinished), in its own fields. */
function unfinishedBecause(meta: Bundle['meta']): string {
  const why: string[] = [];
  if (meta.endTime === null) why.push('no end time');
  if (meta.exitReason === null || meta.exitReason === undefined) why.push('no exit reason');
  if (meta.complete === false) why.push('"complete": false');
  return `meta.json has ${why.join(', ')}`;
}

function tailSource(path: string, writerDone: Promise<unknown>, afterRead?: () => void): LineSource {
  let bytes = 0;
  let digest = '';
  return {
    name: path,
    size: null,
    // The tracer appends to it: what was read stays where it was.
    reread: path,
    bytesRead: () => bytes,
    sha256: () => digest,
    async each(onLine, onLongLine, onIdle) {
      const result = await tailFile(path, onLine, {
        writerDone,
        ...(onLongLine === undefined ? {} : { onLongLine }),
        ...(onIdle === undefined ? {} : { onIdle }),
        ...(afterRead === undefined ? {} : { afterRead }),
      });
      bytes = result.bytes;
      digest = await hashFile(path);
    },
  };
}

/** SHA-256 of a file, streamed: a live capture can be gigabytes. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The processes a bundle's meta.json names: the traced pid and its threads' groups. */
function bundleProcesses(bundle: Bundle): number[] {
  const ids = [...(bundle.engineOptions.threadGroups?.values() ?? [])];
  if (bundle.engineOptions.rootPid !== undefined) ids.push(bundle.engineOptions.rootPid);
  return ids;
}

/** "8.0 KiB", "1,536.0 MiB": a size in a warning (report/ does the report's own). */
function sizeText(bytes: number): string {
  const [value, unit] = bytes < 1 << 20 ? [bytes / 1024, 'KiB'] : [bytes / (1 << 20), 'MiB'];
  return `${value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ${unit}`;
}

/** `bundle` without the seeds of maps-start.txt that a traced mmap made before the capture read it (seedMadeInTrace): the trace makes them. */
function withoutSeedsMadeInTrace(bundle: Bundle, before: BeforeStartRead): Bundle {
  if (before.mapped.length === 0) return bundle;
  const seeds = new Map([...bundle.seeds].map(([pid, mappings]) => [pid, mappings.filter((seed) => !seedMadeInTrace(seed, before))]));
  return { ...bundle, seeds };
}
