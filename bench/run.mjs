#!/usr/bin/env node
// `npm run bench`: throughput and memory of `orphanmap analyze` on generated
// Kafka-like strace traces, against a bare split2 line count of the same file
// in the same run. Writes bench/results.md.
//
// USAGE
//   npm run bench                          100 MB, 10 MB filtered and 20 MB leaky (a few minutes at most on 2 cores)
//   npm run bench -- --large               the same and 1 GB
//   npm run bench -- --sizes 50MB,300MB    any sizes
//   npm run bench -- --sizes 20MB-filtered  a trace as `strace -e trace=<followed calls>` writes it:
//                                          every line is an event (the recommended capture, docs/trace-formats.md)
//   npm run bench -- --sizes 20MB-leaky     filtered, and every index trim leaks with no GC to unmap it:
//                                          ~1,500 findings per MB, for memory flat in the number of findings
//   npm run bench -- --runs 5              best of N timed runs (default 3; 1 for sizes ≥ 1 GB)
//   npm run bench -- --out /tmp/traces     where the generated traces go (default bench/out/)
//
// Exit status 1 when a figure is wrong (findings or unparsed lines differ from
// what the generator expects); a missed throughput or memory goal is printed
// and recorded, not fatal.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATOR_VERSION, parseSize } from './generate-trace.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const MiB = 1024 * 1024;
// Issue 14: a filtered trace at 0.35 of a bare line count, the CLI on an unfiltered one at 0.6.
const goalRatio = (size) => (/-(filtered|leaky)$/.test(size) ? 0.35 : 0.6);
const GOAL_RSS_MIB = 200;

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const sizes = (option('sizes') ?? (flag('large') ? '100MB,10MB-filtered,20MB-leaky,1GB' : '100MB,10MB-filtered,20MB-leaky')).split(',');
const runsOption = option('runs');
// Where traces are generated and kept between runs (a 1 GB trace is worth keeping).
const OUT = option('out') ?? join(HERE, 'out');
const seed = Number(option('seed') ?? 1);

if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  process.stderr.write('bench: dist/cli.js is missing: run `npm run build` first (npm run bench does)\n');
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });

const failures = [];
const rows = [];

