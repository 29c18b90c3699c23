import { flatCopy } from '../parse/flat-copy.js';
import { normalizePath } from './files.js';
import type { Inode } from '../parse/events.js';

/**
 * The file a name the trace gave a mapped file led to once the trace ended
 * (a bundle's mapped-named.txt): its inode, the device as the kernel numbers
 * it, its birth in the trace's seconds when both count wall-clock time, its
 * file system's magic number, and whether the name reached it through no
 * symbolic link (`direct`).
 */
export interface NamedAfter {
  inode: Inode;
  born: number | null;
  fileSystem: number;
  direct: boolean;
}

/** How a candidate's mapping went: its process exited or exec'd, or it unmapped it (munmap, an mmap or mremap over it). */
export type Release = 'exit' | 'unmap';

interface Candidate {
  pid: number;
  /** The mapped file's inode as the trace gave it (bpftrace's opens give each one's), or null. */
  inode: Inode | null;
  /** The names the lookup found gone, or (`replaced`) leading to a file that is not the one mapped. */
  names: string[];
  /** The file's other names, through a symlinked directory. */
  spellings: string[];
  at: string | null;
  replaced: boolean;
  release: Release;
  explained: boolean;
  reopened: boolean;
}

/**
 * Mappings released during the capture, of files the capture found gone
 * from their names once the trace ended (mapped-gone.txt) or whose names led
 * to another file then (mapped-named.txt), whose removal the trace does not
 * show: in doubt (Mappings.checkGoneAfterRelease says which releases count).
 * One a name and process; the first told. A removal out of sight may have
 * come before the release or after it: one lookup at the end cannot tell
 * them apart.
 *
 * Candidates are found by name: a long capture may hold thousands (every
 * file a process mapped and let go before a deploy replaced it, or before
 * the traced process itself removed it), and every removal, rename and open
 * that may make a file asks about its name.
 */
export class GoneAfterRelease {
  private readonly candidates: Candidate[] = [];
  /** By each of their names and spellings. */
  private readonly named = new Map<string, Candidate[]>();
  /** The replaced ones, by the file (`dev:ino`) each of their names led to once the trace ended. */
  private readonly ledTo = new Map<string, Candidate[]>();
  /** The undecided one of each process and first name: a file unmapped many times is one doubt. */
  private readonly undecided = new Map<string, Candidate>();

  /** `namedAfter`: the file each name led to once the trace ended (Mappings.mappedNamed), or nothing. */
  constructor(private readonly namedAfter: (name: string) => NamedAfter | undefined) {}

  add(pid: number, inode: Inode | null, names: string[], spellings: string[], at: string | null, replaced: boolean, release: Release): void {
    const key = `${pid}\0${names[0]!}`;
    const before = this.undecided.get(key);
    if (before !== undefined && !before.explained && !before.reopened) return;
    const candidate: Candidate = { pid, inode, names, spellings, at, replaced, release, explained: false, reopened: false };
    this.candidates.push(candidate);
    this.undecided.set(key, candidate);
    for (const name of [...names, ...spellings]) index(this.named, name, candidate);
    if (!replaced) return;
    for (const name of names) {
      const after = this.namedAfter(name);
      if (after !== undefined) index(this.ledTo, inodeKey(after.inode), candidate);
    }
  }

  get watching(): boolean {
    return this.candidates.length > 0;
  }

  /**
   * A traced process made `name` (`spelled` as -y resolved it) anew after a
   * candidate's release: an open that may make it (O_CREAT|O_TRUNC,
   * O_CREAT|O_EXCL), a rename or a link to it. The name may have led to
   * another file by then, and a later removal of it be that file's (review
   * 53, S6; code review 60, F7: a job writing it anew, or an atomic save, hid
   * a leak: clean, exit 0). Not even bpftrace's inode tells: the exit freed
   * the candidate's file if its name was gone, and a new file may take its
   * inode number at once. A name found leading to another file: that file is
   * the one the trace shows made, or a later one (code review 71, F1: an
   * atomic save after the holder's exit was a false doubt, exit 2), and so is
   * one made by another spelling of the file that name led to (review 73, F1).
   */
  nameMade(name: string, spelled: string | undefined): void {
    const byName = [...(this.named.get(name) ?? []), ...(spelled === undefined || spelled === name ? [] : (this.named.get(spelled) ?? []))];
    for (const candidate of byName) {
      if (candidate.explained || candidate.reopened) continue;
      if (candidate.replaced) candidate.explained = true;
      else candidate.reopened = true;
    }
    for (const made of spelled === undefined || spelled === name ? [name] : [name, spelled]) {
      const after = this.namedAfter(made);
      if (after === undefined) continue;
      for (const candidate of this.ledTo.get(inodeKey(after.inode)) ?? []) {
        if (!candidate.explained && !candidate.reopened) candidate.explained = true;
      }
    }
  }

