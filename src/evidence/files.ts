// The evidence directory's text files other than the reports, each from the
// report as shown (redacted when asked). Pure: no I/O here.
import { createHash } from 'node:crypto';
import { evidenceFileOf } from '../engine/finding-log.js';
import type { Finding } from '../engine/findings.js';
import type { MapsLine } from '../ingest/bundle.js';
import { nameBytes } from '../parse/byte-names.js';
import { isDeletedFile } from '../parse/maps.js';
import { kindAndSeverity, listWords, reportHeadline } from '../report/finding-view.js';
import { NO_REDACTION, type Redaction } from '../report/redact.js';
import type { Report } from '../report/report.js';
import { escapeControl } from '../report/sanitize.js';
import { timeline } from '../report/ticket.js';

/**
 * Text handed to `write` piece by piece, in order: a file of 30,000 findings'
 * JSON or trace lines is written as it is made, never held whole.
 */
export type TextProducer = (write: (text: string) => void) => void;

/** A file of the evidence directory: its name and what it is, for README.txt. */
export interface EvidenceFile {
  name: string;
  what: string;
  content: string | TextProducer;
}

/**
 * The trace lines of each finding's file, grouped by file: findings that share
 * a file (a resize and the unlink it explains) share its lines. These are the
 * lines the engine keeps of a file's life (its first calls and its most
 * recent ones), not the whole trace; carets mark the orphaned address. Each
 * group's findings are redacted (`redaction`, which `shown`'s other parts went
 * through already) as the group is written.
 */
export function writeTraceLines(shown: Report, write: (text: string) => void, redaction: Redaction = NO_REDACTION): void {
  const groups = traceLineGroups(shown.findings, redaction.path);
  write(
    [
      "# orphanmap: the trace lines of each finding's file, as the analysis kept them",
      '# (the first calls on the file and the most recent ones; not the whole trace).',
      '# Each line is FILE:LINE, two spaces, then the raw trace line; carets mark the orphaned mapping.',
    ].join('\n'),
  );
  if (groups.length === 0) write('\n\n# No finding: no file to show.');
  for (const group of groups) {
    const findings = group.map((index) => redaction.finding(shown.findings[index]!));
    const out: string[] = [];
    // The unlink finding's mapping is the one that outlived the file.
    const primary = findings.find((f) => f.kind === 'unlinked-while-mapped') ?? findings[0]!;
    const earlier = [...new Set(findings.flatMap((f) => f.names))].filter((name) => name !== primary.path);
    out.push(
      '',
      `## ${listWords(findings.map((f) => `${f.id} ${kindAndSeverity(f.kind, f.severity)}`))}, pid ${primary.pid}, mapping at ${listWords([...new Set(findings.map((f) => f.address))])}`,
      `## file ${escapeControl(primary.path)}${earlier.length > 0 ? ` (earlier ${earlier.length === 1 ? 'name' : 'names'}: ${earlier.map(escapeControl).join(', ')})` : ''}`,
      ...timeline(primary, true),
    );
    // Each group's lines are read (evidence is read from the trace when asked) and written before the next.
    write(`\n${out.join('\n')}`);
  }
  write('\n');
}

/**
 * The findings that have evidence, grouped by the lines it is made of: the
 * same pid and the same FILE:LINE positions (the file as drawn, through
 * `shownFile`), each group in report order, the groups in the order of their
 * first finding; as places in `findings`.
 *
 * Findings of one pid that share an evidence file (evidenceFileOf) share their
 * lines: they are grouped without reading them. Then each such group's lines
 * are read once, and groups of other files with the very same positions (two
 * files whose kept events are all ones they shared) are merged: keying every
 * finding by its positions read each finding's lines and held a string of
 * them per group (leaky80: 31,208 findings, 15 MB of keys, 1.3 s).
 */
