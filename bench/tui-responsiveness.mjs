#!/usr/bin/env node
// Is the TUI still answering keys while it ingests 100,000 events/s (issue 4)?
//
// USAGE
//   npm run build && node bench/tui-responsiveness.mjs [--rates 100000,200000,max] [--seconds 6] [--out bench/tui-results.md]
//
// What it does, in one process, as `orphanmap live` does: the real App is
// rendered by ink (startTui from dist/) into a fake 120x40 terminal; a
// generated strace trace of a Kafka-like broker (bench/generate-trace.mjs
// --filtered: every line an event the engine follows) goes through the real
// StraceReader and Engine at a paced rate, and the engine's changes reach the
// store through engineFeed/analyzeOptionsFor, exactly as in live mode. Lines
// are handed over in batches of up to 700 (a 64 KiB read of the trace) with a
// macrotask between batches, like a stream. Every 40-120 ms a key (j, then k,
// and so on) is written to the fake stdin.
//
// FIELDS
//   key→frame p50/p95/max  from writing the key to stdin until ink writes the
//                          first frame whose selected row ("› ") is another
//                          finding (kind, path, address, pid)
//   keys answered          keys whose frame came, of keys sent (a key lost would show here)
//   frames/s               ink writes to stdout per second while ingesting
//   events/s               engine events applied per second (the input rate reached)
//   loop lag p95/max       event-loop delay (perf_hooks.monitorEventLoopDelay)
//
// EXAMPLE
//   | rate asked | events/s | key→frame p50 | p95 | max | keys answered | frames/s | loop lag p95 |
//   | 100 k/s | 100 k | 21 ms | 39 ms | 52 ms | 80/80 | 29.6 | 18 ms |
//
// REQUIREMENTS: `npm run build` (dist/), node >= 20. The first run generates
// bench/out/trace-60MB-filtered.txt (about a minute).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, arch } from 'node:os';
import { join, dirname } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

// ink renders only the last frame in CI: this is an interactive measurement.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TRACE = join(ROOT, 'bench/out/trace-60MB-filtered.txt');
const COLUMNS = 120;
const ROWS = 40;
const BATCH = 700;

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const RATES = flag('--rates', '100000,200000,max')
  .split(',')
  .map((r) => (r === 'max' ? Infinity : Number(r)));
const SECONDS = Number(flag('--seconds', '6'));
const OUT = flag('--out', join(ROOT, 'bench/tui-results.md'));

if (!existsSync(join(ROOT, 'dist/tui/run.js'))) throw new Error('run `npm run build` first: this measures dist/');
if (!existsSync(TRACE)) {
  console.error(`generating ${TRACE} (once)…`);
  execFileSync(process.execPath, [join(ROOT, 'bench/generate-trace.mjs'), '60MB', TRACE, '--filtered'], { stdio: 'inherit' });
}

// What the CLI does before it loads ink: React's production build (the
// development build records a measure per render and slows every frame).
const { loadInkInteractively } = await import(join(ROOT, 'dist/tui/terminal.js'));
loadInkInteractively();
const { startTui, analyzeOptionsFor } = await import(join(ROOT, 'dist/tui/run.js'));
const { StraceReader } = await import(join(ROOT, 'dist/parse/strace.js'));
const { Engine } = await import(join(ROOT, 'dist/engine/engine.js'));

const lines = readFileSync(TRACE, 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();

/** A terminal that keeps what ink writes, with the time it was written. */
function fakeTerminal() {
  const frames = [];
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      frames.push({ at: performance.now(), text: chunk.toString() });
      done();
    },
  });
  Object.assign(stdout, { isTTY: true, columns: COLUMNS, rows: ROWS });
  const stdin = new PassThrough();
  Object.assign(stdin, { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin });
  return { stdout, stdin, frames };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-B]|\u001b[=>78]/g;

/**
 * The selected finding in a frame, by what its row shows and does not change
 * with time: severity, kind, path, address, size and pid (not the state or
 * the age, which move on their own in a live session).
 */
