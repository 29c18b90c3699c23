#!/usr/bin/env node
// Time of `orphanmap scan` over every process on this machine, from the compiled
// code in dist/ (run `npm run build` first). The goal: well under a
// second on a normal host.
//
// USAGE
//   npm run build && node bench/scan.bench.mjs [--runs N] [--json]
//
// OUTPUT
//   scan of all processes: median 23.4 ms (min 16.4, max 39) over 20 runs; 32 processes scanned, 60 skipped, 1,788 mappings (2 CPUs, Node v20.20.2)
//
// Each run is a full scan as the CLI does it (list /proc, read every maps and
// comm, parse, aggregate) and a render of the text and prom formats; two runs
// before the timed ones warm up the JIT and the dentry cache.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const GOAL_MS = 1000;

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 20;
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('scan.bench: --runs needs a positive count\n');
  process.exit(2);
}
if (!existsSync(join(DIST, 'scan', 'read.js'))) {
  process.stderr.write('scan.bench: dist/scan/read.js is missing; run `npm run build` first\n');
  process.exit(2);
}

const load = (path) => import(pathToFileURL(join(DIST, path)).href);
const { scanProcesses } = await load('scan/read.js');
const { formatProm } = await load('scan/prom.js');
const { formatScanText } = await load('scan/text.js');

async function once() {
  const started = performance.now();
  const result = await scanProcesses();
  formatScanText(result, { top: 5, all: false });
  formatProm(result, { topPatterns: 5 });
  return { ms: performance.now() - started, result };
}

for (let i = 0; i < 2; i++) await once();
const times = [];
let last;
for (let i = 0; i < runs; i++) {
  const { ms, result } = await once();
  times.push(ms);
  last = result;
}
times.sort((a, b) => a - b);
const median = times.length % 2 === 1 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
const mappings = last.processes.reduce((sum, p) => sum + p.mappings, 0);
const figures = {
  runs,
  medianMs: Math.round(median * 10) / 10,
  minMs: Math.round(times[0] * 10) / 10,
  maxMs: Math.round(times[times.length - 1] * 10) / 10,
  processesScanned: last.processes.length,
  processesSkipped: last.skipped.length,
  mappings,
  cpus: cpus().length,
  node: process.version,
};

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  process.stdout.write(
    `scan of all processes: median ${figures.medianMs} ms (min ${figures.minMs}, max ${figures.maxMs}) over ${runs} runs; ` +
      `${figures.processesScanned} processes scanned, ${figures.processesSkipped} skipped, ${mappings.toLocaleString('en-US')} mappings ` +
      `(${figures.cpus} CPUs, Node ${figures.node})\n`,
  );
}
if (median >= GOAL_MS) {
  process.stderr.write(`scan.bench: median ${figures.medianMs} ms misses the goal of under ${GOAL_MS} ms\n`);
  process.exitCode = 1;
}
