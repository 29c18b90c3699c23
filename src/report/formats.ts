// Output formats, by name. Formatters draw the report they are given; when
// the run redacts, that report's small parts are redacted already and each
// finding goes through the run's one Redaction as it is drawn (see
// redactAllButFindings), so a name hashes the same in every format.
import type { Engine } from '../engine/engine.js';
import type { EngineChange } from '../engine/finding-log.js';
import type { Finding } from '../engine/findings.js';
import { safeJson } from './json.js';
import { renderJira } from './jira.js';
import { renderMarkdown } from './markdown.js';
import { NO_REDACTION, type Redaction } from './redact.js';
import { type Report, writeShownReportJson } from './report.js';
import { formatText } from './text.js';
import { reportDocument } from './ticket.js';

export const OUTPUT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'jira'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface FormatOptions {
  /** The command that produced the report, for "how to reproduce" (redacted with the report when it is). */
  command: string;
  /**
   * The redaction each finding is drawn through: the report's other parts
   * went through it already (redactAllButFindings). None for a report drawn
   * as it is (not redacted, or redacted whole).
   */
  redaction?: Redaction;
}

/** The whole report in one format; NDJSON is written line by line as findings come (ndjsonLine). */
export function formatReport(report: Report, format: Exclude<OutputFormat, 'ndjson'>, options: FormatOptions): string {
  switch (format) {
    case 'text':
      return formatText(report, options.redaction);
    case 'json': {
      if (options.redaction === undefined) return `${safeJson(report, 2)}\n`;
      const pieces: string[] = [];
      writeShownReportJson(report, options.redaction, (piece) => pieces.push(piece));
      return pieces.join('');
    }
    case 'markdown':
      return renderMarkdown(reportDocument(report, options));
    case 'jira':
      return renderJira(reportDocument(report, options));
  }
}

/** One NDJSON line: a finding as `--format json` writes it, control, C1 and bidi characters escaped alike. */
export function ndjsonLine(finding: Finding): string {
  return `${safeJson(finding)}\n`;
}

/**
 * The NDJSON line of an engine change (analyze --format ndjson, live), its
 * evidence read now and redacted as the run says; null for none. The engine
 * hands over each call's changes once the call is done, each with the finding
 * as it is then: a finding decided and resolved by the same call (a mapping
 * maps-end.txt shows deleted, decided and resolved still-mapped at the end)
 * would print the same resolved line twice. Its resolved change follows, so
 * its decided one prints nothing.
 */
export function ndjsonChangeLine(change: EngineChange, engine: Pick<Engine, 'evidenceOf'>, redaction: Redaction): string | null {
  if (change.type === 'decided' && change.finding.resolution !== null) return null;
  return ndjsonLine(redaction.finding({ ...change.finding, evidence: engine.evidenceOf(change.finding) }));
}

/** Options whose values name nothing of the host (a format, a pid, a duration): shown as typed under --redact. */
const PLAIN_VALUE_OPTIONS = new Set(['-f', '--format', '--pid', '--fail-on', '--backend', '--duration', '--top', '--watch']);
/** Options whose values are a path or a glob of paths: hashed whole under --redact, spaces and all. */
const PATH_VALUE_OPTIONS = new Set(['-o', '--out', '--path', '--save']);

/**
 * The command as typed, quoted for a shell where needed: what "how to
 * reproduce" shows; with `redaction`, each argument redacted on its own
 * before it is quoted. Redacting the joined line as free text would end a
 * path at its first space (`--path '/data/secret words/*'` kept "words"): a
 * path option's value is hashed whole; an input (a positional argument) is
 * redacted as messages name it, so the two agree; option names and the
 * values of PLAIN_VALUE_OPTIONS are kept.
 */
export function commandLine(argv: readonly string[], redaction: Redaction = NO_REDACTION): string {
  const shown: string[] = [];
  let optionAwaitingValue: string | null = null;
  for (const arg of argv) {
    if (optionAwaitingValue !== null) {
      shown.push(redactedValue(optionAwaitingValue, arg, redaction));
      optionAwaitingValue = null;
    } else if (arg.startsWith('--') && arg.includes('=')) {
      const equals = arg.indexOf('=');
      shown.push(`${arg.slice(0, equals + 1)}${redactedValue(arg.slice(0, equals), arg.slice(equals + 1), redaction)}`);
    } else if (/^-[fo]./.test(arg)) {
      shown.push(`${arg.slice(0, 2)}${redactedValue(arg.slice(0, 2), arg.slice(2), redaction)}`);
    } else if (PLAIN_VALUE_OPTIONS.has(arg) || PATH_VALUE_OPTIONS.has(arg)) {
      shown.push(arg);
      optionAwaitingValue = arg;
    } else if (arg.startsWith('-') && arg !== '-') {
      shown.push(arg);
    } else {
      shown.push(redaction.text(arg));
    }
  }
  return ['orphanmap', ...shown].map(shellWord).join(' ');
}

function redactedValue(option: string, value: string, redaction: Redaction): string {
  if (!redaction.on || PLAIN_VALUE_OPTIONS.has(option) || value === '-') return value;
  return PATH_VALUE_OPTIONS.has(option) ? redaction.path(value) : redaction.text(value);
}

function shellWord(arg: string): string {
  return /^[\w./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
