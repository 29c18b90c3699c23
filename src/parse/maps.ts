// /proc/PID/maps: one line in, one mapping out. Pure: no I/O, no exceptions for
// bad input. Used by `scan` on a live /proc and to seed the engine from the maps
// snapshots of a capture bundle.
//
// The kernel prints each line with show_vma_header_prefix() (fs/proc/task_mmu.c):
//   "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " and then, when the mapping has a
//   name, pads with spaces to a fixed column and writes the name. What the name
//   can hold, and what it cannot tell:
//   - a file path, from d_path(): spaces are kept as they are, a newline is printed
//     as the four characters \012, and nothing else is escaped, so other control
//     characters reach us raw;
//   - " (deleted)" appended by d_path() when the dentry was unlinked. A file really
//     named "x (deleted)" cannot be told apart from a deleted "x" by text alone
//     (scan asks the kernel for its links: linkVerdict in src/scan/aggregate.ts);
//   - pseudo names: [heap], [stack], [vdso], [vvar], [vsyscall], [anon:NAME],
//     [anon_shmem:NAME], and objects that were never linked anywhere but print as
//     deleted: /dev/zero (deleted) (MAP_SHARED|MAP_ANONYMOUS), /memfd:NAME (deleted),
//     /SYSV0000002a (deleted) (System V shm), /[aio] (deleted), and an O_TMPFILE
//     file never linked anywhere: d_tmpfile() names its dentry "#<inode>" in the
//     directory it was opened in, so it prints as /tmp/#2147256 (deleted).

export interface MapsEntry {
  /** Start address. Page-aligned, so exact as a double even above 2^53 ([vsyscall]). */
  start: number;
  /** End address, exclusive. */
  end: number;
  /** Four characters: r/w/x and p (private) or s (shared). */
  perms: string;
  /** Offset into the file, in bytes. */
  offset: number;
  /** Device as printed, "major:minor" in hex, e.g. "fe:00". */
  dev: string;
  /** Inode number; 0 for anonymous mappings. */
  inode: number;
  /** The name without the " (deleted)" suffix, as the kernel printed it; "" for anonymous. */
  path: string;
  /** The kernel appended " (deleted)": the name's dentry was unlinked. */
  deleted: boolean;
}

/** What a " (deleted)" name stands for: a real file that was unlinked, or a kernel object that never had a name. */
export type DeletedKind = 'file' | 'shared-anonymous' | 'memfd' | 'sysv-shm' | 'aio' | 'tmpfile';

export interface BadMapsLine {
  line: number;
  text: string;
}

export interface ParsedMaps {
  entries: MapsEntry[];
  /** Lines that are not blank and could not be read. */
  badLines: number;
  /** The first few of them, with 1-based line numbers. */
  badSamples: BadMapsLine[];
}

export const DELETED_SUFFIX = ' (deleted)';
const MAX_BAD_SAMPLES = 5;
const HEX = /^[0-9a-f]+$/;
const DEV = /^[0-9a-f]+:[0-9a-f]+$/;
const DECIMAL = /^[0-9]+$/;
/**
 * A part of a file name made to differ (mkstemp's XXXXXX, a hex id): six
 * letters and digits or more with a digit among them, but not a word and a
 * version of one or two digits (`sqlite3`, `Lucene90`).
 */
const RANDOM_PART = /^(?![A-Za-z]+[0-9]{1,2}$)(?=[A-Za-z]*[0-9])[A-Za-z0-9]{6,}$/;
const PERMS = /^[r-][w-][x-][ps]$/;
const NOT_A_MAPS_LINE = 'not "START-END PERMS OFFSET DEV INODE [NAME]"';

/** One line of /proc/PID/maps, or null when it is not one (readMapsLine says why). */
/** Where a maps line too long to keep whole is cut: its start, this, and its end (scan's reader, a bundle's snapshots). */
export const ELISION = '…';

export function parseMapsLine(text: string): MapsEntry | null {
  const entry = readMapsLine(text);
  return typeof entry === 'string' ? null : entry;
}

