// `orphanmap analyze <input...>`: post-hoc analysis of traces and bundles.
import { open } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Finding } from '../engine/findings.js';
import { EXIT_FINDINGS, UsageError } from '../errors.js';
import { analyze } from '../ingest/analyze.js';
import { buildReport, findingFilter, type FindingFilter, type Report } from '../report/report.js';
import { formatText } from '../report/text.js';
import { escapeControl } from '../report/sanitize.js';
import { redactReport } from '../report/redact.js';
import { loadInkInteractively } from '../tui/terminal.js';
import { formatReport, OUTPUT_FORMATS, type OutputFormat } from '../report/formats.js';

interface AnalyzeFlags {
  format: OutputFormat;
  out?: string;
  tui?: boolean;
  pid?: number;
  path?: string;
  failOn?: 'error' | 'warning';
  redact?: boolean;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze strace/bpftrace traces, -ff sets or capture bundles for mappings that outlive their files')
    .argument('<input...>', 'trace files, a capture bundle directory, strace -ff files (trace.<tid>), or - for stdin')
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
    .option('-o, --out <file>', 'write the report to a file instead of stdout')
    .option('--tui', 'browse the findings in the interactive terminal UI (falls back to the report without a terminal)')
    .option('--pid <pid>', 'only findings of this process (thread group id)', parsePid)
    .option('--path <glob>', 'only findings whose file (any of its names) matches; without a slash, matches the base name')
    .addOption(new Option('--fail-on <severity>', 'exit 3 when a finding of this severity or worse is reported').choices(['error', 'warning']))
    .option('--redact', 'replace path components with stable short hashes (markdown/jira/text/json)')
    .action(async (inputs: string[], flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze(inputs, flags);
    });
}

function parsePid(value: string): number {
  const pid = Number(value);
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid needs a process id, not "${value}"`);
  return pid;
}

async function runAnalyze(inputs: string[], flags: AnalyzeFlags): Promise<number> {
  const filter: FindingFilter = {};
  if (flags.pid !== undefined) filter.pid = flags.pid;
  if (flags.path !== undefined) filter.path = flags.path;
  if (flags.tui === true) {
    loadInkInteractively();
    const { runAnalyzeTui } = await import('../tui/run.js');
    // Without a terminal the UI is not drawn: fall through to the report.
    if (await runAnalyzeTui(inputs, filter)) return 0;
  }
  const output = flags.out === undefined ? process.stdout : await openOutput(flags.out);
  const keep = findingFilter(filter);
  const streaming = flags.format === 'ndjson';
  const analysis = await analyze(inputs, {
    ...(flags.pid === undefined ? {} : { pid: flags.pid }),
    ...(streaming ? {
      onChange: (change, engine) => {
        if (!keep(change.finding)) return;
        output.write(`${JSON.stringify({ ...change.finding, evidence: engine.evidenceOf(change.finding) })}\n`);
      },
    } : {}),
  });
  // Said on stderr too: a report of nothing must not read as "nothing leaked".
  // (ndjson's stderr summary below prints every warning, this one included.)
  if (analysis.pidNotice !== null && !streaming) process.stderr.write(`orphanmap: warning: ${escapeControl(analysis.pidNotice)}\n`);
  const built = buildReport(analysis, filter);
  const report = flags.redact === true ? redactReport(built) : built;
  if (flags.format === 'text') output.write(formatText(report));
  else if (flags.format !== 'ndjson') output.write(formatReport(report, flags.format, { redact: flags.redact === true, command: commandLine() }));
  else if (report.warnings.length > 0 || report.summary.unparsedLines > 0) process.stderr.write(stderrSummary(report));
  if (output !== process.stdout) await new Promise<void>((resolve) => output.end(resolve));
  return failsOn(report.findings, flags.failOn) ? EXIT_FINDINGS : 0;
}

function commandLine(): string {
  return ['orphanmap', ...process.argv.slice(2)].map((arg) => (/^[\w./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Open --out before reading anything: a bad path is a usage error, named. */
async function openOutput(path: string): Promise<NodeJS.WritableStream & { end(callback: () => void): void }> {
  const handle = await open(path, 'w').catch((error: Error & { code?: string }) => {
    throw new UsageError(`cannot write the report: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`, path);
  });
  return handle.createWriteStream();
}

function stderrSummary(report: Report): string {
  const lines = report.warnings.map((warning) => `orphanmap: warning: ${escapeControl(warning)}`);
  if (report.summary.unparsedLines > 0) lines.push(`orphanmap: ${report.summary.unparsedLines} unreadable lines (first: ${escapeControl(report.unparsedSamples[0]?.file ?? '')}:${report.unparsedSamples[0]?.line})`);
  return `${lines.join('\n')}\n`;
}

function failsOn(findings: readonly Finding[], threshold: 'error' | 'warning' | undefined): boolean {
  if (threshold === undefined) return false;
  return findings.some((finding) => finding.severity === 'error' || (threshold === 'warning' && finding.severity === 'warning'));
}
