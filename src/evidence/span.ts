// The time the trace covers: its first and last event times, in the seconds
// the parser gives events (so they line up with findings' places). The
// analysis does not keep them, so the trace files are read a second time
// through the same line parsers: about as long as the analysis itself.
import { fileSource } from '../ingest/lines.js';
import { createLineParser } from '../ingest/formats.js';
import type { InputInfo } from '../ingest/analyze.js';
import type { ParseOutput } from '../parse/strace.js';
import type { TraceSpan } from './series.js';

/** null when no event of any input has a time (no -t/-tt/-ttt). */
export async function traceSpan(inputs: readonly Pick<InputInfo, 'path' | 'format'>[]): Promise<TraceSpan | null> {
  let first = Infinity;
  let last = -Infinity;
  const out: ParseOutput[] = [];
  const take = () => {
    for (const item of out) {
      if (item.type !== 'event') continue;
      const seconds = item.event.seconds;
      if (seconds === null || !Number.isFinite(seconds)) continue;
      if (seconds < first) first = seconds;
      if (seconds > last) last = seconds;
    }
    out.length = 0;
  };
  for (const input of inputs) {
    const source = await fileSource(input.path);
    const parser = createLineParser(input.format, input.path, 0);
    await source.each((text, lineNo) => {
      parser.push(text, lineNo, out);
      if (out.length > 0) take();
    });
    parser.end(out);
    take();
  }
  return first === Infinity ? null : { first, last };
}
