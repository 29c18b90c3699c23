// --redact: a report that can leave the building. Every path component that
// could name a topic, a customer or a host is replaced by the first 8 hex
// digits of its SHA-256, the same everywhere in the report, so findings can
// still be told apart and matched to raw lines. File suffixes, digits-only
// names (segment offsets, pids) and well-known system directories are kept;
// addresses, sizes and counts are untouched.
//   /kafka-logs/orders-3/00000000000000001000.index.deleted
//   → /1f0c3a9e/6b2d0e77-3/00000000000000001000.index.deleted
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { At, EvidenceLine, Finding } from '../engine/findings.js';
import { SAMPLE_CUT_NOTE } from '../parse/events.js';
import type { BundleMeta } from '../ingest/bundle.js';
import { DELETED_SUFFIX, parseMapsLine } from '../parse/maps.js';
import { nameBytes } from '../parse/byte-names.js';
import { decodeCString } from '../parse/c-string.js';
import { parseStringArg } from '../parse/strace-args.js';
import type { Report } from './report.js';

// Also the words of `/proc/PID/maps`, which messages name: no host's name, and hashed they read as nonsense.
const KEPT_DIRECTORIES = new Set([
  'PID',
  'maps',
  'tmp',
  'proc',
  'dev',
  'sys',
  'usr',
  'lib',
  'lib32',
  'lib64',
  'bin',
  'sbin',
  'etc',
  'var',
  'opt',
  'run',
  'home',
  'root',
  'srv',
  'mnt',
  'media',
  'boot',
  'shm',
]);

export function shortHash(value: string): string {
  // Of the name's bytes: a byte that is not UTF-8 (byte-names.ts) would be U+FFFD's three to a string's UTF-8, and two names one hash.
  return createHash('sha256').update(nameBytes(value)).digest('hex').slice(0, 8);
}

/**
 * Redactions already worked out. A report says the same few names again and
 * again (each evidence line names its input, each trace line its file): with
 * a SHA-256 for each, f20's redacted run took 4.6 s of CPU; remembered, 3.5
 * (issue #14). Bounded, and short-lived: replaced by a new map when full. A
 * map of 8,192 emptied when full lived long enough to be old, and so did its
 * entries and every table it grew into: garbage in the old generation until
 * a full collection (report --redact of leaky80: 45 MiB of it, peak RSS 250
 * MiB). The names said again are mostly those of one finding, said together.
 */
class Memo {
  private done = new Map<string, string>();

  constructor(private readonly redact: (value: string) => string) {}

  of(value: string): string {
    let redacted = this.done.get(value);
    if (redacted === undefined) {
      redacted = this.redact(value);
      if (this.done.size >= MEMO_ENTRIES) this.done = new Map();
      this.done.set(value, redacted);
    }
    return redacted;
  }
}

const MEMO_ENTRIES = 256;

/** One path component: `orders-3` → `6b2d0e77-3`, `0.index.deleted` kept, `hsperfdata_kafka` → `hsperfdata_<hash>`. */
export function redactComponent(component: string): string {
  return components.of(component);
}

const components = new Memo((component) => {
  if (component === '' || component === '.' || component === '..' || KEPT_DIRECTORIES.has(component) || /^\d+$/.test(component)) return component;
  if (component.startsWith('hsperfdata_')) return `hsperfdata_${shortHash(component.slice('hsperfdata_'.length))}`;
  // Longest suffix of `.ext` parts (and a Kafka partition's `-N` before them).
  const match = /^(.+?)((?:-\d+)?(?:\.[A-Za-z0-9]{1,12})*)$/.exec(component);
  const stem = match?.[1] ?? component;
  const suffix = match?.[2] ?? '';
  return `${/^\d+$/.test(stem) ? stem : shortHash(stem)}${suffix}`;
});

export function redactPath(path: string): string {
  return paths.of(path);
}

const paths = new Memo((path) => path.split('/').map(redactComponent).join('/'));

/** -yy's suffix to a device's path: </dev/null<char 1:3>>. */
const DEVICE_SUFFIX = /<(?:char|block) \d+:\d+>$/;

