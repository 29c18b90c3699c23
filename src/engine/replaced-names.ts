// Files that lost a name where the trace does not show it, after they were
// mapped. bpftrace reports the inode each open reached: when an open of a
// name reaches another inode than the file the trace knew by that name, a
// process the trace does not follow removed or replaced that file (a rename
// over it: postmap rebuilding a cdb table, doveadm a Dovecot cache, a deploy,
// a package upgrade), or renamed it elsewhere. strace -y prints "(deleted)"
// in a close's fd annotation when the fd's file has lost its name. Either
// way, each mapping of the file made since the trace last saw an open reach
// it by a name (or an mmap whose -y annotation named it so; or live then) may have outlived it: a doubt, not a finding,
// since the trace cannot say when the name went, nor whether the file kept
// another (review 22, Postfix: workers exited holding a table postmap had
// replaced; review 23, Dovecot under bpftrace and journalctl under strace:
// mappings unmapped seconds after their files went, the usual order being
// munmap, then close; each read as clean, exit 0).
//
// A bundle's maps-start-gone.txt says the same of a file its process mapped
// before the trace, found gone right after that process exited: the copies
// its fork children held and gave up before that exit are in doubt (review
// 23, D6: a shell's subshells held a removed catalog unseen).
//
// Unmapped mappings count too: the trace does not say whether the removal
// came before the munmap. So a file mapped briefly by many processes (the
// loader's ld.so.cache at every exec) and replaced during the capture
// (ldconfig) makes a doubt of its last mapping. The file, once forgotten (no
// fd, no mapping left), leaves its count behind under each of its names,
// until the trace sees the name reach it again, removes or renames it, or an
// open sees it reach another.
import type { EventBase, Inode } from '../parse/events.js';
import { sameInode } from './inode.js';

/**
 * Per process id, its mappings of a file made or live since the trace last
 * saw an open reach it by a name; under UNNAMED_HOLDERS, those of processes
 * past the first few (FileNode.heldBy).
 */
export type HeldSince = Map<number, number>;

/** The key of HeldSince's count of mappings in processes it does not name: no process has id 0. */
export const UNNAMED_HOLDERS = 0;

/** A mapping in doubt (ReplacedNames.inDoubt): its process, its name, and its file where the doubt knows it. */
export interface DoubtOfFile {
  pid: number;
  name: string;
  file: { dev: number; ino: number } | null;
}

interface Left {
  inode: Inode;
  held: HeldSince;
}

interface Doubt {
  /**
   * How it was seen: an open reached another inode, a close showed the file "(deleted)" (strace -y) or with
   * a link count of 0 (bpftrace), or the capture found it gone once a process exited.
   */
  how: 'replaced' | 'closed' | 'closed-nameless' | 'gone-at-exit' | 'deleted-at-end';
  name: string;
  dev: number;
  /** The open that reached another inode: `file:line`, and its process. */
  at: string;
  openerPid: number;
  was: number;
  /** The old file's generation, where the trace gave it: a sighting of its number with another is not of it. */
  wasGen?: number;
  now: number;
  /** The generation of the file the open reached, where the trace gave it. */
  nowGen?: number;
  /** The call whose fd showed it gone (`closed`, `closed-nameless`): a close, or an mmap through a kept fd (review 61, F-5). */
  call?: string;
  held: HeldSince;
  /** The old file's inode number may have gone to another file since (numberMayBeReused): a sighting of it settles nothing. */
  numberFreed?: boolean;
}

/** Doubts told in the warning; the others are counted. */
const DOUBTS_SHOWN = 5;
/** Processes named per doubt (a shell's fork children may be hundreds); the others are counted. */
const HOLDERS_SHOWN = 5;

export class ReplacedNames {
  /** Names of forgotten files whose count was not zero. */
  private readonly left = new Map<string, Left>();
  private readonly doubts: Doubt[] = [];

  /** A forgotten file with mappings held since it was last seen by name: kept under each name. */
  leave(names: Iterable<string>, inode: Inode, held: HeldSince): void {
    for (const name of names) this.left.set(name, { inode, held });
  }

  /** The trace removed, renamed or linked the name: what it shows from here on is the trace's to follow. */
  forget(name: string): void {
    if (this.left.size > 0) this.left.delete(name);
  }

