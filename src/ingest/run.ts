// One analysis run: the lines of each input through its parser into the
// engine, with the counts, samples and warnings a report needs.
import type { Engine, EngineChange } from '../engine/engine.js';
import type { Finding } from '../engine/findings.js';
import { countedEvent, cutSampleText, type Diagnostic, type TraceEvent } from '../parse/events.js';
import { StraceReader, type ParseOutput, type StraceShape } from '../parse/strace.js';
import { parseStraceLine } from '../parse/strace-line.js';
import { flatCopy } from '../parse/flat-copy.js';
import { InputError, NotATraceError } from '../errors.js';
import { type HeapPressure, HeapWatch } from './heap-guard.js';
import type { LineSkipping } from './line-filter.js';
import { fileLineCursor, MAX_LINE_CHARS, type CursorLine, type LineSource } from './lines.js';
import type { Bundle } from './bundle.js';
import { CAPTURE_ADVICE, createLineParser, describeNonTrace, detectFormat, HEAD_LINES, isNotATrace, type InputCounts, type LineParser, shapeFiltered } from './formats.js';
import type { Analysis, AnalyzeOptions, InputInfo } from './analyze.js';
import { dayStart, effectSeconds, type FfClock, FfMembers, type FfOrderSeen, type FfSet, onClock, refuseUnordered } from './ff-set.js';
import { InputEvidence, TEXT_EVIDENCE } from './evidence.js';
import type { EvidenceKeeper } from '../parse/events.js';
import { TraceIds } from './trace-ids.js';

export const MAX_SAMPLES = 20;
/**
 * How long a live trace's line may take from its call to being read here: the
 * tracer's write, bpftrace's reorder window (150 ms), the tail's poll (25 ms).
 * Run.quiet counts the trace's clock this much short of the reader's.
 */
const LIVE_LAG_SECONDS = 1;
const MAX_SAMPLE_TEXT = 400;
/**
 * Outputs drained are left in `out` until this many: emptying it after each
 * line (`length = 0`) dropped its storage, and the next line's output
 * allocated it again (f20: 112,855 arrays of 17 slots). Few, as they keep
 * their events (and the input chunks those slice) alive until then.
 */
const DRAINED_KEPT = 256;

export class Run {
  lines = 0;
  unparsed = 0;
  lost = 0;
  /** strace inputs that hold only calls orphanmap follows (LineParser.filtered): their filter may have left out link and linkat. */
  private readonly filtered: string[] = [];
  /**
   * Whether an input showed a call nobody follows: taken with no such filter. Its run is one capture, most likely
   * (several files of one incident), so the warning is not given: one small input of a child that made only followed
   * calls before its exit does not make an unfiltered trace's run filtered (code review 83, F7).
   */
  private unfilteredSeen = false;
  /** Why an input is not its tracer's output whole (LineParser.damage): the first one, for Analysis.undecided. */
  damage: string | undefined;
  /** Events applied, all inputs together. */
  events = 0;
  /** Only kept when `--pid` asks about one process. */
  private readonly ids: TraceIds | null;
  /** The bound on what the trace makes the engine hold (heap-guard.ts). */
  private readonly heap = new HeapWatch();
  readonly samples: Diagnostic[] = [];
  readonly inputs: InputInfo[] = [];
  readonly warnings: string[] = [];
  /** The paths from the inputs' contents that `warnings` name (Analysis.warningPaths). */
  readonly warningPaths: string[] = [];
  /** Inputs with no line: they prove nothing (refuseEmptyInputs), unless a bundle's maps snapshots judge them (snapshotsJudge). */
  private readonly empty: string[] = [];
  /** The lowest thread id of the lines of calls nobody follows, over every strace input (StraceReader.lowestSkippedTid). */
  lowestSkippedTid = Number.POSITIVE_INFINITY;

  get emptyInputs(): readonly string[] {
    return this.empty;
  }

