// `analyze --pid` on an attach trace of a process with very many threads: the
// threads seen without their clone are one process, named by its lowest tid
// (a leader's tid is its pid). That lowest tid was found with
// Math.min(...tids), which throws RangeError past about 120k arguments: an
// "internal error" for a real JVM with that many threads over a long capture.
import { describe, expect, it } from 'vitest';
import { TraceIds } from '../src/ingest/trace-ids.js';
import type { TraceEvent } from '../src/parse/events.js';

function closeBy(tid: number): TraceEvent {
  return { kind: 'close', fd: 5, place: { file: 'trace.txt', line: tid }, time: null, seconds: null, tid, raw: `close(5) = 0` } as TraceEvent;
}

describe('TraceIds.notice', () => {
  it('names the process of 200,000 threads seen without a clone by its lowest tid', () => {
    const ids = new TraceIds();
    const first = 300_000;
    // Highest first, so that the lowest is last: no shortcut on the order seen.
    for (let tid = first + 199_999; tid >= first; tid--) ids.note(closeBy(tid));
    expect(ids.notice(first, [])).toBeNull();
    expect(ids.notice(first + 5, [])).toBe(
      `--pid ${first + 5}: ${first + 5} is a thread in the trace, not a process (findings are per process, by thread group id), so no finding can match it; the trace has process ${first}`,
    );
  });
});
