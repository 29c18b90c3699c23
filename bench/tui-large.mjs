#!/usr/bin/env node
// Does the TUI stay responsive and lean with 10,000+ findings (issue 13)?
//
// USAGE
//   npm run build && node bench/tui-large.mjs [--size 28MB] [--repeat 5] [--out bench/tui-large-results.md]
//
// What it does: generates (once) a filtered strace trace of a Kafka-like broker
// where every index trim leaks (bench/generate-trace.mjs --filtered --leak-rate 1
// --gc-rate 0: over 10,000 findings at 28 MB), then, each in a child process of
// its own so that peak RSS is that run's alone:
//   1. `orphanmap analyze TRACE --format json` (the CLI from dist/), its peak RSS;
//   2. `analyze TRACE --tui` as the CLI runs it (runAnalyzeTui from dist/) in a
//      fake 120x40 terminal: once the trace is read to the end, keys are written
//      to the fake stdin one at a time and each is timed from the write to the
//      first frame that shows its effect (sort o and r, severity s, G and g,
//      j, Enter into the selected finding's detail, whose evidence lines are
//      read from the trace then, and Esc back, a filter typed a key at a time
//      with Backspace, Ctrl-U and Esc), then q.
//
// FIELDS
//   key       what was pressed (each pressed --repeat times or more, in turn)
//   median / p95 / max   write → first frame showing the effect
//   peak RSS  getrusage ru_maxrss of the child process
//
// EXAMPLE
//   | key | presses | median | p95 | max |
//   | o (sort) | 30 | 38 ms | 61 ms | 75 ms |
//
// REQUIREMENTS: `npm run build` (dist/), node >= 20. The first run generates
// bench/out/trace-28MB-leaky.txt (a minute or two).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const SIZE = flag('--size', '28MB');
const REPEAT = Number(flag('--repeat', '5'));
const OUT = flag('--out', join(ROOT, 'bench/tui-large-results.md'));
const TRACE = flag('--trace', join(ROOT, `bench/out/trace-${SIZE}-leaky.txt`));
const COLUMNS = 120;
const ROWS = 40;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007|\u001b[()][0-9A-B]|\u001b[=>78]/g;

if (args.includes('--child-tui')) await childTui();
else await main();

async function main() {
  if (!existsSync(join(ROOT, 'dist/tui/run.js'))) throw new Error('run `npm run build` first: this measures dist/');
  if (!existsSync(TRACE)) {
    console.error(`generating ${TRACE} (once)…`);
    execFileSync(process.execPath, [join(ROOT, 'bench/generate-trace.mjs'), SIZE, TRACE, '--filtered', '--leak-rate', '1', '--gc-rate', '0'], { stdio: 'inherit' });
  }
  const expected = JSON.parse(readFileSync(`${TRACE}.expected.json`, 'utf8'));
  const findings = expected.findings['unlinked-while-mapped'] + expected.findings['remapped-without-unmap'];

  const json = measureJson();
  console.error(`analyze --format json: ${mib(json.maxRss)} peak RSS, ${json.seconds.toFixed(1)} s`);
  const tui = runChild();
  console.error(`analyze --tui: ${mib(tui.maxRss)} peak RSS, read in ${tui.readSeconds.toFixed(1)} s, ${tui.findings} findings`);

  const rows = Object.entries(tui.keys).map(([key, times]) => {
    const sorted = [...times].sort((a, b) => a - b);
    return { key, presses: sorted.length, median: pct(sorted, 50), p95: pct(sorted, 95), max: sorted.at(-1) ?? NaN };
  });
  const ratio = tui.maxRss / json.maxRss;
  const keysMet = rows.every((row) => row.median < 200) && tui.unanswered === 0;
  const table = [
    '| key | presses | median | p95 | max |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.key} | ${row.presses} | ${ms(row.median)} | ${ms(row.p95)} | ${ms(row.max)} |`),
  ].join('\n');
  console.log(table);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  writeFileSync(
    OUT,
    `# The TUI with ${findings.toLocaleString('en-US')} findings

Written by \`bench/tui-large.mjs\`; regenerate with the command below.

- command: \`${['npm run build && node bench/tui-large.mjs', ...args].join(' ')}\`
- date: ${new Date().toISOString()}
- machine: ${cpus().length} CPUs (${cpu}), ${platform()} ${arch()}, node ${process.version}
- load average when done: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work on the machine makes the figures noisy)
- input: ${TRACE.slice(ROOT.length + 1)} (bench/generate-trace.mjs ${SIZE} --filtered --leak-rate 1 --gc-rate 0: ${expected.lines.toLocaleString('en-US')} lines, ${findings.toLocaleString('en-US')} findings)
- terminal: fake ${COLUMNS}x${ROWS} TTY; keys written after the trace is read to the end

Goals (issue 13): every key answered in under 200 ms at the median: ${keysMet ? '**met**' : '**MISSED**'}${tui.unanswered > 0 ? ` (${tui.unanswered} keys never answered)` : ''}; TUI peak RSS within 1.5x of \`analyze --format json\` on the same file: ${ratio <= 1.5 ? '**met**' : '**MISSED**'} (${ratio.toFixed(2)}x).

| run | peak RSS | time |
| --- | --- | --- |
| \`orphanmap analyze TRACE --format json\` | ${mib(json.maxRss)} | ${json.seconds.toFixed(1)} s |
| \`orphanmap analyze TRACE --tui\` (read, then the keys below, then q) | ${mib(tui.maxRss)} | read in ${tui.readSeconds.toFixed(1)} s |

${table}

How a key is timed: written to the fake stdin as a terminal would send it, then the
time until ink writes the first frame that shows its effect (the title line's sort,
severity, row number or filter, or the selected row). One key at a time: the next is
written only after the previous one's frame.
`,
  );
  console.error(`wrote ${OUT}`);
}