  /**
   * These trace files, empty or not, are judged by their bundle's /proc/PID/maps snapshots: none is an empty
   * input, and the warning says the process was idle rather than "empty input", which read as a failed capture
   * (review 91, 4: an idle imap process whose cache file another process replaced, the finding right).
   */
  snapshotsJudge(traceFiles: readonly string[], snapshots: { start: boolean; end: boolean }): void {
    // Only the snapshots the bundle holds: a process that exited before the end has no maps-end.txt (code review 92, 2).
    const read =
      snapshots.start && snapshots.end ? 'read at the start and at the end (maps-start.txt, maps-end.txt)' : snapshots.start ? 'read at the start (maps-start.txt)' : 'read at the end (maps-end.txt)';
    for (const file of traceFiles) {
      const at = this.empty.indexOf(file);
      if (at < 0) continue;
      this.empty.splice(at, 1);
      const warning = this.warnings.indexOf(`${file}: empty input: no trace lines`);
      if (warning >= 0) {
        this.warnings[warning] =
          `${file}: empty: the process made none of the calls the capture traces while it was attached; what the report says of its mappings comes from its /proc/PID/maps, ${read}`;
      }
    }
  }
  private readonly out: ParseOutput[] = [];
  /** Outputs of `out` before this index are drained already. */
  private drained = 0;
  /** While an -ff set (or one file of it) is read: the members its clones name. */
  private ffMembers: FfMembers | null = null;
  /** A bundle's maps-start.txt seeded the engine: a trace without an execve lacks no mapping. */
  private mapsStartRead = false;
  /** What files keep of the events of the input being read, for evidence. */
  private keeper: EvidenceKeeper = TEXT_EVIDENCE;

  constructor(
    readonly engine: Engine,
    readonly options: AnalyzeOptions,
  ) {
    this.ids = options.pid === undefined ? null : new TraceIds();
  }

  followFfSet(set: FfSet | undefined): void {
    this.ffMembers = set === undefined ? null : new FfMembers(set);
  }

  /** After an -ff set: a member its clones name but whose file was not read is said. */
  async checkFfSet(): Promise<void> {
    if (this.ffMembers === null) return;
    this.warnings.push(...(await this.ffMembers.warnings()));
    this.ffMembers = null;
  }

  seed(bundle: Bundle): void {
    if (bundle.seeds.size > 0) this.mapsStartRead = true;
    for (const [pid, mappings] of bundle.seeds) this.report(this.engine.seedMappings(pid, mappings));
    for (const [pid, fds] of bundle.fdSeeds) this.engine.seedFds(pid, fds);
    if (bundle.ringAtStart !== null) this.engine.ringBeforeTrace(bundle.ringAtStart.pid, bundle.ringAtStart.at);
    if (bundle.otherViewAtStart !== null) this.engine.otherViewBeforeTrace(bundle.otherViewAtStart.pid, bundle.otherViewAtStart.at);
    for (const warning of bundle.warnings) this.warnings.push(warning);
  }

