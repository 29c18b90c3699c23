// An error of the code a line source feeds (the parser, the engine, a
// caller's onChange) is that code's error: passed on as it is, never turned
// into "cannot read" the input (found by review: the CLI said exit 2 and
// blamed the trace file for a bug).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { fileSource, streamSource } from '../src/ingest/lines.js';
import { createReadStream } from 'node:fs';

const TRACE = join(import.meta.dirname, '..', 'traces', 'unfiltered', 'trace.txt');

describe('line sources pass on the errors of what they feed', () => {
  it('analyze rejects with the error onChange threw', async () => {
    const failing = analyze([TRACE], {
      onChange: () => {
        throw new TypeError('a bug in a change handler');
      },
    });
    await expect(failing).rejects.toThrow(TypeError);
    await expect(failing).rejects.toThrow('a bug in a change handler');
  });

  it('a file source and a stream source reject with the line handler error', async () => {
    const stop = (_line: string, lineNo: number) => {
      if (lineNo === 100) throw new RangeError('stop at line 100');
    };
    await expect((await fileSource(TRACE)).each(stop)).rejects.toThrow(RangeError);
    await expect(streamSource(TRACE, () => createReadStream(TRACE)).each(stop)).rejects.toThrow(RangeError);
  });

  it('the input own errors are still input errors that name the file', async () => {
    await expect((await fileSource(TRACE)).each(() => undefined)).resolves.toBeUndefined();
    const missing = join(import.meta.dirname, 'no-such-trace.txt');
    await expect(streamSource(missing, () => createReadStream(missing)).each(() => undefined)).rejects.toMatchObject({ name: 'InputError', file: missing });
  });
});