function selectedIn(text) {
  const row = text
    .replace(ANSI, '')
    .split('\n')
    .find((line) => line.startsWith('› '));
  if (row === undefined) return null;
  const m = /^› (ERR|WRN|BEN) +(?:(unlink|remap) +)?(\S+)\s+(?:(0x[0-9a-f]+)\s+)?(\d+(?:\.\d)? (?:[KMGTPE]iB|B))(?:\s+(\d+))? /.exec(row);
  return m === null ? null : m.slice(1).join(' ');
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const macrotask = () => new Promise((resolve) => setImmediate(resolve));

async function measure(rate, withTui = true) {
  const term = fakeTerminal();
  const session = !withTui
    ? headless()
    : startTui({
        source: { kind: 'live', pid: 24310, command: 'java kafka.Kafka (generated trace)', backend: 'strace' },
        streams: { stdin: term.stdin, stdout: term.stdout },
      });
  const options = withTui ? analyzeOptionsFor(session.store, session.feed) : null;
  const reader = new StraceReader('trace.txt', 0);
  const engine = new Engine();
  const out = [];
  let next = 0;
  let events = 0;

  let ingesting = true;
  const lag = monitorEventLoopDelay({ resolution: 5 });
  const start = performance.now();
  lag.enable();

  const ingest = (async () => {
    const deadline = start + SECONDS * 1000;
    while (next < lines.length && performance.now() < deadline) {
      // Paced by input lines, as the tracer writes them (an <unfinished ...>/<... resumed> pair is two lines, one event).
      const due = rate === Infinity ? Infinity : ((performance.now() - start) / 1000) * rate;
      if (next >= due) {
        await sleep(1);
        continue;
      }
      const end = Math.min(lines.length, next + BATCH, due);
      for (; next < end; next++) {
        out.length = 0;
        reader.push(lines[next], next + 1, out);
        for (const item of out) {
          if (item.type !== 'event') continue;
          events++;
          for (const change of engine.apply(item.event)) if (withTui) options.onChange(change, engine);
        }
      }
      if (withTui) options.onProgress({ source: 'trace.txt', bytesRead: 0, size: null, lines: next }, engine);
      await macrotask();
    }
    ingesting = false;
  })();

  // Keys: wait for two rows, then j, k, j, k… each timed to its first frame.
  const keys = [];
  const keyLoop = (async () => {
    if (!withTui) return;
    while (ingesting && session.store.getSnapshot().rows.length < 2) await sleep(20);
    let down = true;
    while (ingesting) {
      await sleep(40 + Math.random() * 80);
      if (!ingesting) break;
      const before = selectedIn(term.frames.at(-1)?.text ?? '') ?? selectedIn(lastFrameWithTable(term.frames));
      const from = term.frames.length;
      const sentAt = performance.now();
      term.stdin.write(down ? 'j' : 'k');
      down = !down;
      const key = { sentAt, answeredAt: null };
      keys.push(key);
      // Wait for the frame (up to 2 s) before the next key, so each is timed alone.
      const until = sentAt + 2000;
      while (performance.now() < until) {
        const hit = term.frames.slice(from).find((f) => {
          const s = selectedIn(f.text);
          return s !== null && s !== before;
        });
        if (hit !== undefined) {
          key.answeredAt = hit.at;
          break;
        }
        await sleep(1);
      }
    }
  })();

  await ingest;
  const elapsed = (performance.now() - start) / 1000;
  await keyLoop;
  lag.disable();
  const framesDuringIngest = term.frames.filter((f) => f.at - start <= elapsed * 1000).length;
  session.close();
  await session.waitUntilExit();

  const answered = keys.filter((k) => k.answeredAt !== null);
  const latencies = answered.map((k) => k.answeredAt - k.sentAt).sort((a, b) => a - b);
  return {
    rate,
    withTui,
    events,
    eventsPerSecond: events / elapsed,
    linesPerSecond: next / elapsed,
    seconds: elapsed,
    findings: session.store.getSnapshot().totalFindings,
    keys: keys.length,
    answered: answered.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    max: latencies.at(-1) ?? NaN,
    framesPerSecond: framesDuringIngest / elapsed,
    lagP95: lag.percentile(95) / 1e6,
    lagMax: lag.max / 1e6,
  };
}

/** The baseline: the same ingest loop with no store and no ink. */
function headless() {
  return { store: { getSnapshot: () => ({ totalFindings: 0, rows: [] }) }, close() {}, waitUntilExit: async () => undefined };
}

function lastFrameWithTable(frames) {
  for (let k = frames.length - 1; k >= 0; k--) if (selectedIn(frames[k].text) !== null) return frames[k].text;
  return '';
}

const k = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${Math.round(n / 1000)} k`);
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : '–');

const results = [await measure(Infinity, false)];
console.error(`baseline, no TUI, as fast as it goes: ${k(results[0].linesPerSecond)} lines/s, ${k(results[0].eventsPerSecond)} events/s`);
for (const rate of RATES) {
  const r = await measure(rate);
  results.push(r);
  console.error(
    `rate ${rate === Infinity ? 'max' : `${k(rate)}/s`}: ${k(r.linesPerSecond)} lines/s, ${k(r.eventsPerSecond)} events/s, key→frame p50 ${ms(r.p50)} p95 ${ms(r.p95)} max ${ms(r.max)}, ${r.answered}/${r.keys} keys, ${r.framesPerSecond.toFixed(1)} frames/s`,
  );
}

const header = '| input rate asked (lines/s) | TUI | lines/s reached | events/s reached | events | findings | key→frame p50 | p95 | max | keys answered | frames/s | loop lag p95 | loop lag max |';
const rule = '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |';
const rows = results.map(
  (r) =>
    `| ${r.rate === Infinity ? 'as fast as it goes' : `${k(r.rate)}/s`} | ${r.withTui ? 'yes' : 'no (baseline)'} | ${k(r.linesPerSecond)} | ${k(r.eventsPerSecond)} | ${r.events} | ${r.withTui ? r.findings : '–'} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${r.withTui ? `${r.answered}/${r.keys}` : '–'} | ${r.withTui ? r.framesPerSecond.toFixed(1) : '–'} | ${ms(r.lagP95)} | ${ms(r.lagMax)} |`,
);
const table = [header, rule, ...rows].join('\n');
console.log(table);

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const goal = results.filter((r) => r.withTui).every((r) => r.p95 < 200 && r.answered === r.keys);
writeFileSync(
  OUT,
  `# TUI responsiveness while ingesting

Written by \`bench/tui-responsiveness.mjs\`; regenerate with the command below.

- command: \`${['npm run build && node bench/tui-responsiveness.mjs', ...args].join(' ')}\`
- date: ${new Date().toISOString()}
- machine: ${cpus().length} CPUs (${cpu}), ${platform()} ${arch()}, node ${process.version}
- load average when done: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (other work on the machine makes the figures noisy)
- input: ${TRACE.slice(ROOT.length + 1)} (bench/generate-trace.mjs 60MB --filtered: ${lines.length} lines, every one a call the engine follows; an <unfinished>/<resumed> pair is one event, so events ≈ lines / 2), ${SECONDS} s per rate at most
- terminal: fake ${COLUMNS}x${ROWS} TTY; ink ${JSON.parse(readFileSync(join(ROOT, 'node_modules/ink/package.json'), 'utf8')).version}, store throttle 100 ms, ink maxFps 30 (defaults)

Goal (issue 4): at 100,000 events/s of input the UI answers keys well under 200 ms. Key p95 < 200 ms with every key answered, at every rate asked: ${goal ? '**met**' : '**MISSED**'}. Whether the input rate itself was reached is the "reached" columns: compare with the no-TUI baseline.

${table}

How it is measured: one process, like \`orphanmap live\`: the real App (startTui from dist/) renders into
a fake terminal while the real StraceReader and Engine consume the trace at the asked rate, in batches of
up to ${BATCH} lines (one 64 KiB read) with a macrotask between them, feeding the store through
engineFeed/analyzeOptionsFor. A key (j, k, j…) is written to the fake stdin every 40–120 ms; its latency runs
until ink writes the first frame whose selected row (\`› \`) is another finding. "frames/s" counts ink's writes
to stdout while ingesting (data redraws are throttled to one snapshot per 100 ms by the store and to 30 fps by
ink; a key redraws at once, within ink's 33 ms throttle). "loop lag" is perf_hooks' event-loop delay.
`,
);
console.error(`wrote ${OUT}`);
process.exit(0);