  /**
   * @param judge reject the input (NotATraceError) when it was not a trace at all
   * @param stopAfterByte where in a bpftrace bundle's trace the capture began to stop (BundleMeta.stopAfterByte):
   * the reader takes no `stop` record from a line before it (BpftraceReader.trustStopsFrom); undefined, any
   * (older bundles, a trace alone); a function for a trace read while it is written (live), which tells it
   * once the capture has (null until then)
   */
  async readStream(source: LineSource, defaultTid: number, judge = true, stopAfterByte?: number | null | (() => number | null)): Promise<void> {
    let parser: LineParser | null = null;
    let pendingFirst: { text: string; lineNo: number }[] = [];
    const progressMask = source.size === null ? 0x3f : 0xfff;
    const eventsBefore = this.events;
    let contentLines = 0;
    const head: string[] = [];
    // A file is read again for evidence: its events are kept as the places of their lines.
    const places = source.reread === null ? null : new InputEvidence(source.name, source.reread);
    this.keeper = places ?? TEXT_EVIDENCE;
    // The first line a stop record is taken from (trustStopsFrom): that at or past stopAfterByte once reached,
    // none before (Infinity); any, without a bound (undefined).
    let stopsFrom = stopAfterByte === undefined ? undefined : Number.POSITIVE_INFINITY;
    const stopBound = () => (typeof stopAfterByte === 'function' ? stopAfterByte() : stopAfterByte) ?? Number.POSITIVE_INFINITY;
    // A keyed bpftrace capture (format 2): "KEY " starts each line the script prints, and " KEY" ends each
    // record with a path. The reader takes both off (ContinuationJoiner), so an event's text is the line
    // without them, and its places are kept as such: a line kept by its place is read back as the event had it.
    let keyPrefix: string | null = null;
    let keySuffix = '';
    const feed = (text: string, lineNo: number, offset: number, bytes: number) => {
      this.lines++;
      if (stopsFrom === Number.POSITIVE_INFINITY && offset >= stopBound()) {
        stopsFrom = lineNo;
        parser?.trustStopsFrom?.(lineNo);
      }
      if (keyPrefix === null || bytes < 0) places?.line(lineNo, text.length, offset, bytes);
      else {
        // The key is ASCII: as many bytes as characters. A line that is not as cut here keeps its text (a length that differs).
        const start = text.startsWith(keyPrefix) ? keyPrefix.length : 0;
        const end = text.length - start >= keySuffix.length && text.endsWith(keySuffix) ? keySuffix.length : 0;
        places?.line(lineNo, text.length - start - end, offset + start, bytes - start - end);
      }
      if (text.length > 1 || (text.length === 1 && text !== '\r')) {
        contentLines++;
        if (head.length < HEAD_LINES) head.push(flatCopy(text.length > 300 ? text.slice(0, 300) : text));
      }
      if (parser === null) {
        // The format is decided by the first line with content, never by the file name.
        if (text.trim().length === 0) {
          pendingFirst.push({ text, lineNo });
          return;
        }
        parser = createLineParser(detectFormat(text), source.name, defaultTid);
        if (places !== null && parser.timeText !== undefined) places.timeText = parser.timeText;
        if (cutLine >= 0) parser.cut?.(cutLine);
        if (stopsFrom !== undefined) parser.trustStopsFrom?.(stopsFrom);
        for (const early of pendingFirst) parser.push(early.text, early.lineNo, this.out);
        pendingFirst = [];
      }
      parser.push(text, lineNo, this.out);
      if (keyPrefix === null && parser.key !== undefined) {
        const key = parser.key();
        if (key !== null) {
          keyPrefix = `${key} `;
          keySuffix = ` ${key}`;
        }
      }
      if (this.out.length > this.drained) this.drain();
      if ((lineNo & progressMask) === 0) this.maybeProgress(source);
    };
    // Most lines of an unfiltered trace are calls nobody follows: once the
    // parser says how, the line source counts them instead of passing them on
    // (after the first lines, which are kept to show if the input is no trace).
    // The input's last line has no newline: the parser must not read a value cut short for a whole one.
    let cutLine = -1;
    const skipping: LineSkipping = {
      cut: (lineNo) => {
        cutLine = lineNo;
        (parser as LineParser | null)?.cut?.(lineNo);
      },
      policy: () => (head.length < HEAD_LINES ? null : ((parser as LineParser | null)?.skipPolicy?.() ?? null)),
      skipped: (skipped) => {
        (parser as LineParser).noteSkipped?.(skipped);
        this.lines += skipped.lines;
        contentLines += skipped.lines;
        if (this.options.onProgress !== undefined) this.maybeProgress(source);
      },
    };
    const long = (lineNo: number, text: string, length: number) => {
      this.lines++;
      contentLines++;
      if (head.length < HEAD_LINES) head.push(text);
      this.unreadable(tooLong(source.name, lineNo, text, length));
    };
    // A live source that has caught up: the parser and the engine may release what they held for later lines.
    const idle = () => {
      // And the live view's count of lines is exact while the tracer is quiet: progress is otherwise
      // asked every 64 lines only, and a target that went quiet left it short (review 11: "lines 0 events 51").
      if (this.options.onProgress !== undefined) this.progress(source);
      if (parser === null) return;
      if (parser.idle !== undefined) {
        parser.idle(this.out, process.hrtime.bigint());
        if (this.out.length > this.drained) this.drain();
      }
      this.quiet();
    };
    await source.each(feed, long, idle, skipping);
    const finished = parser as LineParser | null;
    if (finished !== null) {
      finished.end(this.out);
      this.drain();
      this.releaseOutputs();
      this.lowestSkippedTid = Math.min(this.lowestSkippedTid, finished.lowestSkippedTid?.() ?? Number.POSITIVE_INFINITY);
      const counts: InputCounts = { format: finished.format, contentLines, traceLines: finished.traceLines(), events: this.events - eventsBefore, head };
      if (judge && isNotATrace(counts)) throw new NotATraceError(describeNonTrace(counts), CAPTURE_ADVICE, source.name);
      this.warnings.push(...finished.warnings(this.mapsStartRead));
      this.noteFilter(finished.filtered?.() ?? null, source.name);
      this.damage ??= finished.damage?.() ?? undefined;
    } else if (contentLines > 0) {
      // Nothing but lines too long to read: not a trace either.
      if (judge)
        throw new NotATraceError(
          `${contentLines === 1 ? 'a single line' : `${contentLines} lines`} longer than ${MAX_LINE_CHARS / (1024 * 1024)} MiB (a trace's lines are a few KiB at most)`,
          CAPTURE_ADVICE,
          source.name,
        );
    } else {
      this.warnings.push(`${source.name}: empty input: no trace lines`);
      this.empty.push(source.name);
    }
    this.inputs.push({ path: source.name, format: finished?.format ?? 'strace', sha256: source.sha256() });
    this.progress(source);
  }

