// Lines a line source may skip for the reader it feeds, when the reader says
// how: the strace reader's filter of calls nobody follows (parse/strace-skip.ts),
// run where the lines are split, before a line becomes a string of its own.
import { IgnoredLineFilter, type SkippedLines, type SkipPolicy } from '../parse/strace-skip.js';
import type { LineSink } from './lines.js';

/** How a line source may skip lines for the reader it feeds (run.ts): asked as it reads. */
export interface LineSkipping {
  /** The reader's policy once lines may be skipped for it; null until then. Polled. */
  policy(): SkipPolicy | null;
  /** Lines skipped since the last line passed on: called before that line is, or at the end. */
  skipped(lines: SkippedLines): void;
  /** LineSink.cut: the input's last line, passed next, has no newline. */
  cut?(lineNo: number): void;
}

/**
 * A sink that lets an IgnoredLineFilter take lines first, once `skipping`
 * gives its policy, and says what it took before each line it did not.
 * `end` says what it took after the last one.
 */
export function filteringSink(line: LineSink['line'], longLine: LineSink['longLine'], skipping: LineSkipping | undefined): { sink: LineSink; end(): void } {
  if (skipping === undefined) return { sink: { line, longLine }, end: () => undefined };
  const cut = skipping.cut;
  let filter: IgnoredLineFilter | null = null;
  const flush = () => {
    const skipped = filter?.drain();
    if (skipped != null) skipping.skipped(skipped);
  };
  return {
    sink: {
      line(text, lineNo, offset, bytes) {
        flush();
        line(text, lineNo, offset, bytes);
      },
      longLine(lineNo, head, length) {
        flush();
        longLine(lineNo, head, length);
      },
      skip(text, start, end, lineNo) {
        if (filter === null) {
          const policy = skipping.policy();
          if (policy === null) return false;
          filter = new IgnoredLineFilter(policy);
        }
        return filter.take(text, start, end, lineNo);
      },
      cut(lineNo) {
        flush();
        cut?.(lineNo);
      },
    },
    end: flush,
  };
}
