// strace -f writing to stderr prints "[pid N] " only while more than one
// tracee exists, so the first process's lines carry no pid, and the reader
// names that process once its pid shows: a prefixed tid that no clone created.
// It kept every prefixed tid and every clone child for that, about 50 bytes a
// process for as long as the trace is read (issue #11, item 11: a server that
// forks a worker per job). It needs only the first few.
import { describe, expect, it } from 'vitest';
import { heapAfterGc } from './support/heap.js';
import { forkAndExitTrace } from './support/fork-trace.js';
import { StraceReader, type ParseOutput } from '../src/parse/strace.js';

const SERVER = 1000;

/**
 * The fork-per-job trace as strace -f prints it to stderr (no -Y): a worker's
 * lines with "[pid N] "; the server's without one, except its clone, which
 * strace prints once the child is a second tracee.
 */
function* toStderrForm(lines: Iterable<string>): Generator<string> {
  for (const line of lines) {
    const match = /^(\d+)<[^>]*> (.*)$/.exec(line)!;
    const tid = Number(match[1]);
    const rest = match[2]!.replace(/ = (\d+)<[^>]*>/, ' = $1');
    yield tid === SERVER && !rest.includes(' clone(') ? rest : `[pid ${tid}] ${rest}`;
  }
}

interface Holder {
  reader: StraceReader | null;
}

/** Reads `processes` workers' trace, keeps the reader in `holder`, and returns what the reader said besides events. */
function readWorkers(holder: Holder, processes: number): ParseOutput[] {
  const reader = new StraceReader('trace.txt');
  const out: ParseOutput[] = [];
  const said: ParseOutput[] = [];
  let lineNo = 0;
  for (const line of toStderrForm(forkAndExitTrace({ parentPid: SERVER, processes, leaker: 3 }))) {
    reader.push(line, ++lineNo, out);
    if (out.some((item) => item.type === 'diagnostic')) throw new Error(`line ${lineNo} unreadable: ${line}`);
    for (const item of out) if (item.type !== 'event') said.push(item);
    out.length = 0;
  }
  reader.end(out);
  holder.reader = reader;
  return [...said, ...out.filter((item) => item.type !== 'event')];
}

/** The heap the reader keeps alive after `processes` workers: with it, minus without it. */
function heapKeptAfter(processes: number): number {
  const holder: Holder = { reader: null };
  // The server printed without a prefix is named once, when its pid first shows (at its first clone).
  expect(readWorkers(holder, processes)).toEqual([{ type: 'tid-known', from: 0, tid: SERVER }]);
  heapAfterGc();
  const withIt = heapAfterGc();
  holder.reader = null;
  return withIt - heapAfterGc();
}

describe('the strace reader, on a stderr trace of many processes', () => {
  it('keeps the same heap after 3,000 and 12,000 processes, and still names the unprefixed one', () => {
    const N = 3000;
    const keptByFew = heapKeptAfter(N);
    const keptByMany = heapKeptAfter(4 * N);
    // A tid in a Set costs 20 bytes or more; two sets of every tid were about 50 a process.
    const perProcess = (keptByMany - keptByFew) / (3 * N);
    expect(perProcess, `the reader kept ${keptByFew} bytes after ${N} processes, ${keptByMany} after ${4 * N}`).toBeLessThan(8);
  });
});