const CHUNK = new RegExp(
  [
    // a strace string argument, with its escapes: "/kafka/0.index"
    String.raw`"(?:[^"\\]|\\.)*"(?:\.\.\.)?`,
    // one the line ends inside (an unreadable line, cut, maybe inside an escape): its path runs
    // to the end, spaces and all. Matched from the first quote to the end, so a line of quotes
    // and backslashes is read once, not from every quote again.
    String.raw`"(?:[^"\\]|\\.)*\\?$`,
    // a -y fd annotation of a path, 4</kafka/0.index> (with -yy's <char 1:3> suffix), whose name may
    // hold a raw < or > (strace writes them \74 and \76; a crafted trace need not): it ends at the
    // first > that ends an argument, a result or the line; without one, with the line (cut there,
    // or crafted), spaces and all. Every character is read once: the pattern always matches.
    String.raw`\b(?:\d+|AT_FDCWD)</(?:[^<>]|<|>(?=[^\s,()[\]{}]))*(?:>|$)`,
    // a -y fd annotation of anything else: 4<socket:[1234]>, 4<TCP:[…]>
    String.raw`\b(?:\d+|AT_FDCWD)<[^<>]*(?:<[^<>]*>)?>`,
    // a bare token with a slash in it: maps lines, command lines, messages; also after a colon or a
    // semicolon, where a path follows an option or a scheme (-javaagent:/opt/…, file:/srv/…, a:b lists)
    String.raw`(?<=^|[\s=,(\['";:])[^\s"'<>,()[\]=|:;]*/[^\s"'<>,()[\]=|:;]*`,
  ].join('|'),
  'g',
);

/** `<ns> <cpu> <tgid> <tid> <event> key=value … path=<rest of the line>`: its head, and the path. Keys come before the path and hold numbers. */
const BPFTRACE_PATH_RECORD = /^(\d+ \d+ \d+ \d+ [a-z][\w.]*(?: [a-z_]+=[^\s=]*)*? )path=(.*)$/s;

/**
 * Paths inside free text (raw trace lines, maps lines, messages, commands).
 * `known` are names to replace exactly wherever they stand as a whole word
 * (input file names given without a slash: `trace.txt: no -f: …`).
 */
export function redactText(text: string, known: readonly string[] = []): string {
  // A bpftrace record's path runs to the end of its line, blanks and all (docs/bpftrace-format.md):
  // hashed whole, as the finding's path is, where the pattern below would end it at a blank.
  const record = BPFTRACE_PATH_RECORD.exec(text);
  if (record !== null) return `${redactText(record[1]!, known)}path=${redactPath(record[2]!)}`;
  const { names, pattern } = chunksOf(known);
  return text.replace(pattern, (chunk) => {
    if (names.some((name) => chunk === name || chunk.startsWith(`${name}/`))) return redactPath(chunk);
    if (chunk.startsWith('"')) {
      const value = parseStringArg(chunk);
      if (value !== null) return `"${redactPath(value.value)}"${value.truncated ? '...' : ''}`;
      // Cut inside the string: what there is of it, read as if it were closed (an escape cut in half dropped).
      const cut = parseStringArg(`${endsInsideEscape(chunk) ? chunk.slice(0, -1) : chunk}"`);
      return cut === null ? chunk : `"${redactPath(cut.value)}`;
    }
    const lt = chunk.indexOf('<');
    const fd = lt > 0 && /^(?:\d+|AT_FDCWD)$/.test(chunk.slice(0, lt));
    if (fd && !chunk.endsWith('>')) return `${chunk.slice(0, lt)}<${redactPath(chunk.slice(lt + 1))}`;
    if (fd) {
      const inner = chunk.slice(lt + 1, -1);
      if (!inner.startsWith('/')) return chunk; // socket:[…], pipe:[…], anon_inode:…
      // -yy's device suffix is kept; any other <…> is part of the name (raw, in a crafted trace) and hashed with it.
      const suffix = DEVICE_SUFFIX.exec(inner)?.[0] ?? '';
      const name = inner.slice(0, inner.length - suffix.length);
      return `${chunk.slice(0, lt)}<${redactPath(decodeCString(name))}${suffix}>`;
    }
    // Options written together (`no -t/-tt/-ttt`) are not a path.
    if (/^-[\w-]*(?:\/-[\w-]*)+$/.test(chunk)) return chunk;
    return redactPath(chunk);
  });
}