for (const size of sizes) {
  const leaky = size.endsWith('-leaky');
  const filtered = leaky || size.endsWith('-filtered');
  const target = parseSize(size.replace(/-(filtered|leaky)$/, ''));
  const trace = join(OUT, `trace-${size}.txt`);
  const expected = ensureTrace(size, target, trace, filtered, leaky);
  const runs = Number(runsOption ?? (target >= 1024 ** 3 ? 1 : 3));
  log(`\n== ${size}: ${relative(ROOT, trace)} (${expected.lines} lines, ${(expected.bytes / MiB).toFixed(1)} MiB), best of ${runs}`);

  // Alternate the two so a noisy neighbour hurts both alike.
  let bare = null;
  let inProcess = null;
  let bareCpu = null;
  let inProcessCpu = null;
  let peakRss = 0;
  for (let run = 0; run < runs; run++) {
    const count = measure('split2', trace);
    log(`  split2 line count    ${fmtSeconds(count.seconds)}  ${count.lines} lines  (CPU ${fmtSeconds(count.cpuSeconds)})`);
    if (bare === null || count.seconds < bare.seconds) bare = count;
    if (bareCpu === null || count.cpuSeconds < bareCpu) bareCpu = count.cpuSeconds;
    const analysis = measure('analyze', trace);
    log(`  analyze (in-process) ${fmtSeconds(analysis.seconds)}  peak RSS ${analysis.maxRssMiB.toFixed(0)} MiB  (CPU ${fmtSeconds(analysis.cpuSeconds)})`);
    if (inProcess === null || analysis.seconds < inProcess.seconds) inProcess = analysis;
    if (inProcessCpu === null || analysis.cpuSeconds < inProcessCpu) inProcessCpu = analysis.cpuSeconds;
    peakRss = Math.max(peakRss, analysis.maxRssMiB);
  }
  // A separate, untimed run forces a GC at each quarter to see the state kept.
  const memory = measure('analyze', trace, ['--expose-gc']);
  log(`  analyze, live heap after GC at each quarter: ${memory.samples.map((s) => `${s.liveHeapMiB.toFixed(0)} MiB`).join(', ')}`);
  let cli = null;
  for (let run = 0; run < runs; run++) {
    const attempt = measureCli(trace);
    log(
      `  orphanmap analyze --format json (CLI, with startup and report) ${fmtSeconds(attempt.seconds)}  peak RSS ${attempt.maxRssMiB === null ? '?' : attempt.maxRssMiB.toFixed(0)} MiB  (CPU ${attempt.cpuSeconds === null ? '?' : fmtSeconds(attempt.cpuSeconds)})`,
    );
    if (cli === null || attempt.seconds < cli.seconds) cli = { ...attempt, maxRssMiB: Math.max(attempt.maxRssMiB ?? 0, cli?.maxRssMiB ?? 0) || null };
  }
  // The ticket's evidence directory (Markdown, Jira, JSON, chart, lines): its
  // reports look at every finding against the others, which must stay linear
  // in findings (the diagnosis was cubic: 7,734 findings took 6 minutes each).
  let ticket = null;
  for (let run = 0; run < runs; run++) {
    const attempt = measureEvidenceDirectory(trace, run);
    log(`  orphanmap report --out DIR (evidence directory) ${fmtSeconds(attempt.seconds)}  peak RSS ${attempt.maxRssMiB === null ? '?' : attempt.maxRssMiB.toFixed(0)} MiB`);
    if (ticket === null || attempt.seconds < ticket.seconds) ticket = attempt;
  }

  // Correctness first: a fast wrong answer is worth nothing.
  check(size, 'lines (split2)', bare.lines, expected.lines);
  check(size, 'lines (analyze)', inProcess.lines, expected.lines);
  check(size, 'unparsed lines', inProcess.unparsedLines, 0, inProcess.unparsedSamples);
  for (const [kind, count] of Object.entries(expected.findings)) {
    check(size, `${kind} findings (in-process)`, inProcess.findings[kind] ?? 0, count);
    check(size, `${kind} findings (CLI json)`, cli.findings?.[kind] ?? 0, count);
  }

  const ratio = bare.seconds / inProcess.seconds;
  const cliRatio = bare.seconds / cli.seconds;
  const cpuRatio = bareCpu / inProcessCpu;
  const quarters = memory.samples.map((s) => `${Math.round(s.at * 100)}%: ${s.liveHeapMiB?.toFixed(0) ?? '?'}`).join(', ');
  rows.push({
    size,
    bytes: expected.bytes,
    lines: expected.lines,
    bareLinesPerSecond: bare.lines / bare.seconds,
    bareMiBPerSecond: expected.bytes / MiB / bare.seconds,
    linesPerSecond: inProcess.lines / inProcess.seconds,
    miBPerSecond: expected.bytes / MiB / inProcess.seconds,
    ratio,
    cliRatio,
    cpuRatio,
    goal: goalRatio(size),
    findingCount: Object.values(expected.findings).reduce((sum, count) => sum + count, 0),
    cliSeconds: cli.seconds,
    cliMiBPerSecond: expected.bytes / MiB / cli.seconds,
    rssMiB: peakRss,
    cliRssMiB: cli.maxRssMiB,
    ticketSeconds: ticket.seconds,
    ticketRssMiB: ticket.maxRssMiB,
    liveHeap: quarters,
    liveHeapEnd: memory.samples.at(-1)?.liveHeapMiB ?? null,
    liveHeapHalf: memory.samples.find((s) => s.at === 0.5)?.liveHeapMiB ?? null,
    findings: expected.findings,
  });
}