export function traceLineGroups(findings: readonly Finding[], shownFile: (file: string) => string = asItIs): number[][] {
  const { firsts, next } = groupsBySharedFile(findings);
  const keyOf = (index: number): string | null => {
    const finding = findings[index]!;
    const evidence = finding.evidence;
    if (evidence.length === 0) return null;
    return `${finding.pid} ${evidence.map((line) => `${shownFile(line.file)}:${line.line}`).join(' ')}`;
  };
  // Each group kept, as the first findings of the groups it is made of (more than one once merged).
  const kept: (number | number[])[] = [];
  // Digests of the keys (48 bits, a number), not the keys: a digest matched is checked against the
  // key itself. Each the place in `kept` of the group with that digest, or of each of them.
  const byDigest = new Map<number, number | number[]>();
  for (const first of firsts) {
    const key = keyOf(first);
    if (key === null) continue;
    const digest = createHash('sha256').update(key).digest().readUIntBE(0, 6);
    const alike = byDigest.get(digest);
    const same = alike === undefined ? undefined : (typeof alike === 'number' ? [alike] : alike).find((place) => keyOf(firstOf(kept[place]!)) === key);
    if (same !== undefined) {
      const merged = kept[same]!;
      if (typeof merged === 'number') kept[same] = [merged, first];
      else merged.push(first);
    } else {
      if (alike === undefined) byDigest.set(digest, kept.length);
      else if (typeof alike === 'number') byDigest.set(digest, [alike, kept.length]);
      else alike.push(kept.length);
      kept.push(first);
    }
  }
  return kept.map((firstsOfGroup) => {
    if (typeof firstsOfGroup === 'number') return membersOf(firstsOfGroup, next);
    const members = firstsOfGroup.flatMap((first) => membersOf(first, next));
    return members.sort((a, b) => a - b);
  });
}

const asItIs = (file: string): string => file;

const firstOf = (group: number | number[]): number => (typeof group === 'number' ? group : group[0]!);

/** A group's findings, from its first along `next`: in report order, in an array of their number (pushed, a small array takes room for 17). */
function membersOf(first: number, next: Int32Array): number[] {
  let count = 0;
  for (let at = first; at >= 0; at = next[at]!) count++;
  const members = new Array<number>(count);
  for (let at = first, k = 0; at >= 0; at = next[at]!, k++) members[k] = at;
  return members;
}

/**
 * The findings of one pid that share an evidence file, a group each; a
 * finding without one (a copy) in a group of its own. As the first finding
 * of each group, in report order, and for each finding the next one of its
 * group (-1: none): an array for each of 15,556 groups (leaky80), and a map
 * of pids for each file, were 7 MiB that outlived the lines read for every
 * group, and so were moved to the old generation.
 */
function groupsBySharedFile(findings: readonly Finding[]): { firsts: number[]; next: Int32Array } {
  const next = new Int32Array(findings.length).fill(-1);
  const last = new Int32Array(findings.length);
  const firsts: number[] = [];
  const join = (first: number, index: number) => {
    next[last[first]!] = index;
    last[first] = index;
  };
  const begin = (index: number) => {
    last[index] = index;
    firsts.push(index);
  };
  // A file's group (its first finding), or its groups by pid once findings of a second pid share it.
  const byFile = new Map<object, number | Map<number, number>>();
  findings.forEach((finding, index) => {
    const file = evidenceFileOf(finding);
    if (file === undefined) {
      // A copy (or a finding given its own lines): grouped by its lines alone.
      begin(index);
      return;
    }
    let byPid = byFile.get(file);
    if (byPid === undefined) {
      byFile.set(file, index);
      begin(index);
      return;
    }
    if (typeof byPid === 'number') {
      const pid = findings[byPid]!.pid;
      if (pid === finding.pid) {
        join(byPid, index);
        return;
      }
      byPid = new Map([[pid, byPid]]);
      byFile.set(file, byPid);
    }
    const first = byPid.get(finding.pid);
    if (first !== undefined) join(first, index);
    else {
      byPid.set(finding.pid, index);
      begin(index);
    }
  });
  return { firsts, next };
}

