// Live mode must show a finding while the traced program is quiet. bpftrace
// prints per-CPU streams out of time order, so the reader holds records until
// a newer one proves nothing older can still arrive; a program that unlinks a
// mapped file and then waits would otherwise keep its finding in that buffer
// until its next syscall. When the tail has read everything written so far,
// the reader releases what is older than the clock allows.
//
// Input: the first lines of a real capture (test/fixtures/bpftrace/python-
// segments.txt), written to a bundle while "the capture" is still running,
// with its clock moved so that its last record is a second old on this
// machine's clock (bpftrace's nsecs is time since boot: the capture's own
// values would be in the future on a host booted less than 25 minutes ago).
// What the tail would hold without the idle release is the last records,
// including the unlink that decides the finding.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeLiveBundle } from '../src/ingest/analyze.js';
import type { EngineChange } from '../src/engine/engine.js';
import { waitFor } from './support/wait.js';

const captured = readFileSync(new URL('./fixtures/bpftrace/python-segments.txt', import.meta.url), 'utf8').split('\n');

/** The capture with every nanosecond time (a record's first field, ns=, ens=) moved by one offset. */
function movedClock(lines: readonly string[]): string[] {
  const times = lines.map((line) => /^(\d+) /.exec(line)?.[1]).filter((ns): ns is string => ns !== undefined);
  const last = BigInt(times[times.length - 1]!);
  const offset = process.hrtime.bigint() - 1_000_000_000n - last;
  const move = (ns: string): string => String(BigInt(ns) + offset);
  return lines.map((line) => line.replace(/^(\d+) /, (_, ns: string) => `${move(ns)} `).replace(/\b(ns|ens)=(\d+)/g, (_, key: string, ns: string) => `${key}=${move(ns)}`));
}

const fixture = movedClock(captured);
const scratch = mkdtempSync(join(tmpdir(), 'om-live-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Line number (1-based) of the first fixture line containing `text`. */
function lineOf(text: string): number {
  const index = fixture.findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`fixture has no line with ${text}`);
  return index + 1;
}

function liveBundle(name: string, lines: number): string {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ backend: 'bpftrace', mode: 'launched', traceFiles: ['trace.txt'] }));
  writeFileSync(join(dir, 'trace.txt'), `${fixture.slice(0, lines).join('\n')}\n`);
  return dir;
}

describe('live bpftrace: a quiet program still gets its finding', () => {
  it('the unlink that decides a finding is released while the capture is still running', async () => {
    // Up to and including the unlink of 00000000.index.deleted, whose 4096-byte mapping the
    // fixture's README shows still mapped in /proc/self/maps at exit.
    const upTo = lineOf('unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted');
    const dir = liveBundle('quiet', upTo);
    let finishCapture!: () => void;
    const captureDone = new Promise<void>((resolve) => (finishCapture = resolve));
    const changes: EngineChange[] = [];
    const analysis = analyzeLiveBundle(dir, captureDone, { onChange: (change) => changes.push(change) });
    try {
      // Nothing more is written: without the idle release this waits for the writer forever.
      await waitFor('the finding for 00000000.index.deleted before the capture ends', () => changes.some((change) => change.finding.path.endsWith('00000000.index.deleted')), 10_000);
    } finally {
      finishCapture();
    }
    const result = await analysis;
    expect(result.engine.findings().map((finding) => finding.path)).toContain('/tmp/omw/data dir/00000000.index.deleted');
  });

  it('a last record ending in a path (which a next line could continue) is released once the tail stays idle', async () => {
    // The file's second name is unlinked last: that record ends in `path=hard link.bin`, and a
    // record ending in a path takes the next line as part of the name unless it starts a record.
    // Before it, `unlink … path=new` + `line.bin` is one record: the first name has a newline in it.
    const dir = liveBundle('path-last', lineOf('unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=hard link.bin'));
    let finishCapture!: () => void;
    const captureDone = new Promise<void>((resolve) => (finishCapture = resolve));
    const changes: EngineChange[] = [];
    const analysis = analyzeLiveBundle(dir, captureDone, { onChange: (change) => changes.push(change) });
    try {
      await waitFor('the finding for the hard-linked file, before the capture ends', () => changes.some((change) => change.finding.path.endsWith('link.bin')), 10_000);
    } finally {
      finishCapture();
    }
    const paths = (await analysis).engine.findings().map((finding) => finding.path);
    // Joined into one name, never a finding for a file called `new`; the README's ground truth
    // shows the file still mapped (as new\012line.bin) at exit.
    expect(paths.filter((path) => path.endsWith('link.bin'))).toHaveLength(1);
    expect(paths.some((path) => path.endsWith('/new'))).toBe(false);
  });

  it('keeps open only the descriptors of the bundle it reports on, not those of the bundle it started from', async () => {
    const dir = liveBundle('descriptors', 10);
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    const analysis = await analyzeLiveBundle(dir, Promise.resolve());
    // The finished bundle's trace stays open for the report's evidence (one file here).
    expect(analysis.bundle?.traceFds).toHaveLength(1);
    expect(open()).toBe(before + 1);
  });
});
