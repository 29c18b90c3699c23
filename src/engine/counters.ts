// The numbers every part of the engine draws from.

export class Counters {
  /** Sequence number of the event being applied: orders an mmap against the size changes of its file. */
  seq = 0;
  /**
   * Steps taken resolving threads to their processes (tasks.ts): each thread
   * visited in a walk over threads, each held event looked at by the wait for
   * a clone. Linear in the events; for tests and diagnostics, never in a report.
   */
  taskSteps = 0;
  private lastId = 0;

  /** One id space for files, address spaces and mappings. */
  nextId(): number {
    return ++this.lastId;
  }
}