printTable(rows);
writeResults(rows);
if (failures.length > 0) {
  process.stderr.write(`\nBENCH FAILED: orphanmap's answer is wrong:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  process.exit(1);
}

// ---- steps ----------------------------------------------------------------------------

function ensureTrace(_size, target, trace, filtered, leaky) {
  const sidecar = `${trace}.expected.json`;
  if (existsSync(trace) && existsSync(sidecar)) {
    const known = JSON.parse(readFileSync(sidecar, 'utf8'));
    if (
      known.version === GENERATOR_VERSION &&
      known.seed === seed &&
      known.target === target &&
      known.filtered === filtered &&
      (known.leakRate === 1) === leaky &&
      statSync(trace).size === known.bytes
    ) {
      log(`reusing ${relative(ROOT, trace)}`);
      return known;
    }
  }
  log(`generating ${relative(ROOT, trace)} …`);
  const generator = [join(HERE, 'generate-trace.mjs'), String(target), trace, '--seed', String(seed), ...(filtered ? ['--filtered'] : []), ...(leaky ? ['--leak-rate', '1', '--gc-rate', '0'] : [])];
  execFileSync(process.execPath, generator, { stdio: 'inherit' });
  return JSON.parse(readFileSync(sidecar, 'utf8'));
}

function measure(mode, trace, nodeFlags = []) {
  const result = spawnSync(process.execPath, [...nodeFlags, join(HERE, 'measure.mjs'), mode, trace], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`bench/measure.mjs ${mode} failed with status ${result.status}`);
  }
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

/** The real command, as a user runs it; GNU time gives its peak RSS. */
function measureCli(trace) {
  const report = join(OUT, `report-${trace.split('/').at(-1)}.json`);
  const { failed, ...run } = timedCli(['analyze', trace, '--format', 'json', '--out', report], trace);
  return { ...run, findings: failed ? null : JSON.parse(readFileSync(report, 'utf8')).summary.findings };
}

/** `orphanmap report TRACE --out DIR`, a new directory each run, timed from outside with its peak RSS. */
function measureEvidenceDirectory(trace, run) {
  const dir = join(OUT, `evidence-${trace.split('/').at(-1)}-${process.pid}-${run}`);
  rmSync(dir, { recursive: true, force: true });
  const { failed: _, ...timing } = timedCli(['report', trace, '--out', dir], trace);
  rmSync(dir, { recursive: true, force: true });
  return timing;
}

/** `node dist/cli.js ARGS` in a fresh process, timed from outside, with GNU time's peak RSS and CPU when it is there (none when it failed: noted as a failure). */
function timedCli(args, trace) {
  const cli = [join(ROOT, 'dist', 'cli.js'), ...args];
  const timed = existsSync('/usr/bin/time');
  const command = timed ? '/usr/bin/time' : process.execPath;
  const commandArgs = timed ? ['-f', 'BENCH_RSS_KB=%M BENCH_CPU=%U+%S', process.execPath, ...cli] : cli;
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    failures.push(`orphanmap ${args[0]} exited with ${result.status} on ${trace}`);
    return { seconds, maxRssMiB: null, cpuSeconds: null, failed: true };
  }
  const rss = /BENCH_RSS_KB=(\d+)/.exec(result.stderr);
  const cpu = /BENCH_CPU=([\d.]+)\+([\d.]+)/.exec(result.stderr);
  return { seconds, maxRssMiB: rss === null ? null : Number(rss[1]) / 1024, cpuSeconds: cpu === null ? null : Number(cpu[1]) + Number(cpu[2]), failed: false };
}

function check(size, what, got, want, samples) {
  if (got === want) return;
  const detail = samples !== undefined && samples.length > 0 ? ` (first: ${samples.map((s) => `${s.place.file}:${s.place.line}: ${s.reason}`).join('; ')})` : '';
  failures.push(`${size}: ${what}: got ${got}, expected ${want}${detail}`);
}

// ---- output -------------------------------------------------------------------------------

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc is coreutils; os.cpus() is a fine fallback.
  }
  return { nproc, model, node: process.version, platform: `${process.platform} ${process.arch}` };
}

function tableLines(rows) {
  const header = [
    'trace',
    'lines',
    'findings',
    'split2 lines/s',
    'split2 MB/s',
    'analyze lines/s',
    'analyze MB/s',
    'ratio (goal)',
    'CPU ratio',
    'CLI s (MB/s)',
    'CLI ratio (goal)',
    `peak RSS MiB (goal < ${GOAL_RSS_MIB})`,
    'CLI peak RSS MiB',
    'report s (RSS MiB)',
    'live heap MiB at 25/50/75/100%',
  ];
  const verdict = (ratio, goal) => `${ratio.toFixed(2)} (${goal}) ${ratio >= goal ? 'met' : 'MISSED'}`;
  const body = rows.map((row) => [
    `${row.size} (${(row.bytes / MiB).toFixed(0)} MiB)`,
    String(row.lines),
    String(row.findingCount),
    fmtRate(row.bareLinesPerSecond),
    row.bareMiBPerSecond.toFixed(1),
    fmtRate(row.linesPerSecond),
    row.miBPerSecond.toFixed(1),
    verdict(row.ratio, row.goal),
    row.cpuRatio.toFixed(2),
    `${row.cliSeconds.toFixed(1)} (${row.cliMiBPerSecond.toFixed(1)})`,
    verdict(row.cliRatio, row.goal),
    `${row.rssMiB.toFixed(0)} ${row.rssMiB < GOAL_RSS_MIB ? 'met' : 'MISSED'}`,
    row.cliRssMiB === null ? '?' : `${row.cliRssMiB.toFixed(0)} ${row.cliRssMiB < GOAL_RSS_MIB ? 'met' : 'MISSED'}`,
    `${row.ticketSeconds.toFixed(1)} (${row.ticketRssMiB === null ? '?' : row.ticketRssMiB.toFixed(0)})`,
    row.liveHeap.replace(/\d+%: /g, ''),
  ]);
  return [header, ...body];
}

function printTable(rows) {
  const table = tableLines(rows);
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  log('');
  for (const row of table) log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '));
  for (const row of rows) {
    const flat = flatness(row);
    if (flat !== null) log(`${row.size}: ${flat}`);
  }
}

/** State should grow with live files and mappings, not with the trace: compare the live heap at half and at the end. */
function flatness(row) {
  if (row.liveHeapHalf === null || row.liveHeapEnd === null) return null;
  const growth = row.liveHeapEnd / Math.max(row.liveHeapHalf, 1);
  return growth > 1.25
    ? `live heap grows with the trace (${row.liveHeapHalf.toFixed(0)} MiB at half, ${row.liveHeapEnd.toFixed(0)} MiB at the end): NOT flat`
    : `live heap flat (${row.liveHeapHalf.toFixed(0)} MiB at half, ${row.liveHeapEnd.toFixed(0)} MiB at the end)`;
}

function writeResults(rows) {
  const info = machine();
  const table = tableLines(rows);
  const md = [
    '# orphanmap benchmark results',
    '',
    'Written by `bench/run.mjs`; regenerate with the command below (the traces are generated,',
    'deterministically, by `bench/generate-trace.mjs` into bench/out/, which git ignores).',
    '',
    `- command: \`npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\``,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${info.nproc} CPUs (nproc), ${info.model}, ${info.platform}`,
    `- node: ${info.node}`,
    `- load average when done: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine makes the figures noisy; each is the best of N)`,
    `- generator: version ${GENERATOR_VERSION}, seed ${seed}`,
    '',
    'Goals (issue 14): a filtered trace (`-e trace=…`) analyzed at ≥ 0.35 of the bare split2 line rate;',
    'the CLI (`analyze FILE --format json --out F`, start and report included) at ≥ 0.6 of it on an',
    'unfiltered trace; peak RSS < 200 MiB, flat in trace length and in the number of findings.',
    '',
    `| ${table[0].join(' | ')} |`,
    `| ${table[0].map(() => '---').join(' | ')} |`,
    ...table.slice(1).map((row) => `| ${row.join(' | ')} |`),
    '',
    ...rows.map(
      (row) =>
        `- ${row.size}: expected and found ${Object.entries(row.findings)
          .map(([kind, count]) => `${count} ${kind}`)
          .join(', ')}; ${flatness(row) ?? ''}`,
    ),
    '',
    'How to read it: "split2" is `fs.createReadStream` (256 KiB chunks) piped into `split2()`, counting',
    'lines, in a fresh process. "analyze" is `analyze([file])` from dist/ingest/analyze.js in a fresh process',
    '(best of N; the ratio is split2 time / analyze time; "CPU ratio" the same with user + system CPU time,',
    'steadier when other work shares the machine). "CLI" is `node dist/cli.js analyze FILE --format json --out F`,',
    'timed from outside (best of N), startup and report included, with its peak RSS from GNU time. "live heap" is',
    'the heap still used after a full GC at each quarter of the input: the state orphanmap keeps. "report" is',
    '`node dist/cli.js report FILE --out DIR`, the evidence directory for a ticket (Markdown, Jira, JSON, chart,',
    "the findings' lines), timed from outside (best of N): its reports compare findings with each other.",
    '',
    failures.length > 0 ? `**Wrong results:**\n\n${failures.map((f) => `- ${f}`).join('\n')}\n` : "Findings and line counts matched the generator's expectation exactly.",
    '',
  ].join('\n');
  // What follows "## Steps" is written by hand (each change's before and after): kept across runs.
  const resultsPath = join(HERE, 'results.md');
  const previous = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
  const steps = previous.indexOf('\n## Steps');
  writeFileSync(resultsPath, steps < 0 ? md : `${md}\n${previous.slice(steps + 1)}`);
  log(`\nwrote ${relative(ROOT, join(HERE, 'results.md'))}`);
}

function fmtRate(perSecond) {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M` : `${(perSecond / 1e3).toFixed(0)} k`;
}

function fmtSeconds(seconds) {
  return `${seconds.toFixed(2)} s`.padStart(8);
}

function log(text) {
  process.stdout.write(`${text}\n`);
}
