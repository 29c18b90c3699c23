// Errors that reach the user. Each carries the exit status the CLI should use
// and, where there is one, the place in an input that caused it; src/cli.ts is
// the one place that turns them into a message and an exit code.

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_FINDINGS = 3;
export const EXIT_INTERRUPTED = 130;

export class OrphanmapError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'OrphanmapError';
  }

  /** `trace.txt:120: error: …`, or `error: …` when no place is known. */
  format(): string {
    const where = this.file === undefined ? '' : this.line === undefined ? `${this.file}: ` : `${this.file}:${this.line}: `;
    return `${where}error: ${this.message}`;
  }
}

/** Bad usage or an input that cannot be read at all: exit 2. */
export class UsageError extends OrphanmapError {
  constructor(message: string, file?: string, line?: number) {
    super(message, EXIT_USAGE, file, line);
    this.name = 'UsageError';
  }
}

/** An input that was read but is not a trace (a strace -c table, a README): exit 2. */
export class NotATraceError extends UsageError {
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
