// Which parser reads an input: decided from the content of its first line,
// never from the file name.
import { BpftraceReader, looksLikeBpftrace } from '../parse/bpftrace.js';
import { StraceReader, type ParseOutput } from '../parse/strace.js';

export type TraceFormat = 'strace' | 'bpftrace';

/** A stateful line parser: lines in, events and diagnostics out. */
export interface LineParser {
  readonly format: TraceFormat;
  push(text: string, lineNo: number, out: ParseOutput[]): void;
  end(out: ParseOutput[]): void;
  /** Preflight findings about how the trace was captured, e.g. missing strace flags. */
  warnings(): string[];
}

export function detectFormat(firstLine: string): TraceFormat {
  return looksLikeBpftrace([firstLine]) ? 'bpftrace' : 'strace';
}

export function createLineParser(format: TraceFormat, file: string, defaultTid: number): LineParser {
  switch (format) {
    case 'strace':
      return straceParser(file, defaultTid);
    case 'bpftrace': {
      // Reports show seconds since the trace began, never raw boot-time ns.
      const reader = new BpftraceReader(file, { clock: 'trace-start' });
      return {
        format: 'bpftrace',
        push: (text, lineNo, out) => reader.push(text, lineNo, out),
        end: (out) => reader.end(out),
        warnings: () => reader.warnings(),
      };
    }
  }
}

function straceParser(file: string, defaultTid: number): LineParser {
  const reader = new StraceReader(file, defaultTid);
  return {
    format: 'strace',
    push: (text, lineNo, out) => reader.push(text, lineNo, out),
    end: (out) => reader.end(out),
    warnings: () => straceWarnings(reader, defaultTid !== 0),
  };
}

function straceWarnings(reader: StraceReader, fromFfFile: boolean): string[] {
  const shape = reader.shape;
  const warnings: string[] = [];
  if (shape.callLines === 0) return warnings;
  const name = reader.file;
  if (shape.withPid === 0 && !fromFfFile) warnings.push(`${name}: no -f: threads cannot be told apart (no pid prefix on any line)`);
  if (shape.withTime === 0 && shape.withRelative === 0) warnings.push(`${name}: no -t/-tt/-ttt: delays cannot be measured`);
  else if (shape.withTime === 0) warnings.push(`${name}: only -r timestamps: times are seconds since the first line`);
  if (shape.withFdHints === 0 && !shape.execveSeen) warnings.push(`${name}: no -y: files opened before the trace began cannot be named`);
  if (!shape.execveSeen) warnings.push(`${name}: the trace does not start at an execve (attached to a running process?): mappings made before it are unknown unless a bundle's maps-start.txt is read`);
  return warnings;
}