/** Hex digits of a 64-bit value: more is no address the kernel prints. */
const MAX_HEX_DIGITS = 16;
/** Pages are 4 KiB or a multiple of it: the kernel prints every start and end on a page boundary (its last three hex digits 0). */
function onPageBoundary(hex: string): boolean {
  const n = hex.length;
  return n >= 3 ? hex.charCodeAt(n - 1) === 0x30 && hex.charCodeAt(n - 2) === 0x30 && hex.charCodeAt(n - 3) === 0x30 : /^0+$/.test(hex);
}
/** The top of the user address space with 5-level page tables (2^56; 2^47 with 4-level). */
const USER_SPACE_END = 2 ** 56;

/**
 * One line of /proc/PID/maps, or what is wrong with it. A line the kernel
 * could not have printed is not one: a range that is empty or ends before it
 * starts, an address of more than 64 bits, off a page boundary, or beyond
 * the user address space (but for [vsyscall], the page the kernel maps at
 * ffffffffff600000 in every x86-64 process). A crafted line such as
 * `0-ffffffffffffffff` would otherwise hold every address, and be taken for
 * the line of any finding.
 */
export function readMapsLine(text: string): MapsEntry | string {
  // 7f87db600000-7f87dc000000 rw-s 00000000 fe:00 2164443                    /tmp/t-1/00000000000000001000.timeindex.deleted (deleted)
  // ^^^^^^^^^^^^ ^^^^^^^^^^^^ ^^^^ ^^^^^^^^ ^^^^^ ^^^^^^^                    ^^^^^^^^ path (to end of line; may hold spaces)
  // start        end          perms offset dev   inode
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  const dash = line.indexOf('-');
  const s1 = line.indexOf(' ', dash + 1);
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  const s4 = s3 < 0 ? -1 : line.indexOf(' ', s3 + 1);
  if (dash <= 0 || s4 < 0) return NOT_A_MAPS_LINE;
  let s5 = line.indexOf(' ', s4 + 1);
  if (s5 < 0) s5 = line.length; // an anonymous mapping on a kernel that does not print the trailing space

  const startHex = line.slice(0, dash);
  const endHex = line.slice(dash + 1, s1);
  const perms = line.slice(s1 + 1, s2);
  const offsetHex = line.slice(s2 + 1, s3);
  const dev = line.slice(s3 + 1, s4);
  const inodeText = line.slice(s4 + 1, s5);
  if (!HEX.test(startHex) || !HEX.test(endHex) || !HEX.test(offsetHex)) return NOT_A_MAPS_LINE;
  if (!PERMS.test(perms) || !DEV.test(dev) || !DECIMAL.test(inodeText)) return NOT_A_MAPS_LINE;
  if (startHex.length > MAX_HEX_DIGITS || endHex.length > MAX_HEX_DIGITS || offsetHex.length > MAX_HEX_DIGITS) return 'a number of more than 64 bits';
  // Told from the text: above 2^53 a double has lost the low bits (ffffffffffffffff reads as 2^64).
  if (!onPageBoundary(startHex) || !onPageBoundary(endHex)) return 'an address off a page boundary';
  const start = parseInt(startHex, 16);
  const end = parseInt(endHex, 16);
  if (end <= start) return 'the range is empty or ends before it starts';

  // The name starts after the padding. Every name the kernel prints begins with
  // "/" or "[" (or "anon_inode:" and the like), never with a space, so skipping
  // all spaces is exact; spaces inside the name are kept.
  let nameAt = s5;
  while (nameAt < line.length && line.charCodeAt(nameAt) === 0x20) nameAt++;
  let path = line.slice(nameAt);
  const deleted = path.endsWith(DELETED_SUFFIX);
  if (deleted) path = path.slice(0, -DELETED_SUFFIX.length);
  if (end > USER_SPACE_END && path !== '[vsyscall]') return 'an address beyond the user address space';

  return {
    start,
    end,
    perms,
    offset: parseInt(offsetHex, 16),
    dev,
    inode: Number(inodeText),
    path,
    deleted,
  };
}