  /**
   * An open after a candidate's release reached the file the kernel names
   * `real` (bpftrace's `dir` records, strace -y's path) by `name`, another
   * spelling of it (through a symlinked directory): a removal by that
   * spelling is the file's too, as one by a spelling the file had at the
   * release is (review 76, F2: `git repack`, run from a symlink to the
   * repository, removed the packs a `git add` that had entered it by its real
   * path mapped; under bpftrace, whose removals name no real directory, a
   * false doubt, exit 2). With the inode the open reached (bpftrace), only an
   * open of the very file mapped: a file put at its name since is another.
   */
  spelledAs(name: string, real: string, inode: Inode | undefined): void {
    if (name === real) return;
    const normalized = normalizePath(real);
    for (const candidate of this.named.get(normalized) ?? []) {
      if (candidate.explained || candidate.reopened || !candidate.names.includes(normalized) || candidate.spellings.includes(name)) continue;
      if (inode !== undefined && (candidate.inode === null || candidate.inode.ino !== inode.ino)) continue;
      const spelling = flatCopy(name);
      candidate.spellings.push(spelling);
      index(this.named, spelling, candidate);
    }
  }

  /**
   * The trace shows `name` removed, renamed or replaced (or, `under`, a
   * directory above it renamed) after a candidate's release: the lookup
   * found it gone for that reason, not by a process the trace does not
   * follow. Another spelling explains it only when removed itself: a
   * directory on its way renamed (a symlink, `mv d/via d/via.old`) leaves
   * the file's real name where it was (review 57, F4: a leak read as clean).
   */
  nameChanged(name: string, under: boolean): void {
    if (!under) {
      for (const candidate of this.named.get(name) ?? []) if (!candidate.reopened) candidate.explained = true;
      return;
    }
    for (const candidate of this.candidates) {
      if (candidate.explained || candidate.reopened) continue;
      if (nameTouched(candidate.names, name, true)) candidate.explained = true;
    }
  }

  private left(found: (pid: number, name: string) => boolean): { pid: number; name: string; at: string | null; replaced: boolean; release: Release }[] {
    return this.candidates
      .filter(({ pid, names, explained }) => !explained && !found(pid, names[0]!))
      .map(({ pid, names, at, replaced, release }) => ({ pid, name: names[0]!, at, replaced, release }));
  }

  /** Each in doubt, but those a finding of that process and name covers. */
  inDoubt(found: (pid: number, name: string) => boolean): { pid: number; name: string }[] {
    return this.left(found).map(({ pid, name }) => ({ pid, name }));
  }

  note(found: (pid: number, name: string) => boolean): string | null {
    const left = this.left(found);
    const first = left[0];
    if (first === undefined) return null;
    const more = left.length > 1 ? `, and ${(left.length - 1).toLocaleString('en-US')} more mappings so` : '';
    const until = first.release === 'exit' ? "until it exited or exec'd" : 'until it unmapped it';
    const after = first.release === 'exit' ? 'after the exit' : 'after the munmap';
    const held = `process ${first.pid} held a mapping of ${first.name} ${until}${first.at === null ? '' : ` (${first.at})`}${more}; `;
    if (first.replaced) {
      return (
        `${held}once the trace ended, the capture found that name leading to another file (mapped-named.txt: one born after the mapping was made, or of another inode), ` +
        `and the trace shows no removal, rename or replacement of it: a process the trace does not follow replaced the file while it was mapped, or ${after}, which the capture cannot tell apart, ` +
        'and the file mapped may keep another name: in doubt'
      );
    }
    return (
      `${held}once the trace ended, the capture found that name leading to no file (mapped-gone.txt), ` +
      `and the trace shows no removal or rename of it: a process the trace does not follow removed the file while it was mapped, or ${after}, which the capture cannot tell apart: in doubt`
    );
  }

  /** Every name doubted: the note names the first no finding covers. */
  paths(): string[] {
    return [...new Set(this.candidates.map(({ names }) => names[0]!))];
  }
}

/** A file known by `names` lost one when `name` was removed, renamed or replaced, or (`under`) a directory above it renamed. */
export function nameTouched(names: readonly string[], name: string, under: boolean): boolean {
  return names.includes(name) || (under && names.some((known) => known.startsWith(`${name}/`)));
}

function inodeKey(inode: Inode): string {
  return `${inode.dev}:${inode.ino}`;
}

function index(map: Map<string, Candidate[]>, key: string, candidate: Candidate): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [candidate]);
  else if (!list.includes(candidate)) list.push(candidate);
}