  /** What an input's calls tell of its filter (shapeFiltered), for the run's warning. */
  private noteFilter(filtered: boolean | null, name: string): void {
    if (filtered === true) this.filtered.push(name);
    else if (filtered === false) this.unfilteredSeen = true;
  }

  /**
   * strace -ff writes one file per thread (trace.<tid>), without pid prefixes.
   * Merge them by the time each line's call took effect into one ordered
   * stream: its entry, or its return for a call that makes an fd (effectSeconds).
   * Each file's lines keep their order, so a thread's first line still comes
   * after the clone that made it (stamped at the clone's entry, before the
   * thread ran).
   */
  async readFfSet(files: { path: string; tid: number }[]): Promise<void> {
    const cursors = files.map((file) => ({ path: file.path, lines: fileLineCursor(file.path), reader: new StraceReader(file.path, file.tid), lineNo: 0, head: null as CursorLine | null, time: 0 }));
    const seen: FfOrderSeen = { returns: 0, annotated: 0 };
    const advance = async (cursor: (typeof cursors)[number]): Promise<void> => {
      cursor.head = await cursor.lines.next();
      // A line without a timestamp (a continuation, one too long to read) goes with the line before it.
      cursor.time = cursor.head === null ? Infinity : typeof cursor.head === 'string' ? (lineSeconds(cursor.head, seen) ?? -Infinity) : -Infinity;
    };
    await Promise.all(cursors.map(advance));
    refuseUnordered(
      cursors.map((cursor) => cursor.path),
      cursors.map((cursor) => ffClock(cursor.head)),
    );
    const timed = cursors.some((cursor) => Number.isFinite(cursor.time));
    // -tt times of day: a set that runs past midnight is put on one clock (onClock).
    const timeOfDay = cursors.some((cursor) => typeof cursor.head === 'string' && isTimeOfDay(cursor.head));
    let clock = timeOfDay ? dayStart(cursors.filter((cursor) => Number.isFinite(cursor.time)).map((cursor) => cursor.time)) : -Infinity;
    const handOversBefore = this.engine.fdHandOvers().count;
    const eventsBefore = this.events;
    let contentLines = 0;
    const head: string[] = [];
    this.keeper = TEXT_EVIDENCE;
    for (;;) {
      let best: (typeof cursors)[number] | null = null;
      let bestTime = Infinity;
      for (const cursor of cursors) {
        if (cursor.head === null) continue;
        const time = timeOfDay && Number.isFinite(cursor.time) ? onClock(cursor.time, clock) : cursor.time;
        if (best === null || (timed && time < bestTime)) {
          best = cursor;
          bestTime = time;
        }
        if (!timed) break;
      }
      if (best === null) break;
      if (Number.isFinite(bestTime) && bestTime > clock) clock = bestTime;
      this.lines++;
      const line = best.head!;
      if (typeof line !== 'string') {
        contentLines++;
        if (head.length < HEAD_LINES) head.push(line.long.head);
        this.unreadable(tooLong(best.path, ++best.lineNo, line.long.head, line.long.length));
        await advance(best);
        continue;
      }
      if (line.length > 1 || (line.length === 1 && line !== '\r')) {
        contentLines++;
        if (head.length < HEAD_LINES) head.push(flatCopy(line.length > 300 ? line.slice(0, 300) : line));
      }
      if (++best.lineNo === best.lines.cutLine()) best.reader.cutAt(best.lineNo);
      best.reader.push(line, best.lineNo, this.out);
      this.drain();
      await advance(best);
      if (best.head === null) {
        // A thread's file ends where its thread did: an exit_group it ended with, under -qq, is its process's exit here, in time.
        best.reader.releaseHeldExits(this.out);
        this.drain();
      }
    }
    for (const cursor of cursors) cursor.reader.end(this.out);
    this.drain();
    this.releaseOutputs();
    const traceLines = cursors.reduce((sum, cursor) => sum + cursor.reader.shape.traceLines, 0);
    this.noteFilter(shapeFiltered(cursors.map(({ reader }) => reader.shape)), files.length === 1 ? files[0]!.path : `${files[0]!.path} and the ${files.length - 1} other files of its -ff set`);
    for (const cursor of cursors) this.lowestSkippedTid = Math.min(this.lowestSkippedTid, cursor.reader.lowestSkippedTid);
    const counts: InputCounts = { format: 'strace', contentLines, traceLines, events: this.events - eventsBefore, head };
    if (isNotATrace(counts)) throw new NotATraceError(describeNonTrace(counts), CAPTURE_ADVICE, files[0]!.path);
    if (contentLines === 0) {
      this.warnings.push(`${files.map((file) => file.path).join(', ')}: empty input: no trace lines`);
      this.empty.push(files[0]!.path);
    }
    for (let k = 0; k < files.length; k++) {
      this.inputs.push({ path: files[k]!.path, format: 'strace', sha256: cursors[k]!.lines.sha256() });
    }
    if (cursors.every(({ reader }) => reader.shape.withTime === 0 && reader.shape.withRelative === 0)) {
      this.warnings.push('no -t/-tt/-ttt: delays cannot be measured');
    }
    // As for one file (formats.ts): the member that began first does not start at an execve (review 22: an -ff attach
    // said nothing; code review 57, F6: a posix_spawn child's file starts at its execve, the attached process's not).
    if (contentLines > 0 && !this.mapsStartRead && !startedAtExecve(cursors.map(({ reader }) => reader.shape))) {
      this.warnings.push(
        `${files.length === 1 ? files[0]!.path : `${files[0]!.path} and the ${files.length - 1} other files of its -ff set`}: the trace does not start at an execve (attached to a running process, or execve left out of -e trace=?): ` +
          "mappings made before it are unknown unless a bundle's maps-start.txt is read",
      );
    }
    const handOvers = this.engine.fdHandOvers();
    if (handOvers.first !== null && handOvers.count > handOversBefore && seen.returns === 0 && seen.annotated === 0) {
      const more = handOvers.count - handOversBefore > 1 ? ` (and ${handOvers.count - handOversBefore - 1} more times)` : '';
      this.warnings.push(
        `${handOvers.first.at}: an open returned fd ${handOvers.first.fd} of process ${handOvers.first.pid} while another thread's fd ${handOvers.first.fd} was still open as far as the merged lines show${more}: ` +
          "the files of this strace -ff set are stamped at each call's entry, and without -T (when a call returned) or -y (which file each fd is) a call on that number may be taken for the wrong file: capture with -ff -ttt -T -y, or with -f -o FILE (one file in order)",
      );
    }
  }

