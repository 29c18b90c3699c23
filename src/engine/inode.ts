// One file by its inode. A number names a file only while the file lives: once
// nothing holds a removed file the kernel frees its number, and ext4 gives it
// to the next file made, at once. Where the trace gives the generation too (a
// bpftrace capture's opens), two files that held one number are told apart.
import type { Inode } from '../parse/events.js';

/**
 * The same file: the same device and number (SameValueZero, as the `dev:ino` strings the index was once keyed by
 * compared: a NaN parsed twice is one key), and the same generation where both know theirs.
 */
export function sameInode(a: Inode, b: Inode): boolean {
  return sameNumbers(a, b) && sameGeneration(a, b) !== false;
}

/** The same device and inode number, whatever the generations. */
export function sameNumbers(a: Inode, b: Inode): boolean {
  return sameNumber(a.dev, b.dev) && sameNumber(a.ino, b.ino);
}

/** Whether two sightings of one inode number are of one file: undefined when either lacks its generation. */
export function sameGeneration(a: Inode, b: Inode): boolean | undefined {
  return a.gen === undefined || b.gen === undefined ? undefined : a.gen === b.gen;
}

function sameNumber(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}