function measureJson() {
  const start = performance.now();
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the template literal is code for the child process to run
  const code = "process.on('exit', () => process.stderr.write(`\\nMAXRSS ${process.resourceUsage().maxRSS}\\n`)); process.argv.splice(1, 0, 'orphanmap'); await import(process.env.ORPHANMAP_CLI);";
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code, 'analyze', TRACE, '--format', 'json', '--out', '/dev/null'], {
    env: { ...process.env, ORPHANMAP_CLI: join(ROOT, 'dist/cli.js') },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const rss = /MAXRSS (\d+)/.exec(result.stderr);
  if (rss === null) throw new Error(`analyze --format json failed: ${result.stderr.slice(-2000)}`);
  return { maxRss: Number(rss[1]) * 1024, seconds: (performance.now() - start) / 1000 };
}

function runChild() {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-tui', '--trace', TRACE, '--repeat', String(REPEAT)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`the TUI run failed (status ${result.status}):\n${result.stderr.slice(-4000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** In the child: the real runAnalyzeTui on a fake terminal, keys timed one by one. */
async function childTui() {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  process.env.ORPHANMAP_EXPORT_DIR = '/nonexistent-never-used';
  // What `orphanmap analyze --tui` does before it loads ink: React's production build.
  const { loadInkInteractively } = await import(join(ROOT, 'dist/tui/terminal.js'));
  loadInkInteractively();
  const { runAnalyzeTui } = await import(join(ROOT, 'dist/tui/run.js'));
  const frames = [];
  let last = '';
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      const text = chunk.toString().replace(ANSI, '');
      if (text.trim() !== '') {
        last = text;
        frames.push({ at: performance.now(), text });
      }
      done();
    },
  });
  Object.assign(stdout, { isTTY: true, columns: COLUMNS, rows: ROWS });
  const stdin = new PassThrough();
  Object.assign(stdin, { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
  const start = performance.now();
  const run = runAnalyzeTui([TRACE], {}, { stdin, stdout });
  const sleep = (n) => new Promise((resolve) => setTimeout(resolve, n));
  while (!last.includes('read to the end')) await sleep(20);
  const readSeconds = (performance.now() - start) / 1000;
  await sleep(300);
  const findings = Number((/findings ([\d,]+)/.exec(last)?.[1] ?? '0').replace(/,/g, ''));
  const keys = {};
  let unanswered = 0;
  /** Write `data`; wait for the first later frame where `done(text)` holds. */
  const press = async (name, data, done) => {
    const from = frames.length;
    const sent = performance.now();
    stdin.write(data);
    const until = sent + 10_000;
    while (performance.now() < until) {
      const hit = frames.slice(from).find((frame) => done(frame.text));
      if (hit !== undefined) {
        (keys[name] ??= []).push(hit.at - sent);
        return;
      }
      await sleep(1);
    }
    unanswered++;
    process.stderr.write(`no frame answered ${name} within 10 s; the last frame:\n${last}\n`);
  };
  const title = (text) => text.split('\n').find((line) => line.startsWith('findings ')) ?? '';
  const SORTS = ['age', 'size', 'path', 'pid', 'id', 'severity'];
  for (let round = 0; round < REPEAT; round++) {
    for (const sort of SORTS) await press('o (sort)', 'o', (text) => title(text).includes(`sort ${sort} ▼`));
    await press('r (reverse)', 'r', (text) => title(text).includes('▲'));
    await press('r (reverse)', 'r', (text) => title(text).includes('sort severity ▼'));
    for (const severity of ['error', 'warning', 'benign']) await press('s (severity)', 's', (text) => title(text).includes(`severity ${severity}`));
    await press('s (severity)', 's', (text) => !/· severity \w/.test(title(text)) && title(text).includes('findings '));
    await press('G (last)', 'G', (text) => /row ([\d,]+) of \1\b/.test(title(text)));
    await press('k (up)', 'k', (text) => /row ([\d,]+) of/.test(title(text)) && !/row ([\d,]+) of \1\b/.test(title(text)));
    await press('g (first)', 'g', (text) => / row 1 of /.test(title(text)));
    await press('j (down)', 'j', (text) => / row 2 of /.test(title(text)));
    // The store keeps no evidence line: the detail reads the finding's from the trace.
    await press('Enter (detail)', '\r', (text) => /F\d+, row 2 of /.test(title(text)) && /timeline of the file: \d+ lines/.test(text));
    await press('Esc (detail)', '\u001b', (text) => !text.includes('timeline of the file') && / row 2 of /.test(title(text)));
    await press('/ (filter)', '/', (text) => text.includes('filter (path text or pid): '));
    let typed = '';
    for (const char of 'index.dele') {
      typed += char;
      const want = typed;
      await press('filter typing', char, (text) => text.includes(`filter (path text or pid): ${want} `));
    }
    await press('Backspace', '\u007f', (text) => text.includes('filter (path text or pid): index.del '));
    await press('Ctrl-W', '\u0017', (text) => text.includes('filter (path text or pid):  '));
    await press('filter typing', '1', (text) => text.includes('filter (path text or pid): 1 '));
    await press('Ctrl-U', '\u0015', (text) => text.includes('filter (path text or pid):  '));
    await press('Esc', '\u001b', (text) => !text.includes('filter (path text or pid)') && title(text).includes('findings '));
  }
  stdin.write('q');
  await run;
  process.stdout.write(`RESULT ${JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024, readSeconds, findings, keys, unanswered })}\n`);
  process.exit(0);
}

function pct(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function ms(n) {
  return Number.isFinite(n) ? `${n.toFixed(0)} ms` : '–';
}
function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
