// Where a report is written, reached the way the kernel walks a path, but
// with the rule of fs.protected_symlinks on every component whatever the
// host's setting: a symbolic link is followed only if it belongs to the user
// running orphanmap or to root (/var/run -> /run, /dev/stdout, /dev/fd, a
// user's own links); another user's link, at any component, is refused.
// orphanmap runs as root and writes where others may write: a link planted
// as a directory of `-o`/`--out` sent the report (a file renamed over
// another) into a directory only root may write (review 10, R10-5).
//
// Each directory is opened through the previous one's descriptor
// (/proc/self/fd/N/NAME, the openat of a language without one) without
// following a link, so a name renamed or planted after it was passed cannot
// change where the walk goes. A link that may be followed is read through
// the same descriptor and its target walked the same way (an absolute one
// from /, a relative one from the directory that holds the link), 40 links
// at most, as the kernel's ELOOP. `..` is opened through the descriptor
// too: the parent of the directory reached, as the kernel goes, never a
// lexical shortcut that would skip a link's check. A relative path starts
// from the current directory, which is the user's own and is not checked
// above itself.
import { type BigIntStats, closeSync, constants, lstatSync, openSync, readlinkSync, statfsSync } from 'node:fs';
import { describeSystemError } from '../errors.js';

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;
/** The kernel's limit too (ELOOP). */
const MAX_LINKS = 40;
const PROC_SUPER_MAGIC = 0x9fa0;

/** Why a path cannot be used, in words; `code` is the system error's, when one caused it. */
export class PathRefused extends Error {
  constructor(
    readonly why: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(why, options);
    this.name = 'PathRefused';
  }
}