  /**
   * An open of `name` reached `inode`. `known`: the count of the file the
   * trace knows by that name and its inode, and whether the open reached it
   * (Files.openedInode), when it knows one (else the count a forgotten file
   * left). The same file is a sighting: Files.opened starts its count again.
   */
  opened(name: string, inode: Inode, known: { inode: Inode; held: HeldSince | null; reached: boolean } | undefined, event: EventBase, openerPid: number): void {
    const was = known ?? this.left.get(name);
    if (was === undefined) return;
    if (known === undefined) this.left.delete(name);
    if (known === undefined ? sameInode(was.inode, inode) : known.reached) return;
    if (was.held !== null && total(was.held) > 0) {
      const doubt: Doubt = { how: 'replaced', name, dev: was.inode.dev, at: `${event.place.file}:${event.place.line}`, openerPid, was: was.inode.ino, now: inode.ino, held: was.held };
      if (was.inode.gen !== undefined) doubt.wasGen = was.inode.gen;
      if (inode.gen !== undefined) doubt.nowGen = inode.gen;
      this.doubts.push(doubt);
    }
  }

  /**
   * A close (by process `closerPid`, at `event`) showed the file of `name` "(deleted)", or with no name left
   * (`nameless`: a link count of 0), none of its mappings live: see Files.closedGoneUnmapped.
   */
  goneAtClose(name: string, held: HeldSince, event: EventBase, closerPid: number, nameless: boolean, call: string): void {
    this.doubts.push({ how: nameless ? 'closed-nameless' : 'closed', name, dev: -1, at: `${event.place.file}:${event.place.line}`, openerPid: closerPid, was: 0, now: 0, held, call });
  }

  /**
   * A snapshot (its line at `place`) shows the file of `name` gone: maps-start-gone.txt
   * once process `pid` had exited (Mappings.goneFromOthers), or `pid`'s maps at the end (Mappings.deletedAtEnd).
   */
  goneOutOfSight(name: string, held: HeldSince, place: { file: string; line: number }, how: 'gone-at-exit' | 'deleted-at-end', pid: number): void {
    this.doubts.push({ how, name, dev: -1, at: `${place.file}:${place.line}`, openerPid: pid, was: 0, now: 0, held });
  }

  /**
   * A later call showed the file of `inode` with a name still (a link count of 1 or more): if it is the old file,
   * renamed elsewhere, not removed. Its number alone tells that only while no other file can have taken it; the same
   * generation tells it whatever the number went through.
   */
  settle(inode: Inode): void {
    for (let k = this.doubts.length - 1; k >= 0; k--) {
      const doubt = this.doubts[k]!;
      if (doubt.dev !== inode.dev || doubt.was !== inode.ino) continue;
      const same = doubt.wasGen === undefined || inode.gen === undefined ? undefined : doubt.wasGen === inode.gen;
      if (same === true || (same === undefined && doubt.numberFreed !== true)) this.doubts.splice(k, 1);
    }
  }

  /** The old file of inode `ino` was let go by all: a file that shows that number later may be another (Files.opened). */
  numberMayBeReused(dev: number, ino: number): void {
    for (const doubt of this.doubts) if (doubt.dev === dev && doubt.was === ino) doubt.numberFreed = true;
  }

  /**
   * Each mapping in doubt, by its process and its file's name, but those a
   * finding of that process and name covers (`found`: a later sign, a link
   * count of 0 or maps-end.txt, showed the file gone while it was mapped).
   */
  inDoubt(found: (pid: number, name: string) => boolean): DoubtOfFile[] {
    const doubts: DoubtOfFile[] = [];
    for (const doubt of this.doubts) {
      // The old file, where the open that showed it replaced names it (a close's or the exit's doubt does not).
      const file = doubt.how === 'replaced' ? { dev: doubt.dev, ino: doubt.was } : null;
      for (const [pid, mappings] of doubt.held) {
        if (mappings <= 0 || found(pid, doubt.name)) continue;
        for (let k = 0; k < mappings; k++) doubts.push({ pid, name: doubt.name, file });
      }
    }
    return doubts;
  }