/**
 * One argument of the traced program's command line (meta.json's cmdline).
 * Each argument is one word, spaces and all: a path (`/data/acme corp/x`) or
 * an option whose value is one (`-Dlog.dir=/data/acme corp`, `--dir=…`) is
 * hashed whole, where free text would hash `/data/acme` and keep `corp`.
 * Anything else is free text: a path inside it is still found by its slash.
 */
export function redactArgument(arg: string): string {
  if (PATH_START.test(arg)) return redactPath(arg);
  const equals = arg.indexOf('=');
  if (equals > 0 && PATH_START.test(arg.slice(equals + 1))) return `${arg.slice(0, equals + 1)}${redactPath(arg.slice(equals + 1))}`;
  return redactText(arg);
}

/**
 * One argument of the traced program's command line (meta.json's cmdline,
 * and the words after `--` in its command). A command line holds more than
 * paths: a broker's host name and port, a customer, a keystore password as a
 * `-D` property (review 19's safety review, F2: the host name hashed in the
 * report's own row stood in clear in the command line). So every value is
 * hashed: a path as paths are (redactArgument), any other word whole, and
 * an option's value after `=`; option names (`-server`, `-XX:+UseG1GC`, the
 * key of `-Dkey=value`), numbers and the program's own name (`java`, the
 * first word when it is no path) are kept.
 */
export function redactProgramArgument(arg: string, first: boolean): string {
  if (PATH_START.test(arg) || (first && !arg.includes('/'))) return redactArgument(arg);
  if (arg.startsWith('-')) {
    const equals = arg.indexOf('=');
    if (equals < 0) return redactText(arg);
    return `${arg.slice(0, equals + 1)}${redactProgramValue(arg.slice(equals + 1))}`;
  }
  // A setting (`broker.id=3`, Kafka's --override): its name kept, its value as an option's.
  const setting = /^[\w.-]+=/.exec(arg);
  if (setting !== null) return `${setting[0]}${redactProgramValue(arg.slice(setting[0].length))}`;
  return redactProgramValue(arg);
}

/**
 * An option's value, or a bare word: a number kept; a URL's scheme kept and
 * the rest hashed whole (a host's name has dots that read as suffixes); a
 * path as paths are, whole (spaces and all); a text with a path in it as free
 * text; anything else hashed whole.
 */
function redactProgramValue(value: string): string {
  if (value === '' || /^\d+$/.test(value)) return value;
  const scheme = /^[A-Za-z][\w+.:-]*?:\/\//.exec(value);
  if (scheme !== null) return `${scheme[0]}${shortHash(value.slice(scheme[0].length))}`;
  if (PATH_START.test(value)) return redactPath(value);
  if (value.includes('/')) return redactText(value);
  return shortHash(value);
}

/**
 * meta.json's `command`: the tracer's command line as the capture quoted it
 * for a shell (scripts/bundle-lib.sh, om_shell_quote: bare words, or words in
 * single quotes with `'\\''` for a quote). Each word is redacted whole as an
 * argument, so a quoted path keeps none of its words after a space. A text
 * the capture could not have written (a bundle edited by hand) is free text.
 */
export function redactShellCommand(command: string): string {
  const words = shellWords(command);
  if (words === null) return redactText(command);
  // The tracer's words, then the program's after `--` (a launched strace capture's command).
  const program = words.indexOf('--') + 1;
  return words.map((word, k) => quotedForShell(program > 0 && k >= program ? redactProgramArgument(word, k === program) : redactArgument(word))).join(' ');
}

/** A character om_shell_quote leaves bare. */
const BARE = /^[A-Za-z0-9_./=:,+@%-]$/;
/** A word om_shell_quote leaves bare: every character BARE. */
const BARE_WORD = /^[A-Za-z0-9_./=:,+@%-]+$/;

/** om_shell_quote's words, unquoted; null for a text it does not write. */
function shellWords(command: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let at = 0; at < command.length; ) {
    const char = command[at]!;
    if (char === ' ') {
      // One space between words, none at either end.
      if (word === null) return null;
      words.push(word);
      word = null;
      at++;
      continue;
    }
    word ??= '';
    if (char === "'") {
      const close = command.indexOf("'", at + 1);
      if (close < 0) return null;
      word += command.slice(at + 1, close);
      at = close + 1;
    } else if (char === '\\' && command[at + 1] === "'") {
      word += "'";
      at += 2;
    } else if (BARE.test(char)) {
      word += char;
      at++;
    } else return null;
  }
  if (word !== null) words.push(word);
  else if (command !== '') return null;
  return words;
}