  private drain(): void {
    const out = this.out;
    for (let k = this.drained; k < out.length; k++) {
      const output = out[k]!;
      switch (output.type) {
        case 'event':
          this.apply(output.event);
          break;
        case 'diagnostic':
          this.unreadable(output.diagnostic);
          break;
        case 'attached':
          this.engine.noteAttached(output.tid);
          this.ids?.attached(output.tid);
          break;
        case 'tid-known':
          this.report(this.engine.renameTask(output.from, output.tid));
          this.ids?.rename(output.from, output.tid);
          break;
        case 'warning':
          this.warnings.push(flatCopy(output.text));
          break;
      }
    }
    if (out.length >= DRAINED_KEPT) this.releaseOutputs();
    else this.drained = out.length;
  }

  /** Drained outputs go: an input read to its end keeps none of its events alive here. */
  private releaseOutputs(): void {
    this.out.length = 0;
    this.drained = 0;
  }

  /** A line that could not be read: counted, and the first few kept with their place. */
  private unreadable(diagnostic: Diagnostic): void {
    this.unparsed++;
    if (this.samples.length < MAX_SAMPLES) {
      const text = diagnostic.text;
      // Kept to the end of the run: copies, not the line (a slice of its input chunk), nor a reason that quotes it.
      this.samples.push({ ...diagnostic, text: flatCopy(cutSampleText(text, MAX_SAMPLE_TEXT)), reason: flatCopy(diagnostic.reason) });
    }
  }