  /** The doubts, in plain words for a report's warning: one, naming each name and the processes that held its file. */
  notes(found: (pid: number, name: string) => boolean): string[] {
    const told: string[] = [];
    let count = 0;
    for (const doubt of this.doubts) {
      const holders = [...doubt.held].filter(([pid, mappings]) => mappings > 0 && !found(pid, doubt.name));
      if (holders.length === 0) continue;
      if (count++ >= DOUBTS_SHOWN) continue;
      const who = holdersText(holders);
      const were = holders.length === 1 && holders[0]![1] === 1 ? 'was' : 'were';
      told.push(`${howSeen(doubt)}${who} ${were} made since the trace last saw that name reach it`);
    }
    if (count === 0) return [];
    if (count > DOUBTS_SHOWN) told.push(`and ${count - DOUBTS_SHOWN} more names`);
    return [
      `A mapped file lost a name where the trace does not show it: ${told.join('; ')}. A process the trace does not follow replaced or removed the file ` +
        '(a rename over it, as postmap, a deploy or a package upgrade do), or renamed it elsewhere; the trace cannot tell which, nor when (before or after an munmap), ' +
        'so each such mapping may have outlived its file: in doubt. On the host, look for "(deleted)" in /proc/PID/maps; ' +
        'capture the process that replaces the file as well (under the same capture, or bpftrace on its parent)',
    ];
  }

  /** The names notes() gives, to be hashed whole under --redact. */
  paths(): string[] {
    return this.doubts.slice(0, DOUBTS_SHOWN).map((doubt) => doubt.name);
  }
}

/** "a mapping in process 7 and 2 mappings in process 9", the first HOLDERS_SHOWN processes named. */
function holdersText(holders: readonly [number, number][]): string {
  const named = holders.filter(([pid]) => pid !== UNNAMED_HOLDERS);
  const told = named.slice(0, HOLDERS_SHOWN).map(([pid, mappings]) => `${mappings === 1 ? 'a mapping' : `${mappings} mappings`} in process ${pid}`);
  const rest = named.slice(HOLDERS_SHOWN);
  if (rest.length > 0) {
    let mappings = 0;
    for (const [, count] of rest) mappings += count;
    told.push(`${mappings === 1 ? 'a mapping' : `${mappings} mappings`} in ${rest.length === 1 ? '1 more process' : `${rest.length} more processes`}`);
  }
  const unnamed = holders.find(([pid]) => pid === UNNAMED_HOLDERS)?.[1] ?? 0;
  if (unnamed > 0) told.push(`${unnamed === 1 ? 'a mapping' : `${unnamed} mappings`} in other processes`);
  return told.join(' and ');
}

/** How a doubt came to be, in words that go on with "of which a mapping in process N was made…". */
function howSeen(doubt: Doubt): string {
  switch (doubt.how) {
    case 'replaced':
      // One number, two generations: the file the trace knew was removed, and a file made since took its number.
      if (doubt.now === doubt.was && doubt.nowGen !== undefined && doubt.wasGen !== undefined) {
        return `the open of ${doubt.name} at ${doubt.at} (process ${doubt.openerPid}) reached inode ${doubt.now} of generation ${doubt.nowGen}, not ${doubt.wasGen}: a file made since, which took the number of the file the trace knew by that name once that one was removed, and of which `;
      }
      return `the open of ${doubt.name} at ${doubt.at} (process ${doubt.openerPid}) reached inode ${doubt.now}, not inode ${doubt.was}, the file the trace knew by that name, of which `;
    case 'closed':
      return `the ${doubt.call} at ${doubt.at} (process ${doubt.openerPid}) shows ${doubt.name} "(deleted)", which no call in the trace removed, and of which `;
    case 'closed-nameless':
      return `the ${doubt.call} at ${doubt.at} (process ${doubt.openerPid}) shows ${doubt.name} with no name left (link count 0), which no call in the trace removed, and of which `;
    case 'gone-at-exit':
      return `right after process ${doubt.openerPid} exited, the capture found ${doubt.name} gone from its name (${doubt.at}), which no call in the trace removed, and of which `;
    case 'deleted-at-end':
      return `process ${doubt.openerPid}'s maps at the end show ${doubt.name} deleted (${doubt.at}), which no call in the trace removed, and of which `;
  }
}

/** How many mappings `held` counts, in all its processes. */
export function total(held: HeldSince): number {
  let sum = 0;
  for (const mappings of held.values()) sum += mappings;
  return sum;
}
