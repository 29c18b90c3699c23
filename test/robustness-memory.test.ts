// Memory must not grow with the trace: what orphanmap keeps after reading a
// trace (findings, their evidence, live files) is small and does not pin the
// input. V8 makes a substring of ≥ 13 characters a *sliced string* that keeps
// its whole parent alive; split2's lines are slices of the decoded 256 KiB
// chunk, so one evidence line kept per chunk keeps the whole input in memory.
// And a process that exited leaves nothing in the engine but its findings
// (issue #11, item 11: 2M processes that forked and exited held 473 MB).
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heapAfterGc } from './support/heap.js';
import { applyLines, forkAndExitTrace } from './support/fork-trace.js';
import { generate } from './support/generate-trace.mjs';
import { Engine } from '../src/engine/engine.js';
import { analyze } from '../src/ingest/analyze.js';

const MiB = 1024 * 1024;

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-memory-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('memory stays flat', () => {
  it('the state kept after a 24 MiB trace does not pin the input (findings keep copies, not slices of chunks)', async () => {
    const path = join(scratch, 'trace.txt');
    const fd = openSync(path, 'w');
    const expected = generate({ bytes: 24 * MiB, seed: 5, leakRate: 0.9, write: (text) => writeSync(fd, text) });
    closeSync(fd);
    const before = heapAfterGc();
    const analysis = await analyze([path]);
    const kept = heapAfterGc() - before;
    // Sanity: the trace did produce findings, and we hold them while measuring.
    expect(analysis.engine.findings().length).toBe(expected.findings['remapped-without-unmap'] + expected.findings['unlinked-while-mapped']);
    // A few hundred findings with ≤ 48 evidence lines each are ~2 MiB; pinned chunks are ~24 MiB.
    expect(kept / MiB).toBeLessThan(8);
  });
});

describe('a process that exited leaves nothing behind but its findings', () => {
  /**
   * Runs `processes` workers (each forks, with a copy of the server's table,
   * maps a file of its own, starts a thread and exits; the fourth unlinks its
   * file first) through an engine,
   * checks what the engine holds after them, and returns the heap it keeps
   * alive: measured with it and again once it is let go, so that compiled code
   * and V8's caches cancel out. Only `holder` refers to the engine while the
   * heap is measured (a local of this frame would keep it alive).
   */
  function heapKeptAfter(processes: number): number {
    const holder: { engine: Engine | null } = { engine: null };
    runWorkers(holder, processes);
    heapAfterGc(); // what the run left for a later collection goes first
    const withIt = heapAfterGc();
    holder.engine = null;
    return withIt - heapAfterGc();
  }

  function runWorkers(holder: { engine: Engine | null }, processes: number): void {
    const engine = new Engine();
    // The server maps a table every worker holds a copy of (review 24's fork copies: a record of each must go with its worker).
    applyLines(engine, forkAndExitTrace({ processes, leaker: 3, withThreads: true, parentMaps: true }));
    // Entry by entry: the server (its exit is not taken for its process's: it was never seen forked), and nothing else.
    expect(engine.held()).toEqual({ threads: 0, processes: 1, clonesInFlight: 0, waitingEvents: 0, pendingOrphans: 0 });
    expect(engine.stats()).toMatchObject({ processes: processes + 1, liveMappings: 0 });
    // What a report needs of the dead is in its findings: the leaker's pid, its threads and their name, how it ended.
    expect(engine.findings().map((f) => [f.kind, f.pid, f.mappedAt?.tid, f.unlinkedAt?.comm, f.resolution])).toEqual([
      ['unlinked-while-mapped', 1007, 1007, 'worker', 'process-exited'],
      ['unlinked-while-mapped', 1007, 1008, 'worker', 'process-exited'],
    ]);
    holder.engine = engine;
  }

  it('holds the same entries and the same heap after 3,000 and 12,000 dead processes', () => {
    const N = 3000;
    const keptByFew = heapKeptAfter(N);
    const keptByMany = heapKeptAfter(4 * N);
    // 9,000 more dead processes: a tid kept in a Set is 20 bytes or more, a task or group record over 100.
    // The engine as it is keeps about 27 KiB (the two findings and their file) either way, ±2 KiB.
    const perDeadProcess = (keptByMany - keptByFew) / (3 * N);
    expect(perDeadProcess, `the engine kept ${keptByFew} bytes after ${N} processes, ${keptByMany} after ${4 * N}`).toBeLessThan(8);
  });
});
