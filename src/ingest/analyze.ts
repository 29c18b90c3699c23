// Post-hoc analysis: resolve the inputs (files, stdin, -ff sets, bundles),
// detect each one's format from its content, feed the lines through the
// parser into one engine, and collect what a report needs.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Engine, type EngineChange } from '../engine/engine.js';
import { CLONE_THREAD, type Diagnostic, type Place, type TraceEvent } from '../parse/events.js';
import { StraceReader, type ParseOutput } from '../parse/strace.js';
import { parseStraceLine } from '../parse/strace-line.js';
import { InputError, NotATraceError } from '../errors.js';
import { fileLineCursor, fileSource, MAX_LINE_CHARS, readFailure, stdinSource, type CursorLine, type LineSource } from './lines.js';
import { loadBundle, confirmWithMaps, type Bundle } from './bundle.js';
import { tailFile } from './tail.js';
import {
  CAPTURE_ADVICE, createLineParser, describeNonTrace, detectFormat, HEAD_LINES, isNotATrace,
  type InputCounts, type LineParser, type TraceFormat,
} from './formats.js';

export const MAX_SAMPLES = 20;
const MAX_SAMPLE_TEXT = 400;

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
  /** At most every 100 ms while reading, and once at the end of each input. */
  onProgress?: (progress: Progress, engine: Engine) => void;
  /**
   * The process the user asked about (`analyze --pid`): the engine may name an
   * attach trace's process by it, and the analysis says so when no process of
   * the trace has this id.
   */
  pid?: number;
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
  /** Set when `pid` was asked for and is not a process of the trace: also in `warnings`. */
  pidNotice: string | null;
  /** Inputs with no line at all (also a warning): they prove nothing, for a verdict. */
  emptyInputs: string[];
  bundle: Bundle | null;
}

/** One input as the user named it, resolved to what must be read. */
type Input =
  /** `ffSet`: the file is the only one read of a strace -ff set. */
  | { type: 'stream'; source: LineSource; defaultTid: number; ffSet?: FfSet }
  | { type: 'ff-set'; files: { path: string; tid: number }[]; ffSet: FfSet }
  | { type: 'bundle'; bundle: Bundle };

/** The files of one strace -ff set: PREFIX.<tid>, one per thread it followed. */
interface FfSet {
  prefix: string;
  tids: ReadonlySet<number>;
}

export async function analyze(paths: readonly string[], options: AnalyzeOptions = {}): Promise<Analysis> {
  if (paths.length === 0) throw new InputError('no input: name a trace file, a capture bundle directory, or - for stdin');
  const inputs = await resolveInputs(paths);
  const bundle = inputs.find((input) => input.type === 'bundle')?.bundle ?? null;
  // Merged -ff files are in entry-time order, which the engine must know.
  const engine = new Engine({
    ...bundle?.engineOptions,
    entryOrdered: inputs.some((input) => input.type === 'ff-set'),
    ...(options.pid === undefined ? {} : { pidHint: options.pid }),
  });
  const run = new Run(engine, options);
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
      case 'bundle':
        if (input.bundle.unfinished) {
          run.warnings.push(`${input.bundle.dir}: the capture did not finish this bundle (meta.json has no end time or exit reason): the trace may stop early`);
        }
        run.seed(input.bundle);
        for (const trace of input.bundle.traceFiles) await run.readStream(await fileSource(trace), 0);
        break;
    }
  }
  run.report(engine.finish());
  if (bundle !== null) confirmWithMaps(engine.findings(), bundle);
  return run.result(bundle, bundle === null ? [] : bundleProcesses(bundle));
}

/**
 * Live mode: follow a bundle's trace while the capture writes it. Findings
 * reach `onChange` within a poll interval of the line that decided them.
 */
export async function analyzeLiveBundle(dir: string, captureDone: Promise<unknown>, options: AnalyzeOptions = {}): Promise<Analysis> {
  const bundle = await loadBundle(dir);
  const engine = new Engine(bundle.engineOptions);
  const run = new Run(engine, options);
  run.seed(bundle);
  const trace = bundle.traceFiles[0] ?? join(dir, 'trace.txt');
  // Our own capture, shown as it grows: never rejected at its end.
  await run.readStream(tailSource(trace, captureDone), 0, false);
  run.report(engine.finish());
  // The capture has finished the bundle: maps at end and final metadata.
  const finished = await loadBundle(dir);
  confirmWithMaps(engine.findings(), finished);
  return run.result(finished, bundleProcesses(finished));
}

