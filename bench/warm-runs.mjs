#!/usr/bin/env node
// analyze() of one trace N times in one process: the first run pays for V8
// compiling and optimizing the code, the later ones show the same work
// warmed up (bench/results.md, twenty-ninth session). Prints each run's wall
// and CPU (user + system, all threads) time.
//
// USAGE
//   node bench/warm-runs.mjs TRACE [RUNS]      RUNS: 4 unless given
//   node bench/warm-runs.mjs /tmp/t/f20.txt
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [file, runsText = '4'] = process.argv.slice(2);
const runs = Number(runsText);
if (file === undefined || !(runs >= 1)) {
  process.stderr.write('usage: node bench/warm-runs.mjs TRACE [RUNS]\n');
  process.exit(2);
}
const dist = process.env.ORPHANMAP_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { analyze } = await import(pathToFileURL(join(dist, 'ingest', 'analyze.js')).href);
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const analysis = await analyze([file], {});
  const used = process.cpuUsage(cpu);
  process.stdout.write(`run ${run}: ${(performance.now() - started).toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${analysis.events} events\n`);
}