/** A whole maps file. Blank lines are skipped; unreadable ones are counted and sampled. */
export function parseMaps(text: string): ParsedMaps {
  const entries: MapsEntry[] = [];
  const badSamples: BadMapsLine[] = [];
  let badLines = 0;
  let from = 0;
  let lineNo = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    lineNo++;
    const line = text.slice(from, to);
    from = to + 1;
    if (line.trim() === '') continue;
    const entry = parseMapsLine(line);
    if (entry !== null) {
      entries.push(entry);
    } else {
      badLines++;
      if (badSamples.length < MAX_BAD_SAMPLES) badSamples.push({ line: lineNo, text: line });
    }
  }
  return { entries, badLines, badSamples };
}

/** Bytes of address space the mapping covers. */
export function mappingBytes(entry: MapsEntry): number {
  return entry.end - entry.start;
}

/** Lower-case hex with 0x, as the report schema writes addresses. */
export function hexAddress(address: number): string {
  return `0x${address.toString(16)}`;
}

/** The device field as numbers, e.g. "fe:00" → {major: 254, minor: 0}. */
export function parseDev(dev: string): { major: number; minor: number } | null {
  const colon = dev.indexOf(':');
  if (colon <= 0 || !DEV.test(dev)) return null;
  return { major: parseInt(dev.slice(0, colon), 16), minor: parseInt(dev.slice(colon + 1), 16) };
}

/**
 * What a deleted entry is. Only 'file' is a file that had a name and lost it
 * while mapped (the leak orphanmap looks for); the others print " (deleted)"
 * because they were never linked anywhere, and are normal.
 *
 * An O_TMPFILE file is told by its name being "#" and its own inode number:
 *   7f03870bc000-7f03870be000 rw-s 00000000 fe:00 2147256                    /tmp/#2147256 (deleted)
 *                                                 ^^^^^^^                         ^^^^^^^ the same number
 * A deleted file really named "#123" would need inode 123 to be taken for one.
 * Without the inode (a bare path), any "#<digits>" base name counts.
 *
 * The kernel's own objects live on its internal mounts, whose device numbers
 * have major 0 (shmem, the aio and anonymous inodes): `dev`, when the maps
 * line gives it, rules them out for a file on a block device, which a
 * process in its own mount namespace can make print as "/dev/zero" or
 * "/memfd:x" (review 22: 192 MiB of a real disk hidden from scan so).
 * Major 0 is also every tmpfs, overlayfs, btrfs, NFS and FUSE mount: a
 * device in `mounted` (the process's /proc/PID/mountinfo, mountedDevices)
 * is one of those, not an internal mount (review 23: a tmpfs root of one's
 * own). A mount detached since (umount -l) is in no mountinfo: left open.
 */
export function deletedKind(path: string, inode?: number, dev?: string, mounted?: ReadonlySet<string>): DeletedKind {
  const kernelObject = dev === undefined || (!onBlockDevice(dev) && mounted?.has(decimalDevice(dev)) !== true);
  if (kernelObject) {
    if (path === '/dev/zero') return 'shared-anonymous';
    if (path.startsWith('/memfd:')) return 'memfd';
    if (/^\/SYSV[0-9a-f]{8}$/.test(path)) return 'sysv-shm';
    if (path === '/[aio]') return 'aio';
  }
  if (isTmpfileName(path, inode)) return 'tmpfile';
  return 'file';
}

/**
 * "00:2a" (maps, hex) as "0:42" (mountinfo, decimal): a device a mount
 * shows is a file system's, never one of the kernel's internal mounts, which
 * no mount namespace shows (review 23: a tmpfs of one's own, major 0 too,
 * made /memfd:… names pass for kernel objects).
 */
export function decimalDevice(dev: string): string {
  const colon = dev.indexOf(':');
  return `${Number.parseInt(dev.slice(0, colon), 16)}:${Number.parseInt(dev.slice(colon + 1), 16)}`;
}

/** The devices of a /proc/PID/mountinfo text (mountDevice of each line). */
export function mountedDevices(mountinfo: string): Set<string> {
  const devices = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const device = mountDevice(line);
    if (device !== undefined) devices.add(device);
  }
  return devices;
}

/** The device of a /proc/PID/mountinfo line: its third field, "MAJOR:MINOR" in decimal. */
export function mountDevice(line: string): string | undefined {
  const device = line.split(' ', 3)[2];
  return device !== undefined && /^\d+:\d+$/.test(device) ? device : undefined;
}

