// Fd numbers whose file the merged lines of an strace -ff set cannot tell
// (review 27, F1). Each file of the set stamps a call at its entry, and
// without -T (when an open returned) or -y (which file each fd is) nothing
// says when the kernel gave an open its number:
//   991 .048344 openat(AT_FDCWD, "/d/tmp-48", O_RDWR|O_CREAT, 0644) = 4   (main thread)
//   993 .048543 openat(AT_FDCWD, "/d/config", O_RDONLY) = 4               (poller)
//   993 .048692 close(4)                                                  (poller)
//   991 .049034 ftruncate(4, 4096)                                        (main: its open returned before this)
//   991 .049200 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0)             (the kernel: tmp-48)
// The poller's open and close of 4 came first in the kernel; merged by their
// stamps, the mmap was taken for config, and the unlink of tmp-48 found no
// mapping: a leak missed, and a clean verdict. Which file the mmap reached is
// not in the trace, so such a mapping is put in doubt once a file it may have
// been loses its last name while it lives.
import type { EventBase } from '../parse/events.js';
import type { FileNode } from './files.js';
import type { MappingState } from './mappings.js';
import type { Task } from './tasks.js';

/**
 * An fd number of one fd table while an open of it has not been seen to
 * return: the files opened on it, and the threads whose open of it may not
 * have returned yet (none of their later calls applied).
 */
export interface FdContest {
  files: Set<FileNode>;
  opening: Set<Task>;
  /**
   * Another thread opened the number while such an open was pending: the
   * kernel's order of the two is not known, nor which file the number holds
   * after, until a close of it with no open pending (the number is then free,
   * whatever it held).
   */
  contested: boolean;
}

/** A mapping made through a contested number that a file it may have been lost its last name while it lived: the first, for the warning. */
interface ContestedMapping {
  pid: number;
  fd: number;
  mappedAt: string;
  takenFor: string;
  mayBe: string;
  lostAt: string;
}

/**
 * The mappings made through a contested fd number (or one an open handed to
 * another thread while its close was in flight: Fds.contestedFiles), with the
 * other files each may have been. Each of those files is kept known (its
 * names indexed: FileNode.contestRefs) while such a mapping lives, so that
 * the call that removes its last name still finds it; that call puts the
 * mapping in doubt. Counted only for a set whose lines carry neither -T nor
 * -y (Engine.fdReturnsUnknown): with either, the merge or the annotations
 * tell the file.
 */
export class ContestedMappings {
  /** The set that made these mappings has neither -T nor -y: its doubts count (mappingsInDoubt). */
  counted = false;
  /** Mappings put in doubt, and the first, for the warning (as files.ts's DoubtfulCalls, which files.ts imports this module before it defines). */
  private count = 0;
  private first: ContestedMapping | null = null;
  private readonly doubted = new Map<number, { pid: number; name: string }>();
  private readonly byFile = new Map<FileNode, Set<MappingState>>();
  private readonly others = new Map<MappingState, { fd: number; mappedAt: string; files: FileNode[] }>();

  constructor(private readonly release: (file: FileNode) => void) {}

  /** `mapping` was made through fd `fd`, which may have held any of `files` (its own file among them or not). */
  mapped(mapping: MappingState, fd: number, files: Iterable<FileNode>, event: EventBase): void {
    const mappedAt = `${event.place.file}:${event.place.line}`;
    const others: FileNode[] = [];
    for (const file of files) {
      if (file === mapping.file) continue;
      if (file.gone) {
        // Gone already: had the mapping been of it, it was made of a file with no name left.
        this.lost(mapping, fd, mappedAt, file, mappedAt);
        continue;
      }
      others.push(file);
      file.contestRefs++;
      let mappings = this.byFile.get(file);
      if (mappings === undefined) {
        mappings = new Set();
        this.byFile.set(file, mappings);
      }
      mappings.add(mapping);
    }
    if (others.length > 0) this.others.set(mapping, { fd, mappedAt, files: others });
  }

  /** The mapping is gone (its last piece unmapped, or its process's space released): the files it may have been are no longer held for it. */
  unmapped(mapping: MappingState): void {
    const held = this.others.get(mapping);
    if (held === undefined) return;
    this.others.delete(mapping);
    for (const file of held.files) {
      const mappings = this.byFile.get(file);
      mappings?.delete(mapping);
      if (mappings?.size === 0) this.byFile.delete(file);
      file.contestRefs--;
      this.release(file);
    }
  }

  /** `file` lost its last name (at `event`): each live mapping that may have been of it is in doubt. */
  lostName(file: FileNode, event: EventBase): void {
    const mappings = this.byFile.get(file);
    if (mappings === undefined) return;
    const at = `${event.place.file}:${event.place.line}`;
    for (const mapping of mappings) {
      const held = this.others.get(mapping);
      if (held !== undefined && mapping.pieces > 0) this.lost(mapping, held.fd, held.mappedAt, file, at);
    }
  }

  private lost(mapping: MappingState, fd: number, mappedAt: string, file: FileNode, lostAt: string): void {
    const name = file.displayName;
    if (this.count++ === 0) this.first = { pid: mapping.space.ownerTgid, fd, mappedAt, takenFor: mapping.file.displayName, mayBe: name, lostAt };
    if (!this.doubted.has(mapping.id)) this.doubted.set(mapping.id, { pid: mapping.space.ownerTgid, name });
  }

  /** Each mapping in doubt, but those a finding of that process and name covers; none unless counted. */
  inDoubt(found: (pid: number, name: string) => boolean): { pid: number; name: string }[] {
    return this.counted ? [...this.doubted.values()].filter(({ pid, name }) => !found(pid, name)) : [];
  }

  note(): string | null {
    const first = this.first;
    if (first === null || !this.counted) return null;
    const more = this.count > 1 ? ` (and ${this.count - 1} more like it)` : '';
    return (
      `process ${first.pid} mapped fd ${first.fd} at ${first.mappedAt} while two of its threads were given that number at about the same time, and the lines of the strace -ff set do not say which open returned last: ` +
      `the mapping was taken for ${first.takenFor}, but it may have been of ${first.mayBe}, whose last name went at ${first.lostAt} while the mapping lived${more}. ` +
      'A mapping that outlived its file may be missed, or named for another file, so such mappings are in doubt: capture with -ff -ttt -T -y, or with -f -o FILE (one file in order)'
    );
  }

  /** The names note() gives, to be hashed whole under --redact. */
  paths(): string[] {
    const first = this.first;
    return first === null || !this.counted ? [] : [first.takenFor, first.mayBe];
  }
}
