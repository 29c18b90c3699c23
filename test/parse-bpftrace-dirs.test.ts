// The real directories of opened files (issue #10): orphanmap.bt's `dir`
// records and an open's `dir=`, on a real capture (test/fixtures/bpftrace/symlink-dir/README.md).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OpenEvent, TraceEvent } from '../src/parse/events.js';
import { BpftraceReader, RealDirectories, parseBpftraceLine } from '../src/parse/bpftrace.js';
import { nameTag } from '../src/parse/bpftrace-dirs.js';
import type { RealDirRef } from '../src/parse/bpftrace-line.js';
import { readLines } from './support/trace-text.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`fixtures/bpftrace/${name}`, import.meta.url)), 'utf8');
const SYMLINK_DIR = fixture('symlink-dir/trace.bt.txt');

/** Lines of the capture, by what they contain. */
function line(containing: string): string {
  const found = SYMLINK_DIR.split('\n').find((text) => text.includes(containing));
  if (found === undefined) throw new Error(`no line with ${containing}`);
  return found;
}

function opens(events: TraceEvent[]): OpenEvent[] {
  return events.filter((event): event is OpenEvent => event.kind === 'open');
}

function read(text: string): { events: TraceEvent[]; reader: BpftraceReader } {
  const reader = new BpftraceReader('trace.bt.txt');
  return { ...readLines(reader, text.endsWith('\n') ? text.slice(0, -1) : text), reader };
}