/**
 * The lines of the bundle's maps-end.txt (or maps-end.N.txt) that matter:
 * every mapping of a deleted file, and the mapping holding each finding's
 * address, in the order /proc printed them, so the file is still
 * /proc/PID/maps text. Each line is redacted by `redactLine` as the report's
 * maps lines were (or neither is) and written as it is made, never the whole
 * file held; its control characters escaped as the kernel escapes a newline
 * there (escapeMapsText).
 */
export function mapsEndText(mapsEnd: readonly MapsLine[], shown: Report, redactLine: (text: string) => string = asItIs): TextProducer {
  return (write) => {
    const findingLines = new Set(Object.values(shown.mapsLines));
    for (const line of mapsEnd) {
      const text = redactLine(line.text);
      if (isDeletedFile(line) || findingLines.has(text)) write(`${escapeMapsText(text)}\n`);
    }
  };
}

/**
 * A maps line's unsafe characters (sanitize.ts: C0 and C1 controls, DEL,
 * bidi and invisible characters) as the kernel writes a newline in a name
 * in /proc/PID/maps: a backslash and three octal digits for each byte of the
 * character's UTF-8 (ESC as \033, U+202E as \342\200\256), and a byte of a
 * name that is not UTF-8 as that byte (\377). A copy cat to a terminal then
 * drives nothing, and reads as maps text still does. (The
 * other text files escape them as trace-lines.txt does, \x1b; a maps copy
 * keeps the kernel's own notation, which its \012 already uses.)
 */
export function escapeMapsText(text: string): string {
  if (escapeControl(text) === text) return text;
  let escaped = '';
  for (const char of text) {
    if (escapeControl(char) === char) escaped += char;
    else for (const byte of nameBytes(char)) escaped += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return escaped;
}

export interface AnalysisFacts {
  orphanmapVersion: string;
  node: string;
  command: string;
}

/** What the capture's meta.json says of the traced host and process, and what made this evidence. */
export function environmentJson(shown: Report, facts: AnalysisFacts): unknown {
  return {
    schema: 'orphanmap/evidence-environment@1',
    capture: shown.environment,
    ...(shown.environment === null ? { note: 'not a capture bundle: the traced host and process are not known beyond the trace' } : {}),
    analysis: {
      orphanmap: facts.orphanmapVersion,
      node: facts.node,
      command: facts.command,
      inputs: shown.inputs,
    },
  };
}

export function readmeText(shown: Report, files: readonly Pick<EvidenceFile, 'name' | 'what'>[], command: string, redacted: boolean): string {
  const width = Math.max(...files.map((file) => file.name.length), 'SHA256SUMS'.length);
  const lines = [
    'orphanmap evidence',
    '',
    `orphanmap: ${escapeControl(reportHeadline(shown))}`,
    '',
    'Files (check them with: sha256sum -c SHA256SUMS)',
    ...files.map((file) => `  ${file.name.padEnd(width)}  ${file.what}`),
    `  ${'SHA256SUMS'.padEnd(width)}  SHA-256 of every file above`,
    '',
    'Inputs',
    ...shown.inputs.map((input) => `  ${escapeControl(input.path)}  ${input.format}  sha256 ${input.sha256}`),
    '',
    'Made by',
    `  ${escapeControl(command)}`,
  ];
  if (redacted) lines.push('', 'Redacted (--redact): path components are replaced by stable short hashes, the same in every file; suffixes, numbers and system directories are kept.');
  return `${lines.join('\n')}\n`;
}

/** `sha256sum -c` format: the digest of what was written, two spaces, the name; sorted by name. */
export function sha256sums(files: readonly { name: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((file) => `${file.sha256}  ${file.name}\n`)
    .join('');
}