  /** When (process.hrtime) the first event with a time was applied: live's clock for the trace (quiet). */
  private firstTimedAt: bigint | null = null;

  /**
   * A live source has caught up and waits: what the engine holds back until
   * the trace's clock passes a point is decided if the reader's clock says it
   * has, less LIVE_LAG_SECONDS (Engine.quietAfter).
   */
  private quiet(): void {
    if (this.firstTimedAt === null) return;
    const elapsed = Number(process.hrtime.bigint() - this.firstTimedAt) / 1e9 - LIVE_LAG_SECONDS;
    if (elapsed > 0) this.report(this.engine.quietAfter(elapsed));
  }

  /** The first and last event times, in the parser's seconds: the time the trace covers. */
  private first = Infinity;
  private last = -Infinity;

  private apply(event: TraceEvent): void {
    const pressure = this.heap.pressure();
    if (pressure !== null) this.outgrown(event, pressure);
    if (countedEvent(event)) this.events++;
    const seconds = event.seconds;
    if (seconds !== null && Number.isFinite(seconds)) {
      this.firstTimedAt ??= process.hrtime.bigint();
      if (seconds < this.first) this.first = seconds;
      if (seconds > this.last) this.last = seconds;
    }
    this.ids?.note(event);
    if (this.ffMembers !== null) {
      this.ffMembers.seen(event.tid);
      if (event.kind === 'clone' && event.childTid > 0) this.ffMembers.created(event.childTid, event.place);
    }
    if (event.kind === 'lost') this.lost += event.count;
    this.report(this.engine.apply(event, this.keeper));
  }

  report(changes: EngineChange[]): void {
    for (const change of changes) this.recording?.add(change.finding);
    const onChange = this.options.onChange;
    if (onChange === undefined) return;
    for (const change of changes) onChange(change, this.engine);
  }

  /** The findings reported while set (report): those a later report of the same state need not write again. */
  recording: Set<Finding> | null = null;

  private lastProgress = 0;

  /**
   * At most one progress report each 100 ms (progressEveryMs). Asked every
   * 4096 lines passed on (every 64 for a live trace, no size known, which
   * arrives slowly), which keeps the hot path cheap, and after each run of
   * skipped lines.
   */
  private maybeProgress(source: LineSource): void {
    if (this.options.onProgress === undefined) return;
    const now = Date.now();
    if (now - this.lastProgress < (this.options.progressEveryMs ?? 100)) return;
    this.lastProgress = now;
    this.progress(source);
  }

  private progress(source: LineSource): void {
    this.options.onProgress?.({ source: source.name, bytesRead: source.bytesRead(), size: source.size, lines: this.lines, unparsedLines: this.unparsed }, this.engine);
  }

  /** The state the trace made the engine hold has outgrown the heap (heap-guard.ts): an error at the line reached. */
  private outgrown(event: TraceEvent, { used, limit }: HeapPressure): never {
    const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
    throw new InputError(
      `the trace's processes hold more open fds and live mappings than orphanmap can follow: ${mib(used)} MiB of its ${mib(limit)} MiB heap are in use, nearly all of it live (each fork copies its parent's fds and mappings). ` +
        'A larger heap may finish it: NODE_OPTIONS=--max-old-space-size=MiB',
      event.place.file,
      { line: event.place.line },
    );
  }