function quotedForShell(word: string): string {
  return BARE_WORD.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** How a path begins: from the root, the working directory or its parent. */
const PATH_START = /^(?:\/|\.\.?\/)/;

/**
 * A line of /proc/PID/maps, its path redacted whole: the kernel prints the
 * path to the end of the line, spaces and all (`/kafka/secret orders.index
 * (deleted)`), where redactText, which cannot tell a path's spaces from the
 * words of a message, would hash `/kafka/secret` and leave `orders.index`.
 * The path hashes as the finding's own path does: a newline in a name, which
 * the kernel prints as \012 and strace as \n (decoded into the finding's path),
 * is read back as a newline first. (A name holding a backslash and "012"
 * prints the same and hashes as if it held a newline: the kernel's text cannot
 * tell them apart.) A line that is not a maps line is redacted as text.
 */
export function redactMapsLine(text: string, known: readonly string[] = []): string {
  const entry = parseMapsLine(text);
  if (entry === null || !entry.path.startsWith('/')) return redactText(text, known);
  const end = text.length - (text.endsWith('\r') ? 1 : 0) - (entry.deleted ? DELETED_SUFFIX.length : 0);
  const nameAt = end - entry.path.length;
  return `${text.slice(0, nameAt)}${redactPath(entry.path.replaceAll('\\012', '\n'))}${text.slice(end)}`;
}

/** Whether `text` ends in a backslash that escapes nothing yet (an odd run of them). */
function endsInsideEscape(text: string): boolean {
  let run = 0;
  while (run < text.length && text.charCodeAt(text.length - 1 - run) === 92) run++;
  return run % 2 === 1;
}

/**
 * The names to replace whole (with what follows them after a slash: a file of
 * an -ff directory, of a bundle), longest first, and the pattern that finds
 * them and the chunks of CHUNK: made once for a run's names, not for each line.
 */
function chunksOf(known: readonly string[]): { names: string[]; pattern: RegExp } {
  if (known.length === 0) return NO_NAMES;
  if (known !== lastKnown.known) {
    const names = [...new Set(known.filter((name) => name.length > 0))].sort((a, b) => b.length - a.length);
    const pattern = names.length === 0 ? CHUNK : new RegExp(`(?<![\\w.-])(?:${names.map(escapeRegExp).join('|')})(?:/[^\\s"'<>,()[\\]=|:]*|(?![\\w-]|\\.\\w))|${CHUNK.source}`, 'g');
    lastKnown = { known, names, pattern };
  }
  return lastKnown;
}

const NO_NAMES = { known: [], names: [], pattern: CHUNK };
let lastKnown: { known: readonly string[]; names: string[]; pattern: RegExp } = NO_NAMES;

/**
 * Whether a run redacts, decided once (from --redact) and applied once to
 * each thing shown: a report's small parts (redactAllButFindings), each
 * finding as a view draws it or as its NDJSON line is written, an export's
 * report, the "how to reproduce" command. Nothing is hashed twice, and every
 * format shows the same hashes.
 */
export interface Redaction {
  readonly on: boolean;
  report(report: Report): Report;
  finding(finding: Finding): Finding;
  /** A path as a redacted finding shows it (its `path`, each of its `names`), for a view that needs no more of the finding. */
  path(path: string): string;
  /** Free text beside a report: a command line, a message. */
  text(text: string): string;
  /** A line of /proc/PID/maps (redactMapsLine). */
  mapsLine(text: string): string;
  /**
   * This redaction, also replacing `paths` whole wherever they stand in free
   * text: the paths a run's warnings name (Analysis.warningPaths), which may
   * hold spaces, where the pattern for bare paths would end them.
   */
  withWholePaths(paths: readonly string[]): Redaction;
}

export const NO_REDACTION: Redaction = {
  on: false,
  report: (report) => report,
  finding: (finding) => finding,
  path: (path) => path,
  text: (text) => text,
  mapsLine: (text) => text,
  withWholePaths: () => NO_REDACTION,
};

/**
 * The run's redaction. `inputs` are the inputs as named on the command line:
 * those without a slash (`trace.txt`, not `-`) are replaced wherever they
 * stand as a word, so a warning that starts `trace.txt:` is redacted in every
 * format and in every NDJSON line alike.
 */
export function redaction(on: boolean, inputs: readonly string[] = []): Redaction {
  return on ? replacingWhole(namesReplacedWhole(inputs)) : NO_REDACTION;
}

function replacingWhole(known: readonly string[]): Redaction {
  const self: Redaction = {
    on: true,
    report: (report) => redactReport(report, known),
    finding: (finding) => redactFinding(finding, known),
    path: redactPath,
    text: (text) => redactText(text, known),
    mapsLine: (text) => redactMapsLine(text, known),
    // Every path, not only those with a space: a relative name without a slash (`orders.index`) is no path to the pattern either.
    withWholePaths: (paths) => (paths.length === 0 ? self : replacingWhole([...known, ...paths.filter((path) => path !== '')])),
  };
  return self;
}

/**
 * The input names to replace whole in free text: those without a slash, which
 * no other rule takes for a path, and those with a space, which the rule for
 * bare paths would cut there (`/data/acme corp/trace.txt: …`); each as typed
 * and as a message names it, joined to its files (`./acme corp/` is
 * `acme corp/trace.100` there).
 */
function namesReplacedWhole(paths: readonly string[]): string[] {
  const names = paths.flatMap((path) => [path, normalizedName(path)]);
  return names.filter((path) => path !== '' && path !== '-' && path !== '.' && (!path.includes('/') || /\s/.test(path)));
}

/** A path as path.join leaves it: no `./` before it, no slash after it. */
function normalizedName(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * One finding, redacted: its names, places, evidence lines and note. The
 * evidence stays lazy, as the engine's is (read from the trace when a report
 * asks): a report of 25,000 findings, redacted, still never holds every
 * finding's lines at once. Keys keep the finding's order.
 */
export function redactFinding(finding: Finding, known: readonly string[] = []): Finding {
  const text = (value: string) => redactText(value, known);
  const at = (value: At | null): At | null => (value === null ? null : { ...value, file: redactPath(value.file) });
  const redacted: Partial<Record<keyof Finding, unknown>> = {
    path: redactPath(finding.path),
    names: finding.names.map(redactPath),
    mappedAt: at(finding.mappedAt),
    unlinkedAt: at(finding.unlinkedAt),
    remappedAt: at(finding.remappedAt),
    resolvedAt: at(finding.resolvedAt),
    note: finding.note === null ? null : text(finding.note),
  };
  if (finding.heldLater !== undefined) redacted.heldLater = { ...finding.heldLater, at: at(finding.heldLater.at) };
  const out = new RedactedFinding(finding, known) as unknown as Record<string, unknown>;
  for (const key of Object.keys(finding) as (keyof Finding)[]) {
    if (key === 'evidence') Object.defineProperty(out, 'evidence', REDACTED_EVIDENCE);
    else out[key] = key in redacted ? redacted[key] : finding[key];
  }
  return out as unknown as Finding;
}

/**
 * A redacted finding: its fields are set by redactFinding, in the finding's
 * order; privately, the finding and the names to replace whole, for its
 * evidence, redacted when read (REDACTED_EVIDENCE).
 */
class RedactedFinding {
  readonly #source: Finding;
  readonly #known: readonly string[];

  constructor(source: Finding, known: readonly string[]) {
    this.#source = source;
    this.#known = known;
  }

  static evidenceOf(redacted: object): EvidenceLine[] {
    if (!(#source in redacted)) return [];
    const known = (redacted as RedactedFinding).#known;
    return (redacted as RedactedFinding).#source.evidence.map((line) => ({ ...line, file: redactPath(line.file), text: redactText(line.text, known) }));
  }
}

/**
 * One getter for every redacted finding, as the engine's findings have
 * (LAZY_EVIDENCE): a getter made for each finding gave each one a hidden
 * class of its own, made in the old generation (an --redact report of
 * leaky80's 31,208 findings: 20 MiB of them, garbage once written).
 */
const REDACTED_EVIDENCE: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: object): EvidenceLine[] {
    return RedactedFinding.evidenceOf(this);
  },
};

/** A whole report, redacted: a pure function. Apply it once (see Redaction); a second pass would hash the hashes. */
export function redactReport(report: Report, known: readonly string[] = namesReplacedWhole(report.inputs.map((input) => input.path))): Report {
  const text = (value: string) => redactText(value, known);
  return {
    ...report,
    inputs: report.inputs.map((input) => ({ ...input, path: redactPath(input.path) })),
    // (A report some tests build in part has no summary.)
    summary: (report.summary?.undecided ?? null) === null ? report.summary : { ...report.summary, undecided: text(report.summary.undecided!) },
    // A reason may quote the line (`unknown +++ marker "…"`).
    unparsedSamples: report.unparsedSamples.map((sample) => ({ ...sample, file: redactPath(sample.file), text: redactSample(sample.text, known), reason: text(sample.reason) })),
    findings: report.findings.map((finding) => redactFinding(finding, known)),
    warnings: report.warnings.map(text),
    environment: report.environment === null ? null : redactMeta(report.environment),
    mapsLines: Object.fromEntries(Object.entries(report.mapsLines).map(([id, line]) => [id, redactMapsLine(line, known)])),
  };
}

/**
 * A sample of an unreadable line, whose note of a cut (cutSampleText) is kept
 * as it is: the line, cut inside a string, would otherwise take the note into
 * the path it hashes.
 */
function redactSample(sample: string, known: readonly string[]): string {
  const note = SAMPLE_CUT_NOTE.exec(sample);
  return note === null ? redactText(sample, known) : `${redactText(sample.slice(0, note.index), known)}${note[0]}`;
}

/**
 * meta.json, redacted: every field that can carry a path or a name of the
 * host. The JVM's version is `unknown (/opt/app/bin/java)` when the capture
 * could not ask the JVM; the tracer's version and the reason a launched
 * command cannot be detached are the tools' own words. A field orphanmap does
 * not know (a newer capture's, or one added by hand) is left out: nothing
 * says it holds no path; so is a value of a type its field never has (the
 * loader refuses one, checkMeta: a report built another way is not trusted
 * to), and a key of a thread other than tid, tgid and comm.
 */
function redactMeta(meta: BundleMeta): BundleMeta {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(meta)) {
    const shown = META_FIELDS[field]?.(value);
    if (shown !== undefined) out[field] = shown;
  }
  return out as BundleMeta;
}

