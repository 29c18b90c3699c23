#!/usr/bin/env node
// A copy of a bpftrace program with every printf of its probes taken out
// (BEGIN's and END's stay), to time what the probes and their maps cost
// without the output path: perf_event_output, bpftrace waking up, formatting
// and writing. Used with bench/overhead.mjs --bt-variants (issue 14, goal 5).
//
// USAGE
//   node bench/bt-noprint.mjs scripts/orphanmap.bt > /tmp/noprint.bt
//   node bench/overhead.mjs --only untraced,bpftrace,bt:noprint --bt-variants noprint=/tmp/noprint.bt --out -
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/bt-noprint.mjs FILE.bt > OUT.bt\n');
  process.exit(2);
}
const text = readFileSync(file, 'utf8');
// The header comment mentions printf too: only the program after it changes.
const start = text.indexOf('\nBEGIN');
if (start < 0) {
  process.stderr.write(`bt-noprint: no BEGIN probe in ${file}\n`);
  process.exit(1);
}
let out = text.slice(0, start);
let at = start;
for (;;) {
  const call = text.indexOf('printf(', at);
  if (call < 0) break;
  out += text.slice(at, call);
  // The call's closing parenthesis; format strings here hold none unbalanced.
  let depth = 0;
  let end = call + 'printf'.length;
  for (; end < text.length; end++) {
    if (text[end] === '(') depth++;
    else if (text[end] === ')' && --depth === 0) break;
  }
  const statement = text.slice(call, end + 1);
  // The header line and the end line keep the trace recognisable.
  out += /orphanmap-bt 1 begin| end\\n/.test(statement) ? statement : '$noprint = 0';
  at = end + 1;
}
out += text.slice(at);
process.stdout.write(out);
