// The numbers every part of the engine draws from.

export class Counters {
  /** Sequence number of the event being applied: orders an mmap against the size changes of its file. */
  seq = 0;
  private lastId = 0;

  /** One id space for files, address spaces and mappings. */
  nextId(): number {
    return ++this.lastId;
  }
}
