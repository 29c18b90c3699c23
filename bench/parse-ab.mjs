#!/usr/bin/env node
// The strace parser alone, two builds or more in one process, rounds taken in
// turn (and in reverse order every other round), so that a busy machine's
// noise falls on every build alike. Lines are cut from 48 KiB pieces as the
// line source cuts them; nothing is applied to an engine. Prints each build's
// CPU ms per round: the first (cold) round, then the median and minimum of the
// warm ones. For before/after figures of a parser change (bench/results.md,
// step 18), where `compare.sh` on a loaded machine is noisier than the change.
//
// USAGE
//   node --expose-gc bench/parse-ab.mjs TRACE ROUNDS DIST...
//   node --expose-gc bench/parse-ab.mjs /tmp/t/f100.txt 9 /tmp/before/dist dist
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [file, roundsText, ...dists] = process.argv.slice(2);
const rounds = Number(roundsText);
if (file === undefined || !(rounds >= 2) || dists.length === 0) {
  process.stderr.write('usage: node --expose-gc bench/parse-ab.mjs TRACE ROUNDS DIST...\n');
  process.exit(2);
}
const readers = [];
for (const dist of dists) readers.push((await import(pathToFileURL(`${dist}/parse/strace.js`).href)).StraceReader);

/** The trace's lines, cut from 48 KiB pieces (a line's text is a slice of its piece, as the line source gives it). */
function linesOf(text) {
  const lines = [];
  let carry = '';
  for (let at = 0; at < text.length; at += 49152) {
    const piece = carry + text.slice(at, at + 49152);
    let from = 0;
    for (let newline = piece.indexOf('\n'); newline >= 0; newline = piece.indexOf('\n', from)) {
      lines.push(piece.slice(from, newline));
      from = newline + 1;
    }
    carry = piece.slice(from);
  }
  if (carry.length > 0) lines.push(carry);
  return lines;
}
const lines = linesOf(readFileSync(file, 'latin1'));

let outputs = 0;
function parseAll(Reader) {
  const reader = new Reader(file);
  const out = [];
  for (let k = 0; k < lines.length; k++) {
    reader.push(lines[k], k + 1, out);
    if (out.length > 0) {
      outputs += out.length;
      out.length = 0;
    }
  }
  reader.end(out);
}

const times = dists.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < dists.length; k++) {
    const which = round % 2 === 0 ? k : dists.length - 1 - k;
    globalThis.gc?.();
    const before = process.cpuUsage();
    parseAll(readers[which]);
    const spent = process.cpuUsage(before);
    times[which].push(Math.round((spent.user + spent.system) / 1000));
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[(values.length - 1) >> 1];
for (let k = 0; k < dists.length; k++) {
  const warm = times[k].slice(1);
  console.log(`${dists[k]}: first ${times[k][0]} ms, warm median ${median(warm)} ms, min ${Math.min(...warm)} ms | ${times[k].join(' ')}`);
}
console.log(`(${lines.length} lines, ${outputs} outputs)`);
