// An -ff set read one file at a time: each clone names a child whose file was
// not read. The warnings name the lowest ten and count the rest, and what is
// kept for them is those ten, however many threads the trace created.
import { describe, expect, it } from 'vitest';
import { heapAfterGc } from './support/heap.js';
import { FfMembers } from '../src/ingest/ff-set.js';

describe('the members of an -ff set that were not read', () => {
  it('names the ten lowest tids with the clone that created each, and counts the rest, in whatever order they come', async () => {
    const members = new FfMembers({ prefix: '/nonexistent/orphanmap-ff/trace', tids: new Set([100, 150]) });
    const before = heapAfterGc();
    // 100,000 children, highest first, and a member of the set and a repeat among them.
    for (let tid = 100_200; tid > 200; tid--) members.created(tid, { file: 'trace.100', line: 100_201 - tid });
    members.created(150, { file: 'trace.100', line: 1 });
    members.created(205, { file: 'trace.100', line: 2 });
    // A place kept per child would be 6 MiB or more.
    expect((heapAfterGc() - before) / 1024).toBeLessThan(512);
    const warnings = await members.warnings();
    expect(warnings).toHaveLength(11);
    expect(warnings[0]).toBe(
      '/nonexistent/orphanmap-ff/trace.201 is missing from the strace -ff set: trace.100:100000 created thread 201, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis',
    );
    expect(warnings.slice(0, 10).map((warning) => Number(/created thread (\d+)/.exec(warning)![1]))).toEqual([201, 202, 203, 204, 205, 206, 207, 208, 209, 210]);
    expect(warnings[10]).toBe('99990 more threads of the strace -ff set /nonexistent/orphanmap-ff/trace.* have no file');
  });
});