  /** @param known processes the capture's metadata names */
  result(bundle: Bundle | null, known: readonly number[]): Analysis {
    if (this.lost > 0) {
      this.warnings.push(`${this.lost} events were lost by the tracer: a mapping reported orphaned may have been unmapped by a lost munmap`);
    }
    const pid = this.options.pid;
    const pidNotice = pid === undefined || this.ids === null ? null : this.ids.notice(pid, [...known, ...this.engine.findings().map((f) => f.pid)]);
    if (pidNotice !== null) this.warnings.push(pidNotice);
    // A capture's filter keeps link and linkat; one written by hand may not (review 81, F1: localedef maps its new
    // archive by a temporary name, links it into place, then removes that name: two errors, "520.7 MiB held when
    // unlinked", and nothing said). Only when it matters: an error to take with that in mind; and not for a filter as
    // broad as the README's, which keeps them (a call of dup, fcntl, mremap… says so: review 82, the warning was noise).
    if (
      bundle === null &&
      this.filtered.length > 0 &&
      !this.unfilteredSeen &&
      this.engine.linksSeen === 0 &&
      this.engine.broadFilterCalls === 0 &&
      this.engine.findings().some((f) => f.kind === 'unlinked-while-mapped' && f.severity === 'error')
    )
      this.warnings.push(
        `${this.filtered.slice(0, 3).join(', ')}${this.filtered.length > 3 ? ` and ${this.filtered.length - 3} more` : ''}: only calls orphanmap follows, and no link or linkat: if -e trace= left them out, a file given another name by link() ` +
          'before its name was removed reads as unlinked while mapped (a temporary file linked into place, then its temporary name removed): ' +
          "each error below may be one. If the filter kept link and linkat (the README's does), the program made none and the errors stand; " +
          'if not, capture again with them in -e trace=, or with orphanmap capture',
      );
    return {
      engine: this.engine,
      inputs: this.inputs,
      lines: this.lines,
      events: this.engine.stats().events,
      unparsedLines: this.unparsed,
      unparsedSamples: this.samples,
      lostEvents: this.lost,
      warnings: [...this.warnings, ...this.engine.assumptions()],
      warningPaths: [...this.warningPaths, ...this.engine.pathsInAssumptions()],
      pidNotice,
      emptyInputs: [...this.empty],
      bundle,
      span: this.first === Infinity ? null : { first: this.first, last: this.last },
    };
  }
}

/** A line over MAX_LINE_CHARS, as an unreadable line of its input. */
function tooLong(file: string, line: number, head: string, length: number): Diagnostic {
  return {
    place: { file, line },
    text: `${head}…`,
    reason: `line of ${length.toLocaleString('en-US')} characters, longer than the ${MAX_LINE_CHARS / (1024 * 1024)} MiB limit: not read`,
  };
}

/** How an -ff file times its lines, from its first line (refuseUnordered). */
function ffClock(head: CursorLine | null): FfClock {
  if (head === null) return 'empty';
  if (typeof head !== 'string') return 'none';
  const record = parseStraceLine(head);
  if ('time' in record && record.time !== null) return record.time.includes('.') ? 'absolute' : 'whole-seconds';
  if ('relative' in record && record.relative !== null) return 'relative';
  return 'none';
}

/** When the line's call took effect, for the merge of an -ff set (effectSeconds). */
function lineSeconds(text: string, seen: FfOrderSeen): number | null {
  const record = parseStraceLine(text);
  if (!('seconds' in record) || record.seconds === null) return null;
  return record.type === 'call' ? effectSeconds(record, record.seconds, seen) : record.seconds;
}

/** The line is stamped with a time of day (-t, -tt), not seconds since the epoch (-ttt). */
function isTimeOfDay(text: string): boolean {
  const record = parseStraceLine(text);
  return 'time' in record && record.time !== null && record.time.includes(':');
}

/**
 * Whether the traced program began in the trace: the member of an -ff set
 * whose first call came first starts at an execve (any member, when the
 * lines have no times).
 */
function startedAtExecve(shapes: readonly StraceShape[]): boolean {
  const timed = shapes.filter((shape) => shape.firstCallSeconds !== null);
  if (timed.length === 0) return shapes.some((shape) => shape.startsAtExecve);
  return timed.reduce((first, shape) => (shape.firstCallSeconds! < first.firstCallSeconds! ? shape : first)).startsAtExecve;
}
