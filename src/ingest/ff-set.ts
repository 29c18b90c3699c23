// strace -ff sets: one file per thread, PREFIX.<tid>.
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Place } from '../parse/events.js';

/** The files of one strace -ff set: PREFIX.<tid>, one per thread it followed. */
export interface FfSet {
  prefix: string;
  tids: ReadonlySet<number>;
}

/**
 * strace -ff writes one file per thread, PREFIX.<tid>, and each clone in one
 * file names the tid of the next. A file of the set that was deleted or not
 * copied leaves no trace of its own, but the clone that created its thread
 * does: a child tid with no file is a member missing, and its calls (maybe
 * its leaks) are not in the analysis.
 */
export class FfMembers {
  private readonly createdAt = new Map<number, Place>();

  constructor(private readonly set: FfSet) {}

  created(tid: number, place: Place): void {
    if (!this.set.tids.has(tid) && !this.createdAt.has(tid)) this.createdAt.set(tid, place);
  }

  async warnings(): Promise<string[]> {
    const warnings: string[] = [];
    const missing = [...this.createdAt].sort(([a], [b]) => a - b);
    for (const [tid, place] of missing.slice(0, 10)) {
      const file = `${this.set.prefix}.${tid}`;
      const exists = await access(file).then(
        () => true,
        () => false,
      );
      warnings.push(
        exists
          ? `${file} was not read: ${place.file}:${place.line} created thread ${tid}, whose calls are in that file of the strace -ff set; name the directory, or every ${basename(this.set.prefix)}.* file`
          : `${file} is missing from the strace -ff set: ${place.file}:${place.line} created thread ${tid}, but its file was deleted or not copied, so its calls (and any mapping it leaked) are not in the analysis`,
      );
    }
    if (missing.length > 10) warnings.push(`${missing.length - 10} more threads of the strace -ff set ${this.set.prefix}.* have no file`);
    return warnings;
  }
}