type Scalar = string | number | boolean | null;

const isScalar = (value: unknown): value is Scalar => value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
const kept = (value: unknown): Scalar | undefined => (isScalar(value) ? value : undefined);
const freeText = (value: unknown): string | null | undefined => (typeof value === 'string' ? redactText(value) : value === null ? null : undefined);
const strings = (value: unknown, redact: (text: string) => string): string[] | undefined =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').map((item) => redact(item)) : undefined;

/** The fields of meta.json (scripts/bundle-lib.sh, om_write_meta) and what --redact shows of each: undefined leaves it out. */
const META_FIELDS: Readonly<Record<string, (value: unknown) => unknown>> = {
  schema: kept,
  backend: kept,
  pid: kept,
  mode: kept,
  // The kernel's name of the process and its threads (15 bytes, no directory): kept, as in traces.
  comm: kept,
  cmdline: (value) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').map((item, k) => redactProgramArgument(item, k === 0)) : undefined),
  // A path, hashed component by component as every path is.
  cwd: (value) => (typeof value === 'string' ? redactPath(value) : value === null ? null : undefined),
  threads: (value) =>
    Array.isArray(value)
      ? value
          .filter((thread) => thread !== null && typeof thread === 'object')
          .map((thread: Record<string, unknown>) => Object.fromEntries(['tid', 'tgid', 'comm'].filter((key) => isScalar(thread[key])).map((key) => [key, thread[key]])))
      : undefined,
  kernel: kept,
  hostname: (value) => (typeof value === 'string' ? shortHash(value) : value === null ? null : undefined),
  tracerVersion: freeText,
  jvmVersion: freeText,
  maxMapCount: kept,
  mapCountStart: kept,
  mapCountEnd: kept,
  startTime: kept,
  endTime: kept,
  command: (value) => (typeof value === 'string' ? redactShellCommand(value) : value === null ? null : undefined),
  traceFiles: (value) => strings(value, redactPath),
  lostEvents: kept,
  truncatedEvents: kept,
  stopAfterByte: kept,
  leftRunning: kept,
  sameView: kept,
  childrenAtAttach: kept,
  exitReason: kept,
  // Whether the tracer attached: without it a redacted bundle's headline could not say it traced nothing.
  attached: kept,
  canDetach: kept,
  noDetachReason: freeText,
  complete: kept,
};

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