/** The device is a block device's (major not 0), as "fe:00" prints it. */
function onBlockDevice(dev: string): boolean {
  const colon = dev.indexOf(':');
  return colon > 0 && !/^0+$/.test(dev.slice(0, colon));
}

function isTmpfileName(path: string, inode: number | undefined): boolean {
  const slash = path.lastIndexOf('/');
  if (slash < 0 || path.charCodeAt(slash + 1) !== 0x23 /* # */) return false;
  const digits = path.slice(slash + 2);
  if (!DECIMAL.test(digits)) return false;
  return inode === undefined || String(inode) === digits;
}

/** True for a mapping of a file that was unlinked while mapped. */
export function isDeletedFile(entry: MapsEntry): boolean {
  return entry.deleted && deletedKind(entry.path, entry.inode, entry.dev) === 'file';
}

/**
 * The group an operator thinks in, from a path: what `scan` and every report
 * (summary tables, diffs) group files by. A part that differs from file to
 * file of one kind becomes `*`; a part that says what the file is stays.
 *   /kafka-logs/t-0/00000000000000000000.index.deleted → *.index.deleted
 *   /data/nodes/0/indices/x/0/index/_1a_Lucene90_0.dvd → *.dvd
 *   /data/nodes/0/indices/x/0/index/_0.cfs             → *.cfs
 *   /queue/metadata.cq4t                               → metadata.cq4t
 *   /usr/lib/x86_64-linux-gnu/libc.so.6                 → libc.so.*
 *   /var/log/app.1.log                                 → app.*.log
 *   /tmp/hsperfdata_kafka/5958                          → hsperfdata_kafka/*
 *   /var/lib/rocksdb/MANIFEST-000005                    → MANIFEST-*
 * The suffix from the first dot of the base name says what kind of file it is
 * (Kafka index/timeindex/txnindex/log, with .deleted or .swap; Lucene's
 * per-format extensions; Chronicle's .cq4); its numeric parts (.so.6, .log.1)
 * become *, and so do random ones (RANDOM_PART: mkstemp's `varnish.4fNV3F`,
 * Varnish's segments `_.Log.13287d42820e1494`: review 61, F-4, one group per
 * file), though not a word with a version (`.sqlite3`). The stem before that
 * dot is an identifier when it holds a digit
 * or starts with `_` (a segment offset, a Lucene segment, a date, a
 * generation): it becomes *. A stem of letters is a name (libc, app,
 * metadata) and is kept, so one program's files are not lumped with every
 * other program's. A base name without a suffix keeps its text with digit
 * runs as *, and when nothing but * is left, the parent directory's name is
 * kept in front, so /tmp/hsperfdata_kafka/5958 stays recognisable.
 */
export function filePattern(path: string): string {
  if (path === '' || path.startsWith('[')) return path;
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (/^SYSV[0-9a-f]{8}$/.test(base)) return 'SYSV*';
  if (base.startsWith('memfd:')) return base;
  if (base.startsWith('.nfs')) return '.nfs*'; // NFS "silly rename" of a file unlinked while open
  const dot = base.indexOf('.', 1); // a leading dot (".nfs000123") is part of the stem
  if (dot > 0) {
    const stem = base.slice(0, dot);
    const suffix = base
      .slice(dot)
      .split('.')
      .map((part) => (DECIMAL.test(part) || RANDOM_PART.test(part) ? '*' : part))
      .join('.');
    return `${/[0-9]/.test(stem) || stem.startsWith('_') ? '*' : stem}${suffix}`;
  }
  const stem = base.replace(/[0-9]+/g, '*');
  if (stem !== '*') return stem;
  const parent = slash > 0 ? path.slice(path.lastIndexOf('/', slash - 1) + 1, slash) : '';
  return parent === '' ? '*' : `${parent}/*`;
}

/**
 * Whether `entries` are as the kernel prints them: in address order, and
 * disjoint. A file that is not (edited, hostile) has lines that overlap.
 */
