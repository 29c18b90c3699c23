// When the TUI's store hands out a new snapshot: data from the engine at most
// once per `throttleMs` (the engine never waits for a frame), the user's own
// actions at once.
export class SnapshotThrottle {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastEmit = -Infinity;

  constructor(
    private readonly throttleMs: number,
    private readonly clock: () => number,
    /** Builds and hands out the snapshot. */
    private readonly emit: () => void,
  ) {}

  /** Emit when the throttle allows; a change already waiting is taken along. */
  soon(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastEmit + this.throttleMs - this.clock());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.emitNow();
    }, wait);
    this.timer.unref?.();
  }

  now(): void {
    this.cancel();
    this.emitNow();
  }

  /** Emit now if anything is waiting. */
  flush(): void {
    if (this.timer !== null) this.now();
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private emitNow(): void {
    this.emit();
    this.lastEmit = this.clock();
  }
}
