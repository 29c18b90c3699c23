// Work linear in the threads (issue #11, item 11): in an attach trace every
// thread shows up without its clone, and the engine once walked every known
// thread for each new one (100k threads took 21 s, 3M never finished). The
// engine counts each thread it visits in a walk over threads and each event
// the wait for a clone looks at (Engine.taskSteps); twice the threads must
// cost at most about twice the steps. Counted, not timed: a quadratic walk
// doubles the ratio on any machine.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { applyLines, attachedThreadsTrace } from './support/fork-trace.js';

/** Steps the engine took for an attach trace of `threads` threads seen without their clone. */
function attachSteps(threads: number, vforkEvery?: number): { steps: number; engine: Engine } {
  const engine = new Engine();
  applyLines(engine, attachedThreadsTrace({ threads, ...(vforkEvery === undefined ? {} : { vforkEvery }) }));
  engine.finish();
  return { steps: engine.taskSteps(), engine };
}

describe('resolving threads to their processes takes steps linear in the threads', () => {
  const N = 4000;

  it('threads seen without their clone, all alive at once: twice the threads, at most 2.2 times the steps', () => {
    const once = attachSteps(N);
    const twice = attachSteps(2 * N);
    // The count is live: each new thread takes at least one step (its group's address space).
    expect(once.steps).toBeGreaterThanOrEqual(N);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
    // And the threads were taken as one process, the attached one, named by its lowest thread.
    expect(twice.engine.assumptions()).toEqual([
      `${2 * N} threads (lowest 5001) ran before the trace began and showed no clone: taken as one process, pid 5001; nothing in the trace shows which thread is its leader, so the lowest thread id names it: pass --pid PID to name it yourself. A thread's exit is not taken for the process's. ` +
        'If the trace was not attached but launched with a filter that left out execve and clone (-e trace=…), they may be processes, each with its own fds and mappings, ' +
        'and its findings wrong (an fd number one process reused taken for another’s file): keep execve,clone,clone3,fork,vfork,close in -e trace=, or capture with orphanmap capture. ' +
        'So are they if strace was attached to several processes at once (strace -p A -p B): trace each process apart (strace -p A -o a.txt, strace -p B -o b.txt, ' +
        'each analyzed alone), or use orphanmap capture --pid for each',
    ]);
  });

  it("the same while the main thread's vforks hold new threads' events until the clone returns", () => {
    const once = attachSteps(N, 16);
    const twice = attachSteps(2 * N, 16);
    // Each vfork window holds one new thread's 5 events and the helper's execve: each looked at.
    expect(once.steps).toBeGreaterThanOrEqual(N + (N / 16) * 6);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
    expect(twice.engine.held()).toMatchObject({ waitingEvents: 0, clonesInFlight: 0 });
    expect(twice.engine.stats().processes).toBe(1 + (2 * N) / 16);
  });
});