export function mapsInOrder(entries: readonly Pick<MapsEntry, 'start' | 'end'>[]): boolean {
  for (let i = 0; i < entries.length; i++) if (!(entries[i]!.start < entries[i]!.end && (i === 0 || entries[i - 1]!.end <= entries[i]!.start))) return false;
  return true;
}

/**
 * The index of the first of `ranges` (in address order, apart, as maps
 * prints them) that ends after `address`: the first that may hold it or lie
 * above it; `ranges.length` if none does. A binary search.
 */
export function firstEndingAfter(ranges: readonly { end: number }[], address: number): number {
  let low = 0;
  let high = ranges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranges[middle]!.end <= address) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The line of `entries` that holds `address`, for many addresses: a capture
 * at vm.max_map_count holds 65,530 lines and as many findings may ask. The
 * kernel prints its mappings in address order and disjoint, so a binary
 * search finds the one. A file that is not in that order (edited, hostile)
 * gets the answer a scan of its lines would give: the line that starts at
 * the address, else the first that holds it, so that a line covering much
 * more never stands for the mapping's own. Found in logarithmic time too:
 * that scan, once per finding, held a 2.6 MB bundle of 50,000 lines in
 * reverse order and 2,000 findings for minutes (review 5).
 */
export function mapsLookup<E extends Pick<MapsEntry, 'start' | 'end'>>(entries: readonly E[]): (address: number) => E | undefined {
  if (!mapsInOrder(entries)) return unorderedLookup(entries);
  return (address) => {
    // The first entry that ends after the address: the only one that may hold it.
    const entry = entries[firstEndingAfter(entries, address)];
    return entry !== undefined && entry.start <= address ? entry : undefined;
  };
}

/**
 * mapsLookup of lines out of order or overlapping. The line that starts at
 * the address: the first such, by a map of starts. Else the first line
 * (lowest index) that holds it, by a segment tree over the addresses where
 * any line starts or ends, sorted once: between two neighbouring ones, every
 * address is held by the same lines. Each line marks the O(log n) nodes that
 * cover its range with its index, keeping the lowest; an address's answer is
 * the lowest mark on the path from its leaf to the root.
 */
function unorderedLookup<E extends Pick<MapsEntry, 'start' | 'end'>>(entries: readonly E[]): (address: number) => E | undefined {
  const starts = new Float64Array(entries.length);
  const ends = new Float64Array(entries.length);
  const startingAt = new Map<number, E>();
  const bounds: number[] = [];
  entries.forEach((entry, index) => {
    const start = entry.start;
    const end = entry.end;
    starts[index] = start;
    ends[index] = end;
    if (!(start < end)) return;
    if (!startingAt.has(start)) startingAt.set(start, entry);
    bounds.push(start, end);
  });
  const edges = Float64Array.from(bounds).sort();
  let count = 0;
  for (let k = 0; k < edges.length; k++) if (k === 0 || edges[k]! !== edges[k - 1]!) edges[count++] = edges[k]!;
  // Leaf k is [edges[k], edges[k + 1]).
  const leaves = Math.max(1, count - 1);
  const none = entries.length;
  const lowest = new Int32Array(2 * leaves).fill(none);
  /** The edge equal to `address`, or the last one below it (-1 when none). */
  const edgeAtOrBelow = (address: number): number => {
    let low = 0;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! <= address) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  };
  // Marked from the last line up: a lower index overwrites a higher one's mark on the same node.
  for (let index = entries.length - 1; index >= 0; index--) {
    if (!(starts[index]! < ends[index]!)) continue;
    let from = edgeAtOrBelow(starts[index]!) + leaves;
    let to = edgeAtOrBelow(ends[index]!) + leaves;
    while (from < to) {
      if (from & 1) lowest[from++] = index;
      if (to & 1) lowest[--to] = index;
      from >>= 1;
      to >>= 1;
    }
  }
  return (address) => {
    const exact = startingAt.get(address);
    if (exact !== undefined) return exact;
    const leaf = edgeAtOrBelow(address);
    if (leaf < 0 || leaf >= count - 1) return undefined;
    let found = none;
    for (let node = leaf + leaves; node >= 1; node >>= 1) found = Math.min(found, lowest[node]!);
    return entries[found];
  };
}
