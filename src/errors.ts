// Errors that reach the user. Each carries a stable code (what kind of
// failure, for scripts and tests), the exit status the CLI should use and,
// where there is one, the place in an input that caused it; src/cli.ts is the
// one place that turns them into a message and an exit code.

export const EXIT_OK = 0;
/** orphanmap itself failed: a bug. */
export const EXIT_INTERNAL = 1;
export const EXIT_USAGE = 2;
export const EXIT_FINDINGS = 3;
export const EXIT_INTERRUPTED = 130;

/**
 * usage: the command line is wrong. input: an input cannot be read, or is
 * not a trace. output: the report could not be written. capture: the tracer
 * or the capture script failed. internal: a bug in orphanmap.
 */
export type ErrorCode = 'usage' | 'input' | 'output' | 'capture' | 'internal';

export class OrphanmapError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly exitCode: number,
    readonly file?: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OrphanmapError';
  }

  /** `trace.txt:120: error: …`, or `error: …` when no place is known. */
  format(): string {
    const where = this.file === undefined ? '' : this.line === undefined ? `${this.file}: ` : `${this.file}:${this.line}: `;
    return `${where}error: ${this.message}`;
  }
}

/** Bad usage: an option, an argument or a combination that cannot work. Exit 2. */
export class UsageError extends OrphanmapError {
  constructor(message: string, file?: string, line?: number) {
    super(message, 'usage', EXIT_USAGE, file, line);
    this.name = 'UsageError';
  }
}

/** An input that cannot be read (missing, denied, a bad bundle) or is not a trace. Exit 2. */
export class InputError extends OrphanmapError {
  constructor(message: string, file?: string, options?: { line?: number; cause?: unknown }) {
    super(message, 'input', EXIT_USAGE, file, options?.line, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InputError';
  }
}

/** An input that was read but is not a trace (a strace -c table, a README, binary data): exit 2. */
export class NotATraceError extends InputError {
  constructor(
    /** What the input looks like instead, in words ("a strace -c summary table …"). */
    readonly looksLike: string,
    advice: string,
    file: string,
  ) {
    super(`not a syscall trace: it looks like ${looksLike}. ${advice[0]!.toUpperCase()}${advice.slice(1)}.`, file);
    this.name = 'NotATraceError';
  }
}

/** The report (or another output) could not be written, completely: exit 2, naming the path. */
export class OutputError extends OrphanmapError {
  constructor(message: string, path: string, cause?: unknown) {
    super(message, 'output', EXIT_USAGE, path, undefined, cause === undefined ? undefined : { cause });
    this.name = 'OutputError';
  }
}

/** The tracer or the capture script could not run or failed: exit 2 (a bundle may be named as the place). */
export class CaptureError extends OrphanmapError {
  constructor(message: string, file?: string, cause?: unknown) {
    super(message, 'capture', EXIT_USAGE, file, undefined, cause === undefined ? undefined : { cause });
    this.name = 'CaptureError';
  }
}

/** A bug: something orphanmap assumed did not hold. Exit 1. */
export class InternalError extends OrphanmapError {
  constructor(message: string, cause?: unknown) {
    super(message, 'internal', EXIT_INTERNAL, undefined, undefined, cause === undefined ? undefined : { cause });
    this.name = 'InternalError';
  }
}

/** A system error's words: `no such file`, `permission denied`, …, or its message. */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EFBIG':
      return 'file too large';
    case 'EIO':
      return 'input/output error';
    case 'ELOOP':
      return 'too many symbolic links (or a link where none is allowed)';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EMFILE':
    case 'ENFILE':
      // An strace -ff set keeps every member open at once (review 28: 2,000 threads' files under a soft limit of 1,024).
      return `too many open files (${code}): the open-file limit is below what this input needs (an strace -ff set keeps each of its files open); raise it (ulimit -n 65536) and run again`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
