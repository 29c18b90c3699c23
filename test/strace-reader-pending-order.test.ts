// The reader keeps the call each thread is inside in a Map whose ended calls
// leave their key (undefined) instead of being deleted, pruned every few
// thousand lines. The calls cut off by the end of the trace are reported in
// the order a Map that deleted ended calls would hold them: by when each was
// started, a call replacing one left unfinished in its place, one moved by
// `superseded by execve` at the end. Checked here against that Map itself,
// on generated sequences of starts, resumes, exits and supersessions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';

type Step = { kind: 'start' | 'resume' | 'exit'; tid: number; gap: number } | { kind: 'supersede'; tid: number; by: number; gap: number };

const TIDS = [101, 102, 103, 104, 105];
const tid = fc.constantFrom(...TIDS);
/** Line-number gaps: mostly next lines, sometimes past the reader's pruning interval (4096 lines). */
const gap = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 9000 }));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('start' as const), tid, gap }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('resume' as const), tid, gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), tid, gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('supersede' as const), tid, by: tid, gap }) },
);

/** The trace line of a step; its call is named by its line number, so a report says which call it was. */
function lineOf(step: Step, lineNo: number): string {
  const time = `1795606335.${String(lineNo).padStart(6, '0')}`;
  switch (step.kind) {
    case 'start':
      return `${step.tid} ${time} openat(AT_FDCWD, "/data/call-${lineNo}", O_RDONLY <unfinished ...>`;
    case 'resume':
      return `${step.tid} ${time} <... openat resumed>) = 3`;
    case 'exit':
      return `${step.tid} ${time} +++ exited with 0 +++`;
    case 'supersede':
      return `${step.tid} ${time} +++ superseded by execve in pid ${step.by} +++`;
  }
}

/** The lines of the calls cut off by the end, in order, as a Map that deletes ended calls holds them. */
function expectedCutOff(steps: Step[]): number[] {
  const pending = new Map<number, number>();
  let lineNo = 0;
  for (const step of steps) {
    lineNo += step.gap;
    if (step.kind === 'supersede') {
      const moved = pending.get(step.by);
      pending.delete(step.tid);
      if (moved !== undefined) {
        pending.delete(step.by);
        pending.set(step.tid, moved);
      }
    } else if (step.kind === 'start') pending.set(step.tid, lineNo);
    else pending.delete(step.tid); // a resume or an exit
  }
  return [...pending.values()];
}

describe('calls cut off by the end of the trace', () => {
  it('are reported in the order a Map that deleted ended calls holds them', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const reader = new StraceReader('trace.txt');
        const out: ParseOutput[] = [];
        let lineNo = 0;
        for (const step of steps) {
          lineNo += step.gap;
          reader.push(lineOf(step, lineNo), lineNo, out);
        }
        out.length = 0;
        reader.end(out);
        const cutOff = out.flatMap((output) => (output.type === 'diagnostic' && output.diagnostic.reason.endsWith('cut off by the end of the trace') ? [output.diagnostic.place.line] : []));
        expect(cutOff).toEqual(expectedCutOff(steps));
      }),
      { numRuns: 2000 },
    );
  });
});
