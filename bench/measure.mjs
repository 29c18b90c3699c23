#!/usr/bin/env node
// One measurement in a fresh process, so each figure has its own heap and its
// own peak RSS. Prints one JSON object on stdout. Used by bench/run.mjs.
//
// USAGE
//   node bench/measure.mjs split2 FILE     bare line count: createReadStream → split2
//   node bench/measure.mjs analyze FILE    dist/ingest/analyze.js in-process (run with --expose-gc
//                                          to also sample the live heap at each quarter of the input;
//                                          ORPHANMAP_DIST=DIR measures another build's dist/)
import { createReadStream, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import split2 from 'split2';

const HERE = dirname(fileURLToPath(import.meta.url));
const [mode, file] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/measure.mjs split2|analyze FILE\n');
  process.exit(2);
}
const bytes = statSync(file).size;
const MiB = 1024 * 1024;

/** The same read the line source does (src/ingest/lines.ts): 256 KiB chunks, default split2. */
function countLines() {
  return new Promise((resolve, reject) => {
    let lines = 0;
    const input = createReadStream(file, { highWaterMark: 256 * 1024 });
    input.on('error', reject);
    input
      .pipe(split2())
      .on('data', () => {
        lines++;
      })
      .on('error', reject)
      .on('end', () => resolve(lines));
  });
}

async function analyzeFile() {
  const dist = process.env.ORPHANMAP_DIST ?? join(HERE, '..', 'dist');
  const { analyze } = await import(pathToFileURL(join(dist, 'ingest', 'analyze.js')).href);
  const gc = globalThis.gc;
  /** RSS and, with --expose-gc, the heap still live after a full collection: the state kept. */
  const samples = [];
  let nextQuarter = 0.25;
  const sample = (fraction) => {
    const entry = { at: fraction, rssMiB: process.memoryUsage().rss / MiB };
    if (typeof gc === 'function') {
      gc();
      entry.liveHeapMiB = process.memoryUsage().heapUsed / MiB;
    }
    samples.push(entry);
  };
  const analysis = await analyze([file], {
    onProgress: (progress) => {
      const fraction = progress.size ? progress.bytesRead / progress.size : 0;
      if (fraction >= nextQuarter && nextQuarter < 1) {
        sample(nextQuarter);
        nextQuarter += 0.25;
      }
    },
  });
  sample(1);
  const findings = {};
  for (const finding of analysis.engine.findings()) findings[finding.kind] = (findings[finding.kind] ?? 0) + 1;
  return { lines: analysis.lines, events: analysis.events, unparsedLines: analysis.unparsedLines, unparsedSamples: analysis.unparsedSamples.slice(0, 3), findings, samples };
}

const started = process.hrtime.bigint();
let result;
switch (mode) {
  case 'split2':
    result = { lines: await countLines() };
    break;
  case 'analyze':
    result = await analyzeFile();
    break;
  default:
    process.stderr.write(`unknown mode "${mode}"\n`);
    process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
// CPU time (user + system, every thread of the process): steadier than wall time on a shared machine.
const usage = process.resourceUsage();
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
const maxRssMiB = usage.maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ mode, file, bytes, seconds, cpuSeconds, maxRssMiB, ...result })}\n`);
