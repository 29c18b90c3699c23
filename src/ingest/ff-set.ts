// strace -ff sets: one file per thread, PREFIX.<tid>.
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Place } from '../parse/events.js';
import { InputError } from '../errors.js';

/** The files of one strace -ff set: PREFIX.<tid>, one per thread it followed. */
export interface FfSet {
  prefix: string;
  tids: ReadonlySet<number>;
}

/** How many missing members a warning names. */
const NAMED = 10;

/**
 * strace -ff writes one file per thread, PREFIX.<tid>, and each clone in one
 * file names the tid of the next. A file of the set that was deleted or not
 * copied leaves no trace of its own, but the clone that created its thread
 * does: a child tid with no file is a member missing, and its calls (maybe
 * its leaks) are not in the analysis.
 */
export class FfMembers {
  /** The lowest tids with no file, with the clone that created each, in tid order: the ones a warning names. */
  private readonly named: [number, Place][] = [];
  /** How many more: a trace of a million short-lived threads must not keep a million places. */
  private more = 0;

  constructor(private readonly set: FfSet) {}

  created(tid: number, place: Place): void {
    if (this.set.tids.has(tid) || this.named.some(([known]) => known === tid)) return;
    if (this.named.length === NAMED && tid > this.named[NAMED - 1]![0]) {
      // A tid reused after pid_max wrapped is counted again: it is another thread.
      this.more++;
      return;
    }
    let at = this.named.length;
    while (at > 0 && this.named[at - 1]![0] > tid) at--;
    this.named.splice(at, 0, [tid, { file: place.file, line: place.line }]);
    if (this.named.length > NAMED) {
      this.named.pop();
      this.more++;
    }
  }

  async warnings(): Promise<string[]> {
    const warnings: string[] = [];
    for (const [tid, place] of this.named) {
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
    if (this.more > 0) warnings.push(`${this.more} more threads of the strace -ff set ${this.set.prefix}.* have no file`);
    return warnings;
  }
}

/**
 * An -ff set is merged by its lines' times, one file per thread. `-t` (and
 * `--timestamps=…,s`) prints whole seconds: a thousand calls share one, and
 * which of two files' lines in the same second came first cannot be told (a
 * fork child's calls would go before the clone that made it, a thread's
 * unlink before another's mmap). Rather than report what a wrong order makes,
 * the set is refused. `times`: each file's first line's time as printed
 * (null: none).
 */
export function refuseWholeSeconds(paths: readonly string[], times: readonly (string | null)[]): void {
  if (paths.length < 2) return;
  const whole = paths.filter((_, k) => {
    const time = times[k];
    return time != null && !time.includes('.') && !time.startsWith('+');
  });
  if (whole.length === 0) return;
  const named = whole.slice(0, 3).join(', ') + (whole.length > 3 ? ` and ${whole.length - 3} more` : '');
  throw new InputError(
    `strace -ff files with whole-second times (-t): ${named}. The files are merged in time order, and lines of different files in the same second cannot be put in order, so the analysis would be wrong; capture again with -ff -tt or -ff -ttt (or -f -o FILE, one file in order)`,
    paths[0],
  );
}