describe('bpftrace dir records', () => {
  it('reads a directory: its id, its parent, and its name from the hex of its bytes', () => {
    expect(parseBpftraceLine(line('len=4 name=7265616c'), 1, 'x')).toEqual({
      type: 'dir',
      dir: { id: 0xd2b11b8715000000n, up: 0x89a1a71a3d000000n, name: 'real', cut: false },
    });
  });

  it('reads the root of a mount as a directory without a name of its own', () => {
    const record = parseBpftraceLine(line('dir id=0xa5e1ed4e49000000'), 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { id: 0xa5e1ed4e49000000n, name: null, cut: false } });
  });

  it('reads a directory whose parent is the process root as up=0', () => {
    expect(parseBpftraceLine(line('name=746d7000'), 1, 'x')).toMatchObject({ type: 'dir', dir: { up: 0n, name: 'tmp' } });
  });

  it('marks a name longer than the 64 bytes a record holds as cut', () => {
    const record = parseBpftraceLine(`5 0 1 1 dir id=0x100 up=0x0 len=70 name=61${'61'.repeat(63)}`, 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { name: null, cut: true } });
  });

  it('decodes a name as UTF-8, like the paths of other records', () => {
    const record = parseBpftraceLine(`5 0 1 1 dir id=0x100 up=0x0 len=6 name=64c3a96ac3a0${'0'.repeat(116)}`, 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { name: 'déjà' } });
  });

  it('counts a dir record whose name is not hex as unreadable', () => {
    expect(parseBpftraceLine('5 0 1 1 dir id=0x100 up=0x0 len=3 name=tmp', 1, 'x')).toMatchObject({ type: 'diagnostic' });
    expect(parseBpftraceLine('5 0 1 1 dir id=0x100 len=3 name=746d70', 1, 'x')).toMatchObject({ type: 'diagnostic' });
  });

  it("reads an open's dir= as the directory's id, a tag of the file's name there, and in the low byte its length", () => {
    // dir=0xd2b11b871514c707: the directory 0xd2b11b8715000000, the tag 0x14c7, 7 bytes.
    const record = parseBpftraceLine(line('path=/tmp/omw-symlink/link/abs.map'), 1, 'x');
    expect(record).toMatchObject({ type: 'event', realDir: { id: 0xd2b11b8715000000n, nameTag: 0x14c7, nameBytes: 7 }, event: { kind: 'open', path: '/tmp/omw-symlink/link/abs.map' } });
  });

  it('tags a name as the kernel-side program did (every open of the capture)', () => {
    // The tag orphanmap.bt computed in the kernel from the dentry's own name, against ours from the
    // name the process gave, for every open whose last component is the file's own name.
    let checked = 0;
    for (const text of SYMLINK_DIR.split('\n')) {
      const match = / dir=0x([0-9a-f]+) path=(.*)$/.exec(text);
      if (match === null || match[1] === '0') continue;
      const dir = BigInt(`0x${match[1]}`);
      const base = Buffer.from(match[2]!.slice(match[2]!.lastIndexOf('/') + 1), 'utf8');
      // A symlink to a file (libz.so.1 → libz.so.1.2.13): the kernel's name is another one.
      if (Number(dir & 0xffn) !== base.length) continue;
      if (match[2]!.endsWith('/a/one.map')) {
        // A symlink to two.map: the kernel's tag is two.map's.
        expect(Number((dir >> 8n) & 0xffffn)).toBe(nameTag(Buffer.from('two.map')));
        expect(nameTag(base)).not.toBe(nameTag(Buffer.from('two.map')));
        continue;
      }
      expect(Number((dir >> 8n) & 0xffffn), text).toBe(nameTag(base));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('reads an open without dir= (captures made before it) as before', () => {
    const old = line('path=/tmp/omw-symlink/link/abs.map').replace(/ dir=0x[0-9a-f]+/, '');
    const record = parseBpftraceLine(old, 1, 'x');
    expect(record.type).toBe('event');
    expect(record).not.toHaveProperty('realDir');
  });
});

describe('the real path of an opened file', () => {
  it('gives each open through a symlink the path the kernel resolved, the one /proc/PID/maps shows', () => {
    const { events, reader } = read(SYMLINK_DIR);
    const hints = new Map(
      opens(events)
        .filter((open) => open.path.includes('omw-symlink') || open.path === 'rel.map')
        .map((open) => [open.path, open.resolvedHint]),
    );
    // README.md beside the capture: the (deleted) lines of /proc/self/maps.
    expect(hints).toEqual(
      new Map([
        ['rel.map', '/tmp/omw-symlink/real/rel.map'],
        ['/tmp/omw-symlink/link/abs.map', '/tmp/omw-symlink/real/abs.map'],
        ['/tmp/omw-symlink/shm/s.map', '/dev/shm/omw-symlink/s.map'],
        ['/tmp/omw-symlink/link/same.map', '/tmp/omw-symlink/real/same.map'],
        ['/tmp/omw-symlink/real/one.map', '/tmp/omw-symlink/real/one.map'],
        ['/tmp/omw-symlink/real/two.map', '/tmp/omw-symlink/real/two.map'],
        // A symlink to two.map, a name of the same length: the real name is not known, and
        // /tmp/omw-symlink/real/one.map (another file) must not be taken for it.
        ['/tmp/omw-symlink/a/one.map', undefined],
      ]),
    );
    expect(reader.warnings()).toEqual([]);
  });

  it('gives an open outside any symlink its own path back', () => {
    const { events } = read(SYMLINK_DIR);
    const libc = opens(events).find((open) => open.path === '/lib/x86_64-linux-gnu/libc.so.6');
    // /lib is a symlink to usr/lib on Debian 12.
    expect(libc?.resolvedHint).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
    const script = opens(events).find((open) => open.path.endsWith('/symlink-dir/work.py'));
    expect(script?.resolvedHint).toBe(script?.path);
  });

  it('still resolves an open whose dir records arrive after it (another CPU), within the reorder window', () => {
    const dirs = ['len=3 name=746d7000', 'up=0x8ce5e63ef6000000 len=11', 'len=4 name=7265616c'].map(line);
    const open = line('path=/tmp/omw-symlink/link/abs.map');
    const { events } = read([open, ...dirs].join('\n'));
    expect(opens(events)[0]!.resolvedHint).toBe('/tmp/omw-symlink/real/abs.map');
  });

  it('leaves an open without its directory described (a lost record) to the name the process gave', () => {
    const { events, reader } = read(line('path=/tmp/omw-symlink/link/abs.map'));
    expect(opens(events)[0]!.resolvedHint).toBeUndefined();
    expect(reader.warnings().join('\n')).not.toContain('directories');
  });

  it('keeps an old capture without dir records as it was read before', () => {
    const { events } = read(fixture('python-segments.txt'));
    expect(opens(events).length).toBeGreaterThan(0);
    expect(opens(events).filter((open) => open.resolvedHint !== undefined)).toEqual([]);
  });

  it('warns when a directory name was too long to describe', () => {
    const { reader } = read(`5 0 1 1 dir id=0x100 up=0x0 len=80 name=61${'61'.repeat(63)}`);
    expect(reader.warnings().join('\n')).toContain('1 directories have names longer than 64 bytes');
  });
});

describe('RealDirectories', () => {
  const dirs = (): RealDirectories => {
    const table = new RealDirectories();
    table.describe({ id: 0x100n, up: 0n, name: 'data', cut: false });
    table.describe({ id: 0x200n, up: 0x100n, name: 't-0', cut: false });
    return table;
  };

  it('joins the names up to the process root', () => {
    expect(dirs().pathOf(0x200n)).toBe('/data/t-0');
    expect(dirs().realPath('/kafka/t-0/0.index', { id: 0x200n, nameBytes: 7, nameTag: nameTag(Buffer.from('0.index')) })).toBe('/data/t-0/0.index');
  });

  it('follows a renamed directory once it is described again', () => {
    const table = dirs();
    table.describe({ id: 0x200n, up: 0x100n, name: 't-0.abc-delete', cut: false });
    expect(table.pathOf(0x200n)).toBe('/data/t-0.abc-delete');
  });

  it('gives no path when a step is unknown, or the chain loops', () => {
    const table = dirs();
    table.describe({ id: 0x300n, up: 0x999n, name: 'x', cut: false });
    expect(table.pathOf(0x300n)).toBeNull();
    table.describe({ id: 0x400n, up: 0x500n, name: 'a', cut: false });
    table.describe({ id: 0x500n, up: 0x400n, name: 'b', cut: false });
    expect(table.pathOf(0x400n)).toBeNull();
  });

  it('gives no path when the last name the process gave is not the one the kernel found (a symlink to a file)', () => {
    expect(dirs().realPath('/data/t-0/link-to-index', { id: 0x200n, nameBytes: 7, nameTag: nameTag(Buffer.from('0.index')) })).toBeNull();
    // The same length, another name: the tag tells them apart.
    expect(dirs().realPath('/data/t-0/1.index', { id: 0x200n, nameBytes: 7, nameTag: nameTag(Buffer.from('0.index')) })).toBeNull();
  });

  it('reads a file directly under the root', () => {
    // Captured: python3 chroot()s into a directory and maps /f.map there (orphanmap.bt, bpftrace 0.17):
    // the directory is the process's root, id 0.
    const open = '16440693756107 0 18603 18603 open sys=openat ret=3 dfd=-100 flags=0x80042 ino=2302532 dev=266338304 dir=0x6aa305 path=/f.map';
    const record = parseBpftraceLine(open, 1, 'x');
    expect(record).toMatchObject({ type: 'event', realDir: { id: 0n, nameTag: 0x6aa3, nameBytes: 5 } });
    const table = new RealDirectories();
    expect(table.realPath('/f.map', (record as { realDir: RealDirRef }).realDir)).toBe('/f.map');
  });
});

/** The reference: the tag in 64-bit bigints, step by step as the script's comment says (nameTag computed it so before). */
function nameTagByBigints(bytes: Uint8Array): number {
  const U64 = (1n << 64n) - 1n;
  let hash = 0xcbf29ce484222325n;
  for (let at = 0; at < bytes.length; at += 8) {
    let word = 0n;
    for (let k = Math.min(7, bytes.length - at - 1); k >= 0; k--) word = (word << 8n) | BigInt(bytes[at + k]!);
    hash = ((hash ^ word) * 0x100000001b3n) & U64;
  }
  return Number((((hash ^ (hash >> 32n)) * 0x9e3779b97f4a7c15n) & U64) >> 48n);
}

describe("a name's tag in 32-bit words", () => {
  it('is the tag the 64-bit arithmetic gives, for any bytes', () => {
    for (const text of ['', 'a', 'two.map', '00000000000000000000.index', 'é', '\xff'.repeat(64)]) expect(nameTag(Buffer.from(text, 'latin1'))).toBe(nameTagByBigints(Buffer.from(text, 'latin1')));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(nameTag(bytes)).toBe(nameTagByBigints(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the paths of described directories', () => {
  it('follow a directory described again: renamed, or moved under another', () => {
    const table = new RealDirectories();
    table.describe({ id: 0x100n, up: 0n, name: 'data', cut: false });
    table.describe({ id: 0x200n, up: 0x100n, name: 'topic-0', cut: false });
    expect(table.pathOf(0x200n)).toBe('/data/topic-0');
    // Kafka renames a deleted partition's directory: the same directory, a new name.
    table.describe({ id: 0x200n, up: 0x100n, name: 'topic-0.abc-delete', cut: false });
    expect(table.pathOf(0x200n)).toBe('/data/topic-0.abc-delete');
    // Its parent renamed: the path under it changes too.
    table.describe({ id: 0x100n, up: 0n, name: 'data2', cut: false });
    expect(table.pathOf(0x200n)).toBe('/data2/topic-0.abc-delete');
    // A step no longer known (cut): no path.
    table.describe({ id: 0x100n, up: 0n, name: null, cut: true });
    expect(table.pathOf(0x200n)).toBeNull();
  });
});
