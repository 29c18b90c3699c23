#!/usr/bin/env node
// The trace generator's command line. The generator itself is
// test/support/generate-trace.mjs, shared by the benchmarks and the tests;
// see its header for the workload and USAGE.
//   node bench/generate-trace.mjs 100MB                 → bench/out/trace-100MB.txt
import { fileURLToPath } from 'node:url';
import { main } from '../test/support/generate-trace.mjs';

export { generate, GENERATOR_VERSION, parseSize } from '../test/support/generate-trace.mjs';

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
