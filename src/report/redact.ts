// --redact: a report that can leave the building. Every path component that
// could name a topic, a customer or a host is replaced by the first 8 hex
// digits of its SHA-256, the same everywhere in the report, so findings can
// still be told apart and matched to raw lines. File suffixes, digits-only
// names (segment offsets, pids) and well-known system directories are kept;
// addresses, sizes and counts are untouched.
//   /kafka-logs/orders-3/00000000000000001000.index.deleted
//   → /1f0c3a9e/6b2d0e77-3/00000000000000001000.index.deleted
import { createHash } from 'node:crypto';
import type { At, EvidenceLine, Finding } from '../engine/findings.js';
import type { BundleMeta } from '../ingest/bundle.js';
import { parseFdArg, parseStringArg } from '../parse/strace-args.js';
import type { Report } from './report.js';

const KEPT_DIRECTORIES = new Set([
  'tmp', 'proc', 'dev', 'sys', 'usr', 'lib', 'lib32', 'lib64', 'bin', 'sbin', 'etc', 'var', 'opt', 'run', 'home', 'root', 'srv', 'mnt', 'media', 'boot', 'shm',
]);

export function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/** One path component: `orders-3` → `6b2d0e77-3`, `0.index.deleted` kept, `hsperfdata_kafka` → `hsperfdata_<hash>`. */
export function redactComponent(component: string): string {
  if (component === '' || component === '.' || component === '..' || KEPT_DIRECTORIES.has(component) || /^\d+$/.test(component)) return component;
  if (component.startsWith('hsperfdata_')) return `hsperfdata_${shortHash(component.slice('hsperfdata_'.length))}`;
  // Longest suffix of `.ext` parts (and a Kafka partition's `-N` before them).
  const match = /^(.+?)((?:-\d+)?(?:\.[A-Za-z0-9]{1,12})*)$/.exec(component);
  const stem = match?.[1] ?? component;
  const suffix = match?.[2] ?? '';
  return `${/^\d+$/.test(stem) ? stem : shortHash(stem)}${suffix}`;
}

export function redactPath(path: string): string {
  return path.split('/').map(redactComponent).join('/');
}

const CHUNK = new RegExp(
  [
    // a strace string argument, with its escapes: "/kafka/0.index"
    String.raw`"(?:[^"\\]|\\.)*"(?:\.\.\.)?`,
    // a -y fd annotation: 4</kafka/0.index>, with -yy's <char 1:3> suffix
    String.raw`\b(?:\d+|AT_FDCWD)<[^<>]*(?:<[^<>]*>)?>`,
    // a bare token with a slash in it: maps lines, command lines, messages
    String.raw`(?<=^|[\s=,(\['"])[^\s"'<>,()[\]=|:]*/[^\s"'<>,()[\]=|:]*`,
  ].join('|'),
  'g',
);

/**
 * Paths inside free text (raw trace lines, maps lines, messages, commands).
 * `known` are names to replace exactly wherever they occur (input file names
 * without a slash).
 */
export function redactText(text: string, known: readonly string[] = []): string {
  const names = known.filter((name) => name.length > 0).sort((a, b) => b.length - a.length);
  const pattern = names.length === 0 ? CHUNK : new RegExp(`${names.map(escapeRegExp).join('|')}|${CHUNK.source}`, 'g');
  return text.replace(pattern, (chunk) => {
    if (names.includes(chunk)) return redactPath(chunk);
    if (chunk.startsWith('"')) {
      const value = parseStringArg(chunk);
      return value === null ? chunk : `"${redactPath(value.value)}"${value.truncated ? '...' : ''}`;
    }
    const lt = chunk.indexOf('<');
    if (lt > 0 && chunk.endsWith('>') && /^(?:\d+|AT_FDCWD)$/.test(chunk.slice(0, lt))) {
      const inner = chunk.slice(lt + 1, -1);
      if (!inner.startsWith('/')) return chunk; // socket:[…], pipe:[…], anon_inode:…
      const device = inner.lastIndexOf('<');
      const suffix = device > 0 ? inner.slice(device) : '';
      const hint = parseFdArg(chunk)?.hint ?? inner;
      return `${chunk.slice(0, lt)}<${redactPath(hint)}${suffix}>`;
    }
    return redactPath(chunk);
  });
}

/** A whole report, redacted: a pure function, so every output format gets the same names. */
export function redactReport(report: Report): Report {
  const known = report.inputs.map((input) => input.path).filter((path) => !path.includes('/'));
  const text = (value: string) => redactText(value, known);
  const at = (value: At | null): At | null => (value === null ? null : { ...value, file: redactPath(value.file) });
  const evidence = (line: EvidenceLine): EvidenceLine => ({ ...line, file: redactPath(line.file), text: text(line.text) });
  const finding = (value: Finding): Finding => ({
    ...value,
    path: redactPath(value.path),
    names: value.names.map(redactPath),
    mappedAt: at(value.mappedAt),
    unlinkedAt: at(value.unlinkedAt),
    remappedAt: at(value.remappedAt),
    resolvedAt: at(value.resolvedAt),
    evidence: value.evidence.map(evidence),
    note: value.note === null ? null : text(value.note),
  });
  return {
    ...report,
    inputs: report.inputs.map((input) => ({ ...input, path: redactPath(input.path) })),
    unparsedSamples: report.unparsedSamples.map((sample) => ({ ...sample, file: redactPath(sample.file), text: text(sample.text) })),
    findings: report.findings.map(finding),
    warnings: report.warnings.map(text),
    environment: report.environment === null ? null : redactMeta(report.environment),
    mapsLines: Object.fromEntries(Object.entries(report.mapsLines).map(([id, line]) => [id, text(line)])),
  };
}

function redactMeta(meta: BundleMeta): BundleMeta {
  const out: BundleMeta = { ...meta };
  if (meta.hostname !== undefined) out.hostname = shortHash(meta.hostname);
  if (meta.cmdline !== undefined) out.cmdline = meta.cmdline.map((arg) => redactText(arg));
  if (meta.command !== undefined) out.command = redactText(meta.command);
  if (meta.traceFiles !== undefined) out.traceFiles = meta.traceFiles.map(redactPath);
  return out;
}

/** The command line shown under "how to reproduce". */
export function redactCommand(command: string): string {
  return redactText(command);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
