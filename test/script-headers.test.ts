// Each capture script documents itself in its header (USAGE, an EXAMPLE of its
// output, FIELDS, OVERHEAD, REQUIREMENTS; docs/bpftrace-format.md for the
// bpftrace format). The example must be something the parser actually reads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import type { ParseOutput } from '../src/parse/strace.js';
import { StraceReader } from '../src/parse/strace.js';
import { REPO } from './support/tools.js';

/** The indented lines under "# EXAMPLE" up to the next header section. */
function exampleOf(script: string): string[] {
  const lines = readFileSync(join(REPO, 'scripts', script), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith('# EXAMPLE'));
  const example: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('#   ')) break;
    // Deeper indentation continues the EXAMPLE caption, not the output.
    if (line.charCodeAt(4) !== 32) example.push(line.slice(4));
  }
  return example;
}

function read(reader: { push(text: string, lineNo: number, out: ParseOutput[]): void; end(out: ParseOutput[]): void }, lines: string[]): ParseOutput[] {
  const out: ParseOutput[] = [];
  lines.forEach((line, index) => {
    reader.push(line, index + 1, out);
  });
  reader.end(out);
  return out;
}

describe('capture script headers', () => {
  it('capture-strace.sh: the example is read without a diagnostic and yields its events', () => {
    const example = exampleOf('capture-strace.sh');
    expect(example.length).toBeGreaterThan(3);
    const out = read(new StraceReader('example'), example);
    expect(out.filter((o) => o.type === 'diagnostic')).toEqual([]);
    expect(out.filter((o) => o.type === 'event').map((o) => o.type === 'event' && o.event.kind)).toEqual(expect.arrayContaining(['open', 'truncate', 'mmap', 'unlink', 'close', 'thread-exit']));
  });

  it('capture-bpftrace.sh: the example is read without a diagnostic', () => {
    const example = exampleOf('capture-bpftrace.sh');
    expect(example.length).toBeGreaterThan(2);
    const out = read(new BpftraceReader('example'), example);
    expect(out.filter((o) => o.type === 'diagnostic')).toEqual([]);
    expect(out.some((o) => o.type === 'event')).toBe(true);
  });
});