function tailSource(path: string, writerDone: Promise<unknown>): LineSource {
  let bytes = 0;
  let digest = '';
  return {
    name: path,
    size: null,
    bytesRead: () => bytes,
    sha256: () => digest,
    async each(onLine, onLongLine, onIdle) {
      const result = await tailFile(path, onLine, { writerDone, ...(onLongLine === undefined ? {} : { onLongLine }), ...(onIdle === undefined ? {} : { onIdle }) });
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

class Run {
  lines = 0;
  unparsed = 0;
  lost = 0;
  /** Events applied, all inputs together. */
  events = 0;
  /** Only kept when `--pid` asks about one process. */
  private readonly ids: TraceIds | null;
  readonly samples: Diagnostic[] = [];
  readonly inputs: InputInfo[] = [];
  readonly warnings: string[] = [];
  readonly emptyInputs: string[] = [];
  private readonly out: ParseOutput[] = [];
  /** While an -ff set (or one file of it) is read: the members its clones name. */
  private ffMembers: FfMembers | null = null;

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
    for (const [pid, mappings] of bundle.seeds) this.report(this.engine.seedMappings(pid, mappings));
    this.warnings.push(...bundle.warnings);
  }

  /** @param judge reject the input (NotATraceError) when it was not a trace at all */
  async readStream(source: LineSource, defaultTid: number, judge = true): Promise<void> {
    let parser: LineParser | null = null;
    let pendingFirst: { text: string; lineNo: number }[] = [];
    const progressMask = source.size === null ? 0x3f : 0xfff;
    const eventsBefore = this.events;
    let contentLines = 0;
    const head: string[] = [];
    const feed = (text: string, lineNo: number) => {
      this.lines++;
      if (text.length > 1 || (text.length === 1 && text !== '\r')) {
        contentLines++;
        if (head.length < HEAD_LINES) head.push(text.length > 300 ? text.slice(0, 300) : copyString(text));
      }
      if (parser === null) {
        // The format is decided by the first line with content, never by the file name.
        if (text.trim().length === 0) {
          pendingFirst.push({ text, lineNo });
          return;
        }
        parser = createLineParser(detectFormat(text), source.name, defaultTid);
        for (const early of pendingFirst) parser.push(early.text, early.lineNo, this.out);
        pendingFirst = [];
      }
      parser.push(text, lineNo, this.out);
      if (this.out.length > 0) this.drain();
      // Checking the clock every 4096 lines keeps the hot path cheap; a live
      // trace (no size known) arrives slowly, so look every 64 lines there.
      if ((lineNo & progressMask) === 0 && this.options.onProgress !== undefined) {
        const now = Date.now();
        if (now - this.lastProgress >= 100) {
          this.lastProgress = now;
          this.progress(source);
        }
      }
    };
    const long = (lineNo: number, text: string, length: number) => {
      this.lines++;
      contentLines++;
      if (head.length < HEAD_LINES) head.push(text);
      this.unreadable(tooLong(source.name, lineNo, text, length));
    };
    // A live source that has caught up: the parser may release what it held for later lines.
    const idle = () => {
      if (parser === null || parser.idle === undefined) return;
      parser.idle(this.out, process.hrtime.bigint());
      if (this.out.length > 0) this.drain();
    };
    await source.each(feed, long, idle);
    const finished = parser as LineParser | null;
    if (finished !== null) {
      finished.end(this.out);
      this.drain();
      const counts: InputCounts = { format: finished.format, contentLines, traceLines: finished.traceLines(), events: this.events - eventsBefore, head };
      if (judge && isNotATrace(counts)) throw new NotATraceError(describeNonTrace(counts), CAPTURE_ADVICE, source.name);
      this.warnings.push(...finished.warnings());
    } else if (contentLines > 0) {
      // Nothing but lines too long to read: not a trace either.
      if (judge) throw new NotATraceError(`${contentLines === 1 ? 'a single line' : `${contentLines} lines`} longer than ${MAX_LINE_CHARS / (1024 * 1024)} MiB (a trace's lines are a few KiB at most)`, CAPTURE_ADVICE, source.name);
    } else {
      this.warnings.push(`${source.name}: empty input: no trace lines`);
      this.emptyInputs.push(source.name);
    }
    this.inputs.push({ path: source.name, format: finished?.format ?? 'strace', sha256: source.sha256() });
    this.progress(source);
  }

  /**
   * strace -ff writes one file per thread (trace.<tid>), without pid prefixes.
   * Merge them by timestamp into one ordered stream.
   */
  async readFfSet(files: { path: string; tid: number }[]): Promise<void> {
    const cursors = files.map((file) => ({ path: file.path, lines: fileLineCursor(file.path), reader: new StraceReader(file.path, file.tid), lineNo: 0, head: null as CursorLine | null, time: 0 }));
    const advance = async (cursor: (typeof cursors)[number]): Promise<void> => {
      cursor.head = await cursor.lines.next();
      // A line without a timestamp (a continuation, one too long to read) goes with the line before it.
      cursor.time = cursor.head === null ? Infinity : typeof cursor.head === 'string' ? lineSeconds(cursor.head) ?? -Infinity : -Infinity;
    };
    await Promise.all(cursors.map(advance));
    const timed = cursors.some((cursor) => Number.isFinite(cursor.time));
    if (!timed) this.warnings.push('strace -ff files without timestamps (-tt/-ttt): they cannot be merged in order; read one after another');
    const eventsBefore = this.events;
    let contentLines = 0;
    const head: string[] = [];
    for (;;) {
      let best: (typeof cursors)[number] | null = null;
      for (const cursor of cursors) {
        if (cursor.head === null) continue;
        if (best === null || (timed && cursor.time < best.time)) best = cursor;
        if (!timed) break;
      }
      if (best === null) break;
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
        if (head.length < HEAD_LINES) head.push(line.length > 300 ? line.slice(0, 300) : copyString(line));
      }
      best.reader.push(line, ++best.lineNo, this.out);
      this.drain();
      await advance(best);
    }
    for (const cursor of cursors) cursor.reader.end(this.out);
    this.drain();
    const traceLines = cursors.reduce((sum, cursor) => sum + cursor.reader.shape.traceLines, 0);
    const counts: InputCounts = { format: 'strace', contentLines, traceLines, events: this.events - eventsBefore, head };
    if (isNotATrace(counts)) throw new NotATraceError(describeNonTrace(counts), CAPTURE_ADVICE, files[0]!.path);
    if (contentLines === 0) {
      this.warnings.push(`${files.map((file) => file.path).join(', ')}: empty input: no trace lines`);
      this.emptyInputs.push(files[0]!.path);
    }
    for (let k = 0; k < files.length; k++) {
      this.inputs.push({ path: files[k]!.path, format: 'strace', sha256: cursors[k]!.lines.sha256() });
    }
    if (cursors.every(({ reader }) => reader.shape.withTime === 0 && reader.shape.withRelative === 0)) {
      this.warnings.push('no -t/-tt/-ttt: delays cannot be measured');
    }
  }

  private drain(): void {
    for (const output of this.out) {
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
      }
    }
    this.out.length = 0;
  }

  /** A line that could not be read: counted, and the first few kept with their place. */
  private unreadable(diagnostic: Diagnostic): void {
    this.unparsed++;
    if (this.samples.length < MAX_SAMPLES) {
      const text = diagnostic.text;
      this.samples.push({ ...diagnostic, text: text.length > MAX_SAMPLE_TEXT ? `${text.slice(0, MAX_SAMPLE_TEXT)}… (${text.length} characters)` : text });
    }
  }

  private apply(event: TraceEvent): void {
    this.events++;
    this.ids?.note(event);
    if (this.ffMembers !== null && event.kind === 'clone' && event.childTid > 0) this.ffMembers.created(event.childTid, event.place);
    if (event.kind === 'lost') this.lost += event.count;
    this.report(this.engine.apply(event));
  }

  report(changes: EngineChange[]): void {
    const onChange = this.options.onChange;
    if (onChange === undefined) return;
    for (const change of changes) onChange(change, this.engine);
  }

  private lastProgress = 0;

  private progress(source: LineSource): void {
    this.options.onProgress?.({ source: source.name, bytesRead: source.bytesRead(), size: source.size, lines: this.lines, unparsedLines: this.unparsed }, this.engine);
  }

  /** @param known processes the capture's metadata names */
  result(bundle: Bundle | null, known: readonly number[]): Analysis {
    if (this.lost > 0) {
      this.warnings.push(`${this.lost} events were lost by the tracer: a mapping reported orphaned may have been unmapped by a lost munmap`);
    }
    const pid = this.options.pid;
    const pidNotice = pid === undefined || this.ids === null ? null : this.ids.notice(pid, [...known, ...this.engine.findings().map((f) => f.pid)]);
    if (pidNotice !== null) this.warnings.push(pidNotice);
    return {
      engine: this.engine,
      inputs: this.inputs,
      lines: this.lines,
      events: this.engine.stats().events,
      unparsedLines: this.unparsed,
      unparsedSamples: this.samples,
      lostEvents: this.lost,
      warnings: [...this.warnings, ...this.engine.assumptions()],
      pidNotice,
      emptyInputs: this.emptyInputs,
      bundle,
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

/**
 * strace -ff writes one file per thread, PREFIX.<tid>, and each clone in one
 * file names the tid of the next. A file of the set that was deleted or not
 * copied leaves no trace of its own, but the clone that created its thread
 * does: a child tid with no file is a member missing, and its calls (maybe
 * its leaks) are not in the analysis.
 */
class FfMembers {
  private readonly createdAt = new Map<number, Place>();

  constructor(private readonly set: FfSet) {}

  created(tid: number, place: Place): void {
    if (!this.set.tids.has(tid) && !this.createdAt.has(tid)) this.createdAt.set(tid, place);
  }

  async warnings(): Promise<string[]> {
    const warnings: string[] = [];
    const missing = [...this.createdAt].sort(([a], [b]) => a - b);
    for (const [tid, place] of missing.slice(0, 10)) {
      const file = `${this.set.prefix}.${tid}`;
      const exists = await access(file).then(() => true, () => false);
      warnings.push(exists
        ? `${file} was not read: ${place.file}:${place.line} created thread ${tid}, whose calls are in that file of the strace -ff set; name the directory, or every ${basename(this.set.prefix)}.* file`
        : `${file} is missing from the strace -ff set: ${place.file}:${place.line} created thread ${tid}, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis`);
    }
    if (missing.length > 10) warnings.push(`${missing.length - 10} more threads of the strace -ff set ${this.set.prefix}.* have no file`);
    return warnings;
  }
}

/** A flat copy of a string: a slice would keep its whole input chunk alive. */
function copyString(text: string): string {
  return (' ' + text).slice(1);
}

/** The processes a bundle's meta.json names: the traced pid and its threads' groups. */
function bundleProcesses(bundle: Bundle): number[] {
  const ids = [...(bundle.engineOptions.threadGroups?.values() ?? [])];
  if (bundle.engineOptions.rootPid !== undefined) ids.push(bundle.engineOptions.rootPid);
  return ids;
}

/**
 * Which ids of a trace are processes (thread groups) and which only threads,
 * for telling a user that `--pid N` names no process of the trace. A stopgap
 * beside the engine, which knows this better (it decides every finding's pid)
 * but keeps no list of the processes it has seen once they exit.
 */
class TraceIds {
  private readonly processes = new Set<number>();
  /** Threads a clone(CLONE_THREAD) made. */
  private readonly threads = new Set<number>();
  private readonly tids = new Set<number>();
  /**
   * Threads seen without their clone and no tgid given: they existed before
   * the trace (attach, or the first process), and belong to the process the
   * trace starts in, whose pid is one of theirs (its leader's) or unknown.
   */
  private readonly unclaimed = new Set<number>();
  private attachedRoot: number | null = null;

  note(event: TraceEvent): void {
    const tid = event.tid;
    if (!this.tids.has(tid)) {
      this.tids.add(tid);
      if (event.tgid === undefined && !this.threads.has(tid) && !this.processes.has(tid)) this.unclaimed.add(tid);
    }
    if (event.tgid !== undefined) this.processes.add(event.tgid);
    if (event.kind === 'clone' && event.childTid > 0) {
      // strace -f can print a child's first call before its parent's clone returns.
      this.unclaimed.delete(event.childTid);
      if ((event.flags & CLONE_THREAD) !== 0) this.threads.add(event.childTid);
      else this.processes.add(event.childTid);
    }
    // After an execve the caller is its process's leader: its tid is the pid.
    if (event.kind === 'exec') this.processes.add(tid);
  }

  attached(tid: number): void {
    this.attachedRoot ??= tid;
  }

  /** The lines printed without a pid (tid 0) were process `to`'s. */
  rename(from: number, to: number): void {
    for (const set of [this.tids, this.processes, this.unclaimed]) if (set.delete(from)) set.add(to);
  }

  /** Null when `pid` is a process of the trace; otherwise what to tell the user. */
  notice(pid: number, alsoProcesses: readonly number[]): string | null {
    const processes = new Set([...this.processes, ...alsoProcesses]);
    // The threads seen without a clone are one process. Its pid, as the
    // engine decides it: the attach message's, or an exec'd thread's (the
    // one its findings carry), else the one asked about when no thread has a
    // lower id (a leader's tid is its pid, and it is the first thread), else
    // the lowest thread id.
    const unclaimed = [...this.unclaimed];
    const lowest = unclaimed.length > 0 ? Math.min(...unclaimed) : undefined;
    const root = this.attachedRoot
      ?? unclaimed.find((tid) => processes.has(tid))
      ?? (lowest !== undefined && pid <= lowest ? pid : lowest);
    if (root !== undefined) processes.add(root);
    processes.delete(0);
    if (processes.has(pid)) return null;
    const sorted = [...processes].sort((a, b) => a - b);
    const shown = sorted.slice(0, 12).join(', ') + (sorted.length > 12 ? ` and ${sorted.length - 12} more` : '');
    const listed = sorted.length === 0 ? 'the trace names no process' : `the trace has process${sorted.length === 1 ? '' : 'es'} ${shown}`;
    const what = this.tids.has(pid) ? `${pid} is a thread in the trace, not a process (findings are per process, by thread group id)` : `no process ${pid} in the trace`;
    return `--pid ${pid}: ${what}, so no finding can match it; ${listed}`;
  }
}

function lineSeconds(text: string): number | null {
  const record = parseStraceLine(text);
  return 'seconds' in record ? record.seconds : null;
}

async function resolveInputs(paths: readonly string[]): Promise<Input[]> {
  const inputs: Input[] = [];
  const ffGroups = new Map<string, { path: string; tid: number }[]>();
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ type: 'stream', source: stdinSource(), defaultTid: 0 });
      continue;
    }
    const info = await stat(path).catch((error: unknown) => {
      throw new InputError(readFailure(error), path, { cause: error });
    });
    if (info.isDirectory()) {
      const entries = await readdir(path).catch((error: unknown) => {
        throw new InputError(readFailure(error), path, { cause: error });
      });
      if (entries.includes('meta.json')) {
        inputs.push({ type: 'bundle', bundle: await loadBundle(path) });
        continue;
      }
      // A directory of strace -ff files.
      const ff = entries.filter((entry) => /\.\d+$/.test(entry)).sort();
      if (ff.length === 0) throw new InputError('is a directory with neither meta.json (a bundle) nor strace -ff files (NAME.<tid>)', path);
      for (const entry of ff) addFf(ffGroups, join(path, entry));
      continue;
    }
    if (/\.\d+$/.test(path) && (await looksLikeFf(path))) addFf(ffGroups, path);
    else inputs.push({ type: 'stream', source: await fileSource(path), defaultTid: 0 });
  }
  for (const [prefix, files] of ffGroups) {
    const ffSet: FfSet = { prefix, tids: new Set(files.map((file) => file.tid)) };
    if (files.length === 1) inputs.push({ type: 'stream', source: await fileSource(files[0]!.path), defaultTid: files[0]!.tid, ffSet });
    else inputs.push({ type: 'ff-set', files: files.sort((a, b) => a.tid - b.tid), ffSet });
  }
  return inputs;
}

async function readHead(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new InputError(readFailure(error), path, { cause: error });
  });
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

function addFf(groups: Map<string, { path: string; tid: number }[]>, path: string): void {
  const dot = path.lastIndexOf('.');
  const prefix = join(dirname(path), basename(path.slice(0, dot)));
  const list = groups.get(prefix) ?? [];
  list.push({ path, tid: Number(path.slice(dot + 1)) });
  groups.set(prefix, list);
}

/** trace.<tid> files have no pid prefix; anything else with a numeric suffix is read as-is. */
async function looksLikeFf(path: string): Promise<boolean> {
  const head = await readHead(path, 4096);
  const first = head.split('\n').find((line) => line.trim().length > 0);
  if (first === undefined) return true;
  const record = parseStraceLine(first);
  return record.type !== 'bad' && (!('tid' in record) || record.tid === null);
}