/** NAME in the directory open as `dirFd`, reached through that descriptor. */
export function through(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** The names of a path to walk: `.` and empty ones (`a//b`) go nowhere. */
function componentsOf(path: string): string[] {
  return path.split('/').filter((name) => name !== '' && name !== '.');
}

/**
 * The directories of `path` and its last name. A path that ends in `/`, `.`
 * or `..` names a directory: its last name is `.`, the directory itself.
 */
export function splitLast(path: string): { dirs: string[]; last: string } {
  const slash = path.lastIndexOf('/');
  const last = path.slice(slash + 1);
  if (last === '' || last === '.' || last === '..') return { dirs: componentsOf(path), last: '.' };
  return { dirs: componentsOf(path.slice(0, slash + 1)), last };
}

/** A walk down a path: the directory reached, open, and how it is shown in messages. */
export class PathWalk {
  private links = 0;
  private readonly me = process.geteuid?.() ?? 0;

  private constructor(
    private fd: number,
    private shownDir: string,
    links: number,
  ) {
    this.links = links;
  }

  /** At / for an absolute path, at the current directory for a relative one. */
  static startOf(path: string): PathWalk {
    const absolute = path.startsWith('/');
    return new PathWalk(openDirectory(absolute ? '/' : '.', absolute ? '/' : '.'), absolute ? '/' : '.', 0);
  }

  /** The directory reached, open (the walk closes it). */
  get dirFd(): number {
    return this.fd;
  }

  /** NAME in the directory reached, as messages show it. */
  shown(name: string): string {
    if (name === '.') return this.shownDir;
    if (this.shownDir === '.') return name;
    return this.shownDir === '/' ? `/${name}` : `${this.shownDir}/${name}`;
  }

  /** A second walk from the same directory (its own descriptor), to come back to. */
  fork(): PathWalk {
    return new PathWalk(openDirectory(`/proc/self/fd/${this.fd}`, this.shownDir), this.shownDir, this.links);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Goes down each of `names`, each a directory or a link to one. */
  enterAll(names: readonly string[]): void {
    for (const name of names) this.enter(name);
  }

  private enter(name: string): void {
    if (name === '.') return;
    if (name === '..') {
      const up = this.shown('..');
      this.moveTo(openDirectory(through(this.fd, '..'), up), up);
      return;
    }
    const shown = this.shown(name);
    let fd: number;
    try {
      fd = openSync(through(this.fd, name), DIRECTORY | constants.O_NOFOLLOW);
    } catch (error) {
      // A link (or not a directory at all) is ENOTDIR with O_DIRECTORY | O_NOFOLLOW.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw refusal(error, shown);
      const link = this.linkToFollow(name, shown, false);
      if (link === null) {
        // Gone since the open said it was a link or no directory: renamed or swapped meanwhile.
        if (lstatIn(this.fd, name, shown) === null) throw new PathRefused(`${shown} was replaced while it was read; nothing was written`);
        throw new PathRefused(`${shown} is not a directory`, 'ENOTDIR');
      }
      if (this.inProc()) {
        this.moveTo(openDirectory(through(this.fd, name), shown), shown);
        return;
      }
      this.enterTarget(this.readLink(name, link, shown));
      return;
    }
    this.moveTo(fd, shown);
  }

  /** Goes where a link's text leads, from the directory that holds the link. */
  private enterTarget(target: string): void {
    if (target.startsWith('/')) this.moveTo(openDirectory('/', '/'), '/');
    this.enterAll(componentsOf(target));
  }

  /**
   * The last name of a link's target: the walk goes to the directory that
   * holds it. For the last name of a path that is a link to follow.
   */
  enterLinkTo(target: string): string {
    const { dirs, last } = splitLast(target);
    if (target.startsWith('/')) this.moveTo(openDirectory('/', '/'), '/');
    this.enterAll(dirs);
    return last;
  }

  /**
   * NAME's lstat when it is a symbolic link this walk may follow; null when
   * it is not a link. Another user's link is refused: `itself` says that it
   * is the very name given (the message then says "it").
   */
  linkToFollow(name: string, shown: string, itself: boolean): BigIntStats | null {
    const info = lstatIn(this.fd, name, shown);
    if (info === null || !info.isSymbolicLink()) return null;
    if (info.uid !== BigInt(this.me) && info.uid !== 0n) {
      const what = itself ? 'it is' : `${shown} is`;
      throw new PathRefused(`${what} a symbolic link of another user (uid ${info.uid}), which orphanmap never follows; name ${itself ? 'the file itself' : 'a path without it'}`);
    }
    if (++this.links > MAX_LINKS) throw new PathRefused(`${shown}: too many symbolic links (more than ${MAX_LINKS})`, 'ELOOP');
    return info;
  }

  /**
   * Whether the directory reached is in /proc. Its links (/proc/self,
   * /proc/self/fd/N) are not text to walk: fd 1 of a pipe reads "pipe:[123]".
   * No one can plant a link there, and each belongs to the process it
   * describes, so one that passes the owner check is followed by the kernel.
   */
  inProc(): boolean {
    return statfsSync(`/proc/self/fd/${this.fd}`).type === PROC_SUPER_MAGIC;
  }

  /**
   * The text of the link NAME, `seen` by lstat. Read through the directory's
   * descriptor, and checked to be still the same link after: a link renamed
   * away, another put there and read, then the first renamed back, changes
   * the first one's ctime, which no user can set back. Not in /proc, where
   * no one can rename a link and an entry's inode may be made anew.
   */
  readLink(name: string, seen: BigIntStats, shown: string): string {
    let text: string;
    try {
      text = readlinkSync(through(this.fd, name));
    } catch (error) {
      throw refusal(error, shown);
    }
    if (this.inProc()) return text;
    const after = lstatIn(this.fd, name, shown);
    if (after === null || after.ino !== seen.ino || after.dev !== seen.dev || after.ctimeNs !== seen.ctimeNs) {
      throw new PathRefused(`${shown} was replaced while it was read; nothing was written`);
    }
    return text;
  }

  private moveTo(fd: number, shown: string): void {
    closeSync(this.fd);
    this.fd = fd;
    this.shownDir = shown;
  }
}

/** The walk to the directory that holds the last name of `path`, and that name. */
export function walkToParentOf(path: string): { walk: PathWalk; last: string } {
  const { dirs, last } = splitLast(path);
  const walk = PathWalk.startOf(path);
  try {
    walk.enterAll(dirs);
  } catch (error) {
    walk.close();
    throw error;
  }
  return { walk, last };
}

/** The directory `path`, open: every component walked as PathWalk does. */
export function openDirectorySafely(path: string): number {
  const walk = PathWalk.startOf(path);
  try {
    walk.enterAll(componentsOf(path));
    return openDirectory(`/proc/self/fd/${walk.dirFd}`, path);
  } finally {
    walk.close();
  }
}

function openDirectory(path: string, shown: string): number {
  try {
    return openSync(path, DIRECTORY);
  } catch (error) {
    throw refusal(error, shown);
  }
}

function lstatIn(dirFd: number, name: string, shown: string): BigIntStats | null {
  try {
    return lstatSync(through(dirFd, name), { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw refusal(error, shown);
  }
}

function refusal(error: unknown, shown: string): PathRefused {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such directory' : `cannot open ${shown} (${describeSystemError(error)})`;
  return new PathRefused(why, code, { cause: error });
}
